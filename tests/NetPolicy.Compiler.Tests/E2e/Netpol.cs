using k8s.Models;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Builds <c>networking.k8s.io/v1</c> objects for the e2e scenarios, in the shape the upstream suite's
/// <c>policies.go</c> helpers produce them.</summary>
internal static class Netpol
{
    /// <summary>The label the API server sets on every namespace to its name.</summary>
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>Starts a policy in a namespace.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="name">The policy name.</param>
    /// <param name="podSelector">The selector of the pods it applies to; <see langword="null"/> gives <c>{}</c>.</param>
    /// <returns>The builder.</returns>
    public static PolicyBuilder Policy(string ns, string name, V1LabelSelector? podSelector = null) => new(ns, name, podSelector ?? Everything());

    /// <summary>Returns the empty selector <c>{}</c>, which matches everything.</summary>
    /// <returns>The selector.</returns>
    public static V1LabelSelector Everything() => new();

    /// <summary>Returns a <c>matchLabels</c> selector.</summary>
    /// <param name="keysAndValues">Keys and values, alternating.</param>
    /// <returns>The selector.</returns>
    public static V1LabelSelector Labels(params string[] keysAndValues)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < keysAndValues.Length; i += 2)
        {
            labels[keysAndValues[i]] = keysAndValues[i + 1];
        }

        return new V1LabelSelector { MatchLabels = labels };
    }

    /// <summary>Returns a selector of one <c>matchExpressions</c> requirement.</summary>
    /// <param name="key">The label key.</param>
    /// <param name="op">The operator: <c>In</c>, <c>NotIn</c>, <c>Exists</c> or <c>DoesNotExist</c>.</param>
    /// <param name="values">The values.</param>
    /// <returns>The selector.</returns>
    public static V1LabelSelector Expression(string key, string op, params string[] values) =>
        new() { MatchExpressions = [new V1LabelSelectorRequirement { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values }] };

    /// <summary>Returns the selector of one namespace by its <c>kubernetes.io/metadata.name</c> label.</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The selector.</returns>
    public static V1LabelSelector NamespaceNamed(string ns) => Labels(NamespaceNameLabel, ns);

    /// <summary>Returns a peer with the given selectors (either may be <see langword="null"/>).</summary>
    /// <param name="podSelector">The pod selector.</param>
    /// <param name="namespaceSelector">The namespace selector.</param>
    /// <returns>The peer.</returns>
    public static V1NetworkPolicyPeer Peer(V1LabelSelector? podSelector = null, V1LabelSelector? namespaceSelector = null) =>
        new() { PodSelector = podSelector, NamespaceSelector = namespaceSelector };

    /// <summary>Returns an ipBlock peer.</summary>
    /// <param name="cidr">The CIDR.</param>
    /// <param name="except">The excluded CIDRs.</param>
    /// <returns>The peer.</returns>
    public static V1NetworkPolicyPeer IPBlock(string cidr, params string[] except) =>
        new() { IpBlock = new V1IPBlock { Cidr = cidr, Except = except.Length == 0 ? null : except } };

    /// <summary>Returns a numeric port entry; the protocol is left out (the API server defaults it to TCP) unless given.</summary>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol, or <see langword="null"/>.</param>
    /// <param name="endPort">The last port of a range, or <see langword="null"/>.</param>
    /// <returns>The entry.</returns>
    public static V1NetworkPolicyPort Port(int port, TransportProtocol? protocol = null, int? endPort = null) =>
        new() { Port = port, Protocol = protocol?.ToKubernetesName(), EndPort = endPort };

    /// <summary>Returns a named port entry.</summary>
    /// <param name="name">The container port name.</param>
    /// <param name="protocol">The protocol, or <see langword="null"/> (TCP).</param>
    /// <returns>The entry.</returns>
    public static V1NetworkPolicyPort NamedPort(string name, TransportProtocol? protocol = null) =>
        new() { Port = name, Protocol = protocol?.ToKubernetesName() };

    /// <summary>Returns a port entry naming only a protocol, which matches every port of it.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The entry.</returns>
    public static V1NetworkPolicyPort ProtocolOnly(TransportProtocol protocol) => new() { Protocol = protocol.ToKubernetesName() };

    /// <summary>Returns an ingress rule.</summary>
    /// <param name="from">The peers, or <see langword="null"/> for all.</param>
    /// <param name="ports">The ports, or <see langword="null"/> for all.</param>
    /// <returns>The rule.</returns>
    public static V1NetworkPolicyIngressRule IngressRule(IList<V1NetworkPolicyPeer>? from = null, IList<V1NetworkPolicyPort>? ports = null) =>
        new() { FromProperty = from, Ports = ports };

    /// <summary>Returns an egress rule.</summary>
    /// <param name="to">The peers, or <see langword="null"/> for all.</param>
    /// <param name="ports">The ports, or <see langword="null"/> for all.</param>
    /// <returns>The rule.</returns>
    public static V1NetworkPolicyEgressRule EgressRule(IList<V1NetworkPolicyPeer>? to = null, IList<V1NetworkPolicyPort>? ports = null) =>
        new() { To = to, Ports = ports };
}

