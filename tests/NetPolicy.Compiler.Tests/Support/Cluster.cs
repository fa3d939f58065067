using System.Net;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Support;

/// <summary>Terse builders for model objects in tests.</summary>
internal static class Cluster
{
    public static PodEndpoint Pod(string ns, string name, string ip, params string[] labels) => new()
    {
        Namespace = ns,
        Name = name,
        Labels = LabelSet.Of(labels),
        Addresses = [.. ip.Split(',').Select(IPAddress.Parse)],
    };

    public static NetworkPolicyDefinition AllowIngressFrom(string ns, string name, LabelSelector target, NetworkPolicyPeer peer, params NetworkPolicyPort[] ports) => new()
    {
        Namespace = ns,
        Name = name,
        PodSelector = target,
        AffectsIngress = true,
        Ingress = [new NetworkPolicyRule { Peers = [peer], Ports = [.. ports] }],
    };

    public static NetworkPolicyDefinition AllowEgressTo(string ns, string name, LabelSelector target, NetworkPolicyPeer peer, params NetworkPolicyPort[] ports) => new()
    {
        Namespace = ns,
        Name = name,
        PodSelector = target,
        AffectsEgress = true,
        Egress = [new NetworkPolicyRule { Peers = [peer], Ports = [.. ports] }],
    };

    public static ClusterSnapshot Snapshot(IEnumerable<PodEndpoint> pods, IEnumerable<NetworkPolicyDefinition>? policies = null, IEnumerable<NamespaceDefinition>? namespaces = null) =>
        ClusterSnapshot.FromModel(namespaces ?? [], pods, policies ?? []);
}
