using k8s.Models;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

public sealed partial class SyntheticCluster
{
    /// <summary>Converts the cluster to <c>k8s.Models</c> objects, as a watch would deliver them, for
    /// <see cref="NetPolicy.Compiler.ClusterSnapshot.Create"/>. Every field is explicit (policyTypes, protocols), so the
    /// snapshot built from them compiles to the same policy set as <see cref="ToSnapshot"/>.</summary>
    /// <returns>The objects.</returns>
    public SyntheticKubernetesObjects ToKubernetesObjects() => new(
        [.. Namespaces.Select(ToV1Namespace)],
        [.. Pods.Select(ToV1Pod)],
        [.. Policies.Select(ToV1NetworkPolicy)]);

    private static V1Namespace ToV1Namespace(NamespaceDefinition ns) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta { Name = ns.Name, Labels = ToDictionary(ns.Labels) },
    };

    private static V1Pod ToV1Pod(PodEndpoint pod) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = pod.Name, NamespaceProperty = pod.Namespace, Labels = ToDictionary(pod.Labels) },
        Spec = new V1PodSpec
        {
            NodeName = pod.NodeName,
            Containers = [.. Containers(pod).Select(c => new V1Container
            {
                Name = c.Name,
                Image = c.Image,
                Ports = [.. c.Ports.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.Port, Protocol = p.Protocol.ToKubernetesName() })],
            })],
        },
        Status = new V1PodStatus
        {
            Phase = "Running",
            PodIP = pod.Addresses.IsEmpty ? null : pod.Addresses[0].ToString(),
            PodIPs = [.. pod.Addresses.Select(a => new V1PodIP { Ip = a.ToString() })],
        },
    };

    private static V1NetworkPolicy ToV1NetworkPolicy(NetworkPolicyDefinition policy)
    {
        var types = new List<string>(2);
        if (policy.AffectsIngress)
        {
            types.Add("Ingress");
        }

        if (policy.AffectsEgress)
        {
            types.Add("Egress");
        }

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = new V1ObjectMeta { Name = policy.Name, NamespaceProperty = policy.Namespace },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = ToV1Selector(policy.PodSelector),
                PolicyTypes = types,
                Ingress = policy.AffectsIngress ? [.. policy.Ingress.Select(r => new V1NetworkPolicyIngressRule { FromProperty = ToV1Peers(r), Ports = ToV1Ports(r) })] : null,
                Egress = policy.AffectsEgress ? [.. policy.Egress.Select(r => new V1NetworkPolicyEgressRule { To = ToV1Peers(r), Ports = ToV1Ports(r) })] : null,
            },
        };
    }

    private static List<V1NetworkPolicyPeer>? ToV1Peers(NetworkPolicyRule rule) => rule.Peers.IsEmpty ? null :
    [
        .. rule.Peers.Select(p => new V1NetworkPolicyPeer
        {
            PodSelector = p.PodSelector is null ? null : ToV1Selector(p.PodSelector),
            NamespaceSelector = p.NamespaceSelector is null ? null : ToV1Selector(p.NamespaceSelector),
            IpBlock = p.IPBlock is null ? null : new V1IPBlock
            {
                Cidr = p.IPBlock.Cidr.ToString(),
                Except = p.IPBlock.Except.IsEmpty ? null : [.. p.IPBlock.Except.Select(e => e.ToString())],
            },
        }),
    ];

    private static List<V1NetworkPolicyPort>? ToV1Ports(NetworkPolicyRule rule) => rule.Ports.IsEmpty ? null :
    [
        .. rule.Ports.Select(p => new V1NetworkPolicyPort
        {
            Protocol = p.Protocol.ToKubernetesName(),
            Port = ToIntOrString(p),
            EndPort = p.EndPort,
        }),
    ];

    private static IntOrString? ToIntOrString(NetworkPolicyPort port) =>
        port.PortName is { } name ? (IntOrString)name : port.Port is int number ? (IntOrString)number : null;

    private static V1LabelSelector ToV1Selector(LabelSelector selector) => new()
    {
        MatchLabels = selector.MatchLabels.Count == 0 ? null : ToDictionary(selector.MatchLabels),
        MatchExpressions = selector.MatchExpressions.IsEmpty ? null :
        [
            .. selector.MatchExpressions.Select(e => new V1LabelSelectorRequirement
            {
                Key = e.Key,
                OperatorProperty = e.Operator.ToString(),
                Values = e.Values.IsEmpty ? null : [.. e.Values],
            }),
        ],
    };

    private static Dictionary<string, string> ToDictionary(LabelSet labels) =>
        labels.Items.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>Splits a pod's named ports into containers: the application, and a metrics exporter sidecar.</summary>
    private static IEnumerable<(string Name, string Image, IReadOnlyList<NamedPort> Ports)> Containers(PodEndpoint pod)
    {
        var app = pod.Labels.TryGetValue(AppLabel, out var a) ? a : "app";
        yield return (app, $"registry.example.com/{app}:1.0", [.. pod.NamedPorts.Where(p => p.Name != "metrics")]);
        var metrics = pod.NamedPorts.Where(p => p.Name == "metrics").ToList();
        if (metrics.Count > 0)
        {
            yield return ("exporter", "registry.example.com/exporter:1.0", metrics);
        }
    }
}
