using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Ingress scenarios of the upstream e2e suite (kubernetes/kubernetes test/e2e/network/netpol/network_policy.go,
/// "NetworkPolicy between server and client"), replayed on the reference evaluator over the full x/y/z × a/b/c model.</summary>
public sealed class NetpolE2eIngressTests
{
    private static readonly NetpolModel Model = NetpolModel.IPv4;

    // Upstream: "should support a 'default-deny-ingress' policy" (TCP), and the same It() in the UDP and SCTP contexts.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    [InlineData(TransportProtocol.Sctp)]
    public void Matrix_DefaultDenyIngress_DeniesAllIngressToNamespaceX(TransportProtocol protocol)
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "deny-ingress").Ingress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var matrix = evaluator.Matrix(protocol, 80);

        reachability.AssertMatches(matrix, evaluator);
        var verdict = evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/a")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/b")!), protocol, 80);
        Assert.False(verdict.Allowed);
        Assert.Equal(new[] { "x/deny-ingress" }, verdict.Ingress!.IsolatingPolicies.ToArray());
        Assert.Empty(verdict.Ingress.AllowedBy);
        Assert.False(verdict.Egress!.Isolated);
    }

    // Upstream: "should support a 'default-deny-all' policy".
    [Fact]
    public void Matrix_DefaultDenyAll_DeniesAllTrafficIntoAndOutOfNamespaceX()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "deny-all").Ingress().Egress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        reachability.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow traffic from pods within server namespace based on PodSelector".
    [Fact]
    public void Matrix_IngressFromPodSelector_AllowsOnlyXbIntoXa()
    {
        var policy = Netpol.Policy("x", "x-a-allows-x-b", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "b"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("x/b", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow ingress traffic for a target".
    [Fact]
    public void Matrix_DenyAllPlusAllowAllToTarget_OnlyXaReceivesIngressInNamespaceX()
    {
        var denyAll = Netpol.Policy("x", "deny-all").Ingress();
        var allowToA = Netpol.Policy("x", "allow-all-to-a", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Everything(), namespaceSelector: Netpol.Everything())]));
        var evaluator = Model.Evaluator(denyAll, allowToA);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", true);
        reachability.ExpectAllIngress("x/b", false);
        reachability.ExpectAllIngress("x/c", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow ingress traffic from pods in all namespaces".
    [Fact]
    public void Matrix_IngressFromEmptyNamespaceSelector_AllowsEveryPod()
    {
        var policy = Netpol.Policy("x", "allow-from-another-ns", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.Everything())]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector".
    // Older upstream versions selected the namespace by the model's own ns=<name> label, as here; policyTypes are left
    // to API-server defaulting (Ingress).
    [Fact]
    public void Matrix_IngressFromNamespaceSelector_AllowsOnlyNamespaceYIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-ns-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.Labels("ns", "y"))]))
            .DefaultPolicyTypes();
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on PodSelector with MatchExpressions".
    [Fact]
    public void Matrix_IngressFromPodSelectorMatchExpressions_AllowsOnlyXbIntoXa()
    {
        var policy = Netpol.Policy("x", "x-a-allows-x-b", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Expression("pod", "In", "b"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("x/b", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on NamespaceSelector with MatchExpressions".
    [Fact]
    public void Matrix_IngressFromNamespaceSelectorMatchExpressions_AllowsOnlyNamespaceYIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-ns-y-match-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.Expression(Netpol.NamespaceNameLabel, "In", "y"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on PodSelector or NamespaceSelector" (two peers: ORed).
    [Fact]
    public void Matrix_IngressFromPodSelectorOrNamespaceSelector_DeniesOnlyXcIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-ns-y-match-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from:
            [
                Netpol.Peer(namespaceSelector: Netpol.Expression(Netpol.NamespaceNameLabel, "NotIn", "x")),
                Netpol.Peer(podSelector: Netpol.Labels("pod", "b")),
            ]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.Expect("x/a", "x/a", false);
        reachability.Expect("x/c", "x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        var fromYa = evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/a")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!), TransportProtocol.Tcp, 80);
        Assert.Equal(new[] { new RuleReference("x/allow-ns-y-match-selector", PolicyDirection.Ingress, 0, 0, null) }, fromYa.Ingress!.AllowedBy.ToArray());
    }

    // Upstream: "should enforce policy based on PodSelector and NamespaceSelector" (one peer with both: ANDed).
    [Fact]
    public void Matrix_IngressFromPodSelectorAndNamespaceSelector_AllowsOnlyPodBOutsideX()
    {
        var policy = Netpol.Policy("x", "allow-ns-y-podselector-and-nsselector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from:
            [
                Netpol.Peer(podSelector: Netpol.Labels("pod", "b"), namespaceSelector: Netpol.Expression(Netpol.NamespaceNameLabel, "NotIn", "x")),
            ]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("y/b", "x/a", true);
        reachability.Expect("z/b", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on Multiple PodSelectors and NamespaceSelectors".
    [Fact]
    public void Matrix_IngressFromPodInSetAndNamespaceNotInX_AllowsPodsBAndCOutsideX()
    {
        var policy = Netpol.Policy("x", "allow-ns-y-z-pod-b-c", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from:
            [
                Netpol.Peer(podSelector: Netpol.Expression("pod", "In", "b", "c"), namespaceSelector: Netpol.Expression(Netpol.NamespaceNameLabel, "NotIn", "x")),
            ]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.Expect("y/a", "x/a", false);
        reachability.Expect("z/a", "x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on any PodSelectors".
    [Fact]
    public void Matrix_IngressFromTwoPodSelectorPeers_AllowsXbAndXcIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-ns-x-pod-b-c", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from:
            [
                Netpol.Peer(podSelector: Netpol.Labels("pod", "b")),
                Netpol.Peer(podSelector: Netpol.Labels("pod", "c")),
            ]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("x/b", "x/a", true);
        reachability.Expect("x/c", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and
    // NamespaceSelector" (TCP), and the same It() in the UDP and SCTP contexts.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    [InlineData(TransportProtocol.Sctp)]
    public void Matrix_IngressFromNamespaceYAndPodA_AllowsOnlyYaIntoXa(TransportProtocol protocol)
    {
        var policy = Netpol.Policy("x", "allow-ns-y-pod-a-via-namespace-pod-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "a"), namespaceSelector: Netpol.NamespaceNamed("y"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("y/a", "x/a", true);

        var matrix = evaluator.Matrix(protocol, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce policy based on Ports" (TCP), and the same It() in the UDP and SCTP contexts.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    [InlineData(TransportProtocol.Sctp)]
    public void Matrix_IngressFromNamespaceYOnPort81_AllowsNamespaceYIntoXaOnPort81Only(TransportProtocol protocol)
    {
        var policy = Netpol.Policy("x", "allow-ingress-on-port-81-ns-x", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], ports: [Netpol.Port(81, protocol)]));
        var evaluator = Model.Evaluator(policy);
        var allow81 = NetpolModel.NewReachability();
        allow81.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        allow81.ExpectPeer(Peer.InNamespace("y"), new Peer("x", "a"), true);
        allow81.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);
        var deny80 = NetpolModel.NewReachability();
        deny80.ExpectAllIngress("x/a", false);

        var matrix81 = evaluator.Matrix(protocol, 81);
        var matrix80 = evaluator.Matrix(protocol, 80);

        allow81.AssertMatches(matrix81, evaluator);
        deny80.AssertMatches(matrix80, evaluator);
    }

    // Upstream: "should enforce multiple, stacked policies with overlapping podSelectors".
    [Fact]
    public void Matrix_StackedPoliciesForPorts81And80_UnionAllowsBothPorts()
    {
        var allow81 = Netpol.Policy("x", "allow-client-a-via-ns-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], ports: [Netpol.Port(81, TransportProtocol.Tcp)]));
        var allow80 = Netpol.Policy("x", "allow-client-a-via-ns-selector-80", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], ports: [Netpol.Port(80, TransportProtocol.Tcp)]));
        var reachabilityAllow = NetpolModel.NewReachability();
        reachabilityAllow.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachabilityAllow.ExpectPeer(Peer.InNamespace("y"), new Peer("x", "a"), true);
        reachabilityAllow.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);
        var reachabilityDeny = NetpolModel.NewReachability();
        reachabilityDeny.ExpectAllIngress("x/a", false);

        var only81 = Model.Evaluator(allow81);
        var both = Model.Evaluator(allow81, allow80);

        reachabilityAllow.AssertMatches(only81.Matrix(TransportProtocol.Tcp, 81), only81);
        reachabilityDeny.AssertMatches(only81.Matrix(TransportProtocol.Tcp, 80), only81);
        reachabilityAllow.AssertMatches(both.Matrix(TransportProtocol.Tcp, 80), both);
        reachabilityAllow.AssertMatches(both.Matrix(TransportProtocol.Tcp, 81), both);
    }

    // Upstream: "should support allow-all policy". Older upstream versions (GetAllowIngress) left policyTypes to defaulting.
    [Theory]
    [InlineData(80)]
    [InlineData(81)]
    public void Matrix_AllowAllIngress_AllowsEverything(int port)
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "allow-all").Ingress(Netpol.IngressRule()).DefaultPolicyTypes());
        var reachability = NetpolModel.NewReachability();

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, port);

        reachability.AssertMatches(matrix, evaluator);
        Assert.True(evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/a")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!), TransportProtocol.Tcp, port).Ingress!.Isolated);
    }

    // Upstream: "should allow ingress access on one named port".
    [Fact]
    public void Matrix_IngressOnNamedPortServe81Tcp_AllowsPort81AndDeniesPort80IntoX()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "allow-all").Ingress(Netpol.IngressRule(ports: [Netpol.NamedPort("serve-81-tcp")])));
        var reachability81 = NetpolModel.NewReachability();
        var reachability80 = NetpolModel.NewReachability();
        reachability80.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var matrix81 = evaluator.Matrix(TransportProtocol.Tcp, 81);
        var matrix80 = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability81.AssertMatches(matrix81, evaluator);
        reachability80.AssertMatches(matrix80, evaluator);
    }

    // Upstream: "should allow ingress access from namespace on one named port".
    [Fact]
    public void Matrix_IngressFromNamespaceYOnNamedPortServe80Tcp_AllowsNamespaceYOnPort80Only()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-ns-selector-80", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], ports: [Netpol.NamedPort("serve-80-tcp", TransportProtocol.Tcp)]));
        var evaluator = Model.Evaluator(policy);
        var reachability80 = NetpolModel.NewReachability();
        reachability80.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability80.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);
        var reachability81 = NetpolModel.NewReachability();
        reachability81.ExpectAllIngress("x/a", false);

        var matrix80 = evaluator.Matrix(TransportProtocol.Tcp, 80);
        var matrix81 = evaluator.Matrix(TransportProtocol.Tcp, 81);

        reachability80.AssertMatches(matrix80, evaluator);
        reachability81.AssertMatches(matrix81, evaluator);
    }

    // Upstream: "should deny ingress from pods on other namespaces".
    [Fact]
    public void Matrix_IngressFromEmptyPodSelector_DeniesOtherNamespacesIntoX()
    {
        var policy = Netpol.Policy("x", "deny-empty-policy").Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Everything())]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("y"), Peer.InNamespace("x"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), Peer.InNamespace("x"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce multiple ingress policies with ingress allow-all policy taking precedence".
    [Fact]
    public void Matrix_IngressPort80PolicyPlusAllowAll_AllowAllTakesPrecedenceOnPort81()
    {
        var onlyPort80 = Netpol.Policy("x", "allow-ingress-port-80").Ingress(Netpol.IngressRule(ports: [Netpol.Port(80)]));
        var allowAll = Netpol.Policy("x", "allow-ingress").Ingress(Netpol.IngressRule());
        var blocked = NetpolModel.NewReachability();
        blocked.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        var open = NetpolModel.NewReachability();

        var before = Model.Evaluator(onlyPort80);
        var after = Model.Evaluator(onlyPort80, allowAll);

        blocked.AssertMatches(before.Matrix(TransportProtocol.Tcp, 81), before);
        open.AssertMatches(after.Matrix(TransportProtocol.Tcp, 81), after);
    }

    // Upstream: "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label".
    [Fact]
    public void Matrix_IngressFromDefaultNamespaceNameLabel_AllowsOnlyNamespaceYIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-ns-selector-for-immutable-ns-label", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): upstream ignores loopback (kubernetes/kubernetes#95879); the evaluator never polices a pod's
    // traffic to itself, so with AllowLoopback the full table, diagonal included, must match under deny-all.
    [Fact]
    public void Matrix_DefaultDenyAllWithLoopbackCompared_AllowsEveryPodToItself()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "deny-all").Ingress().Egress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        reachability.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);
        reachability.AllowLoopback();

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator, ignoreLoopback: false);
        Assert.True(evaluator.Allows("x/a", "x/a", TransportProtocol.Tcp, 80));
    }
}
