using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Upstream e2e scenarios that change the cluster between probes (policy updates and deletions, pod and
/// namespace relabelling), replayed by building a new snapshot, or by updating one, for each step.</summary>
public sealed class NetpolE2eUpdateTests
{
    private static readonly NetpolModel Model = NetpolModel.IPv4;

    // Upstream: "should enforce updated policy" (allow-all mutated to deny-all).
    [Fact]
    public void Matrix_AllowAllPolicyUpdatedToDenyAll_DeniesIngressToNamespaceX()
    {
        var allowAll = Netpol.Policy("x", "allow-all-mutate-to-deny-all").Ingress(Netpol.IngressRule());
        var denyAll = Netpol.Policy("x", "allow-all-mutate-to-deny-all").Ingress();
        var open = NetpolModel.NewReachability();
        var denied = NetpolModel.NewReachability();
        denied.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var before = Model.Evaluator(allowAll);
        var after = Model.Evaluator(denyAll);

        open.AssertMatches(before.Matrix(TransportProtocol.Tcp, 81), before);
        denied.AssertMatches(after.Matrix(TransportProtocol.Tcp, 81), after);
    }

    // Upstream: "should enforce updated policy", replayed as an incremental update: ClusterSnapshot.SetPolicy replaces the
    // policy of the same namespace and name.
    [Fact]
    public void Matrix_PolicyReplacedWithSetPolicy_DeniesIngressToNamespaceX()
    {
        var allowAll = Model.Snapshot(Netpol.Policy("x", "allow-all-mutate-to-deny-all").Ingress(Netpol.IngressRule()));
        var denyAll = new NetworkPolicyDefinition { Namespace = "x", Name = "allow-all-mutate-to-deny-all", PodSelector = LabelSelector.Everything, AffectsIngress = true };
        var denied = NetpolModel.NewReachability();
        denied.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var updated = allowAll.SetPolicy(denyAll);
        var evaluator = new PolicyEvaluator(updated);

        Assert.Single(updated.Policies);
        denied.AssertMatches(evaluator.Matrix(TransportProtocol.Tcp, 81), evaluator);
    }

    // Upstream: "should allow ingress access from updated namespace".
    [Fact]
    public void Matrix_NamespaceYRelabelledNs2Updated_AllowsNamespaceYIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-ns-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.Labels("ns2", "updated"))]));
        var before = NetpolModel.NewReachability();
        before.ExpectAllIngress("x/a", false);
        var after = NetpolModel.NewReachability();
        after.ExpectAllIngress("x/a", false);
        after.ExpectPeer(Peer.InNamespace("y"), Peer.Any, true);

        var unlabelled = Model.Evaluator(policy);
        var labelled = Model.WithNamespaceLabel("y", "ns2", "updated").Evaluator(policy);

        before.AssertMatches(unlabelled.Matrix(TransportProtocol.Tcp, 80), unlabelled);
        after.AssertMatches(labelled.Matrix(TransportProtocol.Tcp, 80), labelled);
    }

    // Upstream: "should allow ingress access from updated pod".
    [Fact]
    public void Matrix_PodXbRelabelledPod2Updated_AllowsXbIntoXa()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-pod-selector", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(podSelector: Netpol.Labels("pod", "b", "pod2", "updated"))]));
        var before = NetpolModel.NewReachability();
        before.ExpectAllIngress("x/a", false);
        var after = NetpolModel.NewReachability();
        after.ExpectAllIngress("x/a", false);
        after.Expect("x/b", "x/a", true);

        var unlabelled = Model.Evaluator(policy);
        var labelled = Model.WithPodLabel("x/b", "pod2", "updated").Evaluator(policy);

        before.AssertMatches(unlabelled.Matrix(TransportProtocol.Tcp, 80), unlabelled);
        after.AssertMatches(labelled.Matrix(TransportProtocol.Tcp, 80), labelled);
    }

    // Upstream: "should deny ingress access to updated pod".
    [Fact]
    public void Matrix_PodXaRelabelledTargetIsolated_DeniesAllIngressToXa()
    {
        var policy = Netpol.Policy("x", "deny-ingress-via-label-selector", Netpol.Labels("target", "isolated")).Ingress();
        var before = NetpolModel.NewReachability();
        var after = NetpolModel.NewReachability();
        after.ExpectAllIngress("x/a", false);

        var unlabelled = Model.Evaluator(policy);
        var labelled = Model.WithPodLabel("x/a", "target", "isolated").Evaluator(policy);

        before.AssertMatches(unlabelled.Matrix(TransportProtocol.Tcp, 80), unlabelled);
        after.AssertMatches(labelled.Matrix(TransportProtocol.Tcp, 80), labelled);
    }

    // Upstream: "should deny ingress access to updated pod", replayed as an incremental update with ClusterSnapshot.SetPod.
    [Fact]
    public void Matrix_PodXaRelabelledWithSetPod_DeniesAllIngressToXa()
    {
        var snapshot = Model.Snapshot(Netpol.Policy("x", "deny-ingress-via-label-selector", Netpol.Labels("target", "isolated")).Ingress());
        var xa = snapshot.FindPod("x/a")!;
        var after = NetpolModel.NewReachability();
        after.ExpectAllIngress("x/a", false);

        var updated = snapshot.SetPod(xa with { Labels = xa.Labels.With("target", "isolated") });
        var evaluator = new PolicyEvaluator(updated);

        after.AssertMatches(evaluator.Matrix(TransportProtocol.Tcp, 80), evaluator);
    }

    // Upstream: "should stop enforcing policies after they are deleted".
    [Fact]
    public void Matrix_DenyAllPolicyDeleted_AllowsEverythingAgain()
    {
        var denyAll = Netpol.Policy("x", "deny-all").Ingress().Egress();
        var denied = NetpolModel.NewReachability();
        denied.ExpectPeer(Peer.InNamespace("x"), Peer.Any, false);
        denied.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        var open = NetpolModel.NewReachability();

        var withPolicy = Model.Snapshot(denyAll);
        var rebuilt = new PolicyEvaluator(Model.Snapshot());
        var removed = new PolicyEvaluator(withPolicy.RemovePolicy("x/deny-all"));
        var enforced = new PolicyEvaluator(withPolicy);

        denied.AssertMatches(enforced.Matrix(TransportProtocol.Tcp, 80), enforced);
        open.AssertMatches(rebuilt.Matrix(TransportProtocol.Tcp, 80), rebuilt);
        open.AssertMatches(removed.Matrix(TransportProtocol.Tcp, 80), removed);
    }

    // Not an upstream It(): relabelling a namespace with ClusterSnapshot.SetNamespace keeps kubernetes.io/metadata.name,
    // so policies selecting the namespace by name still match it.
    [Fact]
    public void Matrix_NamespaceYRelabelledWithSetNamespace_KeepsMetadataNameLabel()
    {
        var snapshot = Model.Snapshot(Netpol.Policy("x", "allow-from-y", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])));
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        var updated = snapshot.SetNamespace(NamespaceDefinition.Create("y", LabelSet.Of("team", "blue")) with { Labels = LabelSet.Of("team", "blue") });
        var evaluator = new PolicyEvaluator(updated);

        Assert.Equal("y", updated.Namespaces["y"].Labels.TryGetValue(NamespaceDefinition.NameLabel, out var name) ? name : null);
        reachability.AssertMatches(evaluator.Matrix(TransportProtocol.Tcp, 80), evaluator);
    }
}
