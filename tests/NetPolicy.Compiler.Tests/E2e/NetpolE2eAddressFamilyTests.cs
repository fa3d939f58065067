using System.Net.Sockets;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>A few upstream selector scenarios replayed on the IPv6 and dual-stack models (selector peers do not depend
/// on the address family), and the same scenarios built from model objects with <see cref="ClusterSnapshot.FromModel"/>.</summary>
public sealed class NetpolE2eAddressFamilyTests
{
    public static TheoryData<AddressMode, AddressFamily?> Families { get; } = new()
    {
        { AddressMode.IPv4, null },
        { AddressMode.IPv6, null },
        { AddressMode.DualStack, AddressFamily.InterNetwork },
        { AddressMode.DualStack, AddressFamily.InterNetworkV6 },
    };

    // Upstream: "should support a 'default-deny-ingress' policy", per address family.
    [Theory]
    [MemberData(nameof(Families))]
    public void Matrix_DefaultDenyIngressInEachFamily_DeniesAllIngressToNamespaceX(AddressMode mode, AddressFamily? family)
    {
        var evaluator = ModelFor(mode).Evaluator(Netpol.Policy("x", "deny-ingress").Ingress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80, family);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and
    // NamespaceSelector", per address family.
    [Theory]
    [MemberData(nameof(Families))]
    public void Matrix_IngressFromNamespaceYAndPodAInEachFamily_AllowsOnlyYaIntoXa(AddressMode mode, AddressFamily? family)
    {
        var policy = Netpol.Policy("x", "allow-ns-y-pod-a-via-namespace-pod-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "a"), namespaceSelector: Netpol.NamespaceNamed("y"))]));
        var evaluator = ModelFor(mode).Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("y/a", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80, family);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should deny egress from all pods in a namespace", per address family.
    [Theory]
    [MemberData(nameof(Families))]
    public void Matrix_DenyEgressForNamespaceInEachFamily_DeniesAllEgressFromX(AddressMode mode, AddressFamily? family)
    {
        var evaluator = ModelFor(mode).Evaluator(Netpol.Policy("x", "deny-egress-ns-x").Egress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80, family);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should support a 'default-deny-all' policy", with the model built from model objects.
    [Theory]
    [InlineData(AddressMode.IPv4)]
    [InlineData(AddressMode.IPv6)]
    public void Matrix_DefaultDenyAllFromModelObjects_DeniesAllTrafficIntoAndOutOfNamespaceX(AddressMode mode)
    {
        var denyAll = new NetworkPolicyDefinition { Namespace = "x", Name = "deny-all", PodSelector = LabelSelector.Everything, AffectsIngress = true, AffectsEgress = true };
        var evaluator = ModelFor(mode).ModelEvaluator(denyAll);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        reachability.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on PodSelector or NamespaceSelector", with the model built from model objects.
    [Fact]
    public void Matrix_IngressFromPodSelectorOrNamespaceSelectorFromModelObjects_DeniesOnlyXcIntoXa()
    {
        var policy = new NetworkPolicyDefinition
        {
            Namespace = "x",
            Name = "allow-ns-y-match-selector",
            PodSelector = LabelSelector.ForLabels("pod", "a"),
            AffectsIngress = true,
            Ingress =
            [
                new NetworkPolicyRule
                {
                    Peers =
                    [
                        new NetworkPolicyPeer { NamespaceSelector = new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(NamespaceDefinition.NameLabel, LabelSelectorOperator.NotIn, ["x"])]) },
                        new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("pod", "b") },
                    ],
                },
            ],
        };
        var evaluator = NetpolModel.IPv4.ModelEvaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.Expect("x/c", "x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should allow egress access to server in CIDR block", with an IPv6 ipBlock built from model objects.
    [Fact]
    public void Matrix_EgressToIPv6HostCidrFromModelObjects_AllowsXaOnlyToYb()
    {
        var policy = new NetworkPolicyDefinition
        {
            Namespace = "x",
            Name = "allow-client-a-via-cidr-egress-rule",
            PodSelector = LabelSelector.ForLabels("pod", "a"),
            AffectsEgress = true,
            Egress = [new NetworkPolicyRule { Peers = [new NetworkPolicyPeer { IPBlock = new IPBlock(System.Net.IPNetwork.Parse(NetpolModel.HostCidr("y/b", AddressFamily.InterNetworkV6))) }] }],
        };
        var evaluator = NetpolModel.IPv6.ModelEvaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", false);
        reachability.Expect("x/a", "y/b", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    private static NetpolModel ModelFor(AddressMode mode) => mode switch
    {
        AddressMode.IPv4 => NetpolModel.IPv4,
        AddressMode.IPv6 => NetpolModel.IPv6,
        _ => NetpolModel.DualStack,
    };
}