/// <summary>Builds one <see cref="V1NetworkPolicy"/>. Like upstream <c>SetSpecIngressRules</c>/<c>SetSpecEgressRules</c>,
/// setting a direction's rules also lists that direction in <c>spec.policyTypes</c>; <see cref="DefaultPolicyTypes"/> drops
/// the field so that the API-server defaulting decides.</summary>
internal sealed class PolicyBuilder
{
    private readonly V1NetworkPolicy _policy;

    /// <summary>Initializes a builder.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="name">The name.</param>
    /// <param name="podSelector">The pod selector.</param>
    public PolicyBuilder(string ns, string name, V1LabelSelector podSelector)
    {
        _policy = new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec { PodSelector = podSelector },
        };
    }

    /// <summary>Sets the ingress rules (none: deny all ingress) and lists <c>Ingress</c> in <c>policyTypes</c>.</summary>
    /// <param name="rules">The rules.</param>
    /// <returns>This builder.</returns>
    public PolicyBuilder Ingress(params V1NetworkPolicyIngressRule[] rules)
    {
        _policy.Spec.Ingress = [.. rules];
        AddType("Ingress");
        return this;
    }

    /// <summary>Sets the egress rules (none: deny all egress) and lists <c>Egress</c> in <c>policyTypes</c>.</summary>
    /// <param name="rules">The rules.</param>
    /// <returns>This builder.</returns>
    public PolicyBuilder Egress(params V1NetworkPolicyEgressRule[] rules)
    {
        _policy.Spec.Egress = [.. rules];
        AddType("Egress");
        return this;
    }

    /// <summary>Sets <c>policyTypes</c> explicitly, in the given order.</summary>
    /// <param name="types">The types.</param>
    /// <returns>This builder.</returns>
    public PolicyBuilder PolicyTypes(params string[] types)
    {
        _policy.Spec.PolicyTypes = [.. types];
        return this;
    }

    /// <summary>Leaves <c>policyTypes</c> out, so the API server defaults it: Ingress, plus Egress when egress rules are present.</summary>
    /// <returns>This builder.</returns>
    public PolicyBuilder DefaultPolicyTypes()
    {
        _policy.Spec.PolicyTypes = null;
        return this;
    }

    /// <summary>Returns the policy.</summary>
    /// <returns>The policy.</returns>
    public V1NetworkPolicy Build() => _policy;

    /// <summary>Converts a builder to its policy.</summary>
    /// <param name="builder">The builder.</param>
    public static implicit operator V1NetworkPolicy(PolicyBuilder builder) => builder.Build();

    private void AddType(string type)
    {
        _policy.Spec.PolicyTypes ??= [];
        if (!_policy.Spec.PolicyTypes.Contains(type))
        {
            _policy.Spec.PolicyTypes.Add(type);
        }
    }
}
