using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Egress scenarios of the upstream e2e suite (kubernetes/kubernetes test/e2e/network/netpol/network_policy.go),
/// plus the API-server policyTypes defaulting they depend on.</summary>
public sealed class NetpolE2eEgressTests
{
    private static readonly NetpolModel Model = NetpolModel.IPv4;

    // Upstream: "should allow egress access on one named port".
    [Fact]
    public void Matrix_EgressOnNamedPortServe80Tcp_AllowsPort80AndDeniesPort81OutOfX()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "allow-egress").Egress(Netpol.EgressRule(ports: [Netpol.NamedPort("serve-80-tcp")])));
        var reachability80 = NetpolModel.NewReachability();
        var reachability81 = NetpolModel.NewReachability();
        reachability81.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);

        var matrix80 = evaluator.Matrix(TransportProtocol.Tcp, 80);
        var matrix81 = evaluator.Matrix(TransportProtocol.Tcp, 81);

        reachability80.AssertMatches(matrix80, evaluator);
        reachability81.AssertMatches(matrix81, evaluator);
    }

    // Upstream: "should deny egress from pods based on PodSelector".
    [Fact]
    public void Matrix_DenyEgressForPodA_DeniesAllEgressFromXa()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "deny-egress-pod-a", Netpol.Labels("pod", "a")).Egress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should deny egress from all pods in a namespace".
    [Fact]
    public void Matrix_DenyEgressForNamespace_DeniesAllEgressFromX()
    {
        var evaluator = Model.Evaluator(Netpol.Policy("x", "deny-egress-ns-x").Egress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        var verdict = evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/b")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("z/c")!), TransportProtocol.Tcp, 80);
        Assert.False(verdict.Egress!.Allowed);
        Assert.Equal(new[] { "x/deny-egress-ns-x" }, verdict.Egress.IsolatingPolicies.ToArray());
        Assert.True(verdict.Ingress!.Allowed);
    }

    // Upstream: "should work with Ingress, Egress specified together".
    [Fact]
    public void Matrix_IngressAndEgressTogether_IngressFromXbAndEgressOnPort80Only()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-pod-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "b"))]))
            .Egress(Netpol.EgressRule(ports: [Netpol.Port(80)]))
            .PolicyTypes("Egress", "Ingress");
        var evaluator = Model.Evaluator(policy);
        var reachability80 = NetpolModel.NewReachability();
        reachability80.ExpectAllIngress("x/a", false);
        reachability80.Expect("x/b", "x/a", true);
        var reachability81 = NetpolModel.NewReachability();
        reachability81.ExpectAllIngress("x/a", false);
        reachability81.ExpectAllEgress("x/a", false);
        reachability81.Expect("x/b", "x/a", true);

        var matrix80 = evaluator.Matrix(TransportProtocol.Tcp, 80);
        var matrix81 = evaluator.Matrix(TransportProtocol.Tcp, 81);

        reachability80.AssertMatches(matrix80, evaluator);
        reachability81.AssertMatches(matrix81, evaluator);
    }

    // Upstream: "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)".
    [Fact]
    public void Matrix_ClientEgressToYaOnly_DeniesXaToYbEvenThoughYbIngressAllowsIt()
    {
        var egress = Netpol.Policy("x", "allow-to-ns-y-pod-a", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.Peer(podSelector: Netpol.Labels("pod", "a"), namespaceSelector: Netpol.NamespaceNamed("y"))]));
        var fromXa = Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "a"), namespaceSelector: Netpol.NamespaceNamed("x"))]);
        var ingressA = Netpol.Policy("y", "allow-from-xa-on-ya-match-selector", Netpol.Labels("pod", "a")).Ingress(fromXa);
        var ingressB = Netpol.Policy("y", "allow-from-xa-on-yb-match-selector", Netpol.Labels("pod", "b")).Ingress(fromXa);
        var evaluator = Model.Evaluator(egress, ingressA, ingressB);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(new Peer("x", "a"), Peer.Any, false);
        reachability.ExpectPeer(Peer.Any, new Peer("y", "a"), false);
        reachability.ExpectPeer(new Peer("x", "a"), new Peer("y", "a"), true);
        reachability.ExpectPeer(Peer.Any, new Peer("y", "b"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        var toYb = evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/b")!), TransportProtocol.Tcp, 80);
        Assert.False(toYb.Egress!.Allowed);
        Assert.True(toYb.Ingress!.Allowed);
    }

    // Upstream: "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector".
    [Fact]
    public void Matrix_EgressToNamespaceYAndPodA_AllowsXaOnlyToYa()
    {
        var policy = Netpol.Policy("x", "allow-to-ns-y-pod-a", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.Peer(podSelector: Netpol.Labels("pod", "a"), namespaceSelector: Netpol.NamespaceNamed("y"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", false);
        reachability.Expect("x/a", "y/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce multiple egress policies with egress allow-all policy taking precedence".
    [Fact]
    public void Matrix_EgressPort80PolicyPlusAllowAll_AllowAllTakesPrecedenceOnPort81()
    {
        var onlyPort80 = Netpol.Policy("x", "allow-egress-port-80").Egress(Netpol.EgressRule(ports: [Netpol.Port(80)]));
        var allowAll = Netpol.Policy("x", "allow-egress").Egress(Netpol.EgressRule());
        var blocked = NetpolModel.NewReachability();
        blocked.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);
        var open = NetpolModel.NewReachability();

        var before = Model.Evaluator(onlyPort80);
        var after = Model.Evaluator(onlyPort80, allowAll);

        blocked.AssertMatches(before.Matrix(TransportProtocol.Tcp, 81), before);
        open.AssertMatches(after.Matrix(TransportProtocol.Tcp, 81), after);
    }

    // Upstream: "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector".
    [Fact]
    public void Matrix_AllowEgressThenDenyIngressForXa_DirectionsAreIndependent()
    {
        var allowEgress = Netpol.Policy("x", "allow-egress-for-target", Netpol.Labels("pod", "a")).Egress(Netpol.EgressRule());
        var denyIngress = Netpol.Policy("x", "deny-ingress-via-label-selector", Netpol.Labels("pod", "a")).Ingress();
        var allowed = NetpolModel.NewReachability();
        var ingressDenied = NetpolModel.NewReachability();
        ingressDenied.ExpectAllIngress("x/a", false);

        var egressOnly = Model.Evaluator(allowEgress);
        var both = Model.Evaluator(allowEgress, denyIngress);

        allowed.AssertMatches(egressOnly.Matrix(TransportProtocol.Tcp, 80), egressOnly);
        ingressDenied.AssertMatches(both.Matrix(TransportProtocol.Tcp, 80), both);
    }

    // Upstream: "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label".
    [Fact]
    public void Matrix_EgressToNamespaceNotInY_DeniesXaToNamespaceY()
    {
        var policy = Netpol.Policy("x", "allow-ns-y-match-selector-for-immutable-ns-label", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.Peer(namespaceSelector: Netpol.Expression(Netpol.NamespaceNameLabel, "NotIn", "y"))]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(new Peer("x", "a"), Peer.InNamespace("y"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): API-server defaulting. With spec.egress non-empty and no policyTypes, the API server sets
    // policyTypes to [Ingress, Egress], so the policy also isolates x/a for ingress with no ingress rules.
    [Fact]
    public void Matrix_EgressRulesWithoutPolicyTypes_DefaultsToIngressAndEgress()
    {
        var policy = Netpol.Policy("x", "egress-defaulted", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))]))
            .DefaultPolicyTypes();
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", false);
        reachability.ExpectPeer(new Peer("x", "a"), Peer.InNamespace("y"), true);
        reachability.ExpectAllIngress("x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        var snapshotPolicy = evaluator.Snapshot.Policies["x/egress-defaulted"];
        Assert.True(snapshotPolicy.AffectsIngress);
        Assert.True(snapshotPolicy.AffectsEgress);
    }

    // Not an upstream It(): API-server defaulting. An empty spec.egress list (as opposed to a non-empty one) does not add
    // Egress to the defaulted policyTypes, so the policy isolates ingress only.
    [Fact]
    public void Matrix_EmptyEgressListWithoutPolicyTypes_DefaultsToIngressOnly()
    {
        var policy = Netpol.Policy("x", "empty-egress-defaulted").Egress().DefaultPolicyTypes();
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        Assert.False(evaluator.Snapshot.Policies["x/empty-egress-defaulted"].AffectsEgress);
    }

    // Not an upstream It(): with policyTypes [Egress] the ingress rules of the same policy are ignored, so x/a is not
    // isolated for ingress even though spec.ingress only allows x/b.
    [Fact]
    public void Matrix_IngressRulesWithPolicyTypesEgressOnly_IngressRulesAreIgnored()
    {
        var policy = Netpol.Policy("x", "egress-only", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "b"))]))
            .Egress(Netpol.EgressRule())
            .PolicyTypes("Egress");
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }
}
