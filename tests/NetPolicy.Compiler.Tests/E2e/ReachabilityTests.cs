using System.Net.Sockets;
using NetPolicy.Compiler.Model;
using Xunit.Sdk;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Tests of the e2e fixture itself: the truth table, its failure report, and the model cluster.</summary>
public sealed class ReachabilityTests
{
    [Fact]
    public void ExpectPeer_NamespaceToPod_SetsOnlyMatchingCells()
    {
        var reachability = NetpolModel.NewReachability();

        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        Assert.False(reachability["z/b", "x/a"]);
        Assert.True(reachability["y/b", "x/a"]);
        Assert.True(reachability["z/b", "x/b"]);
    }

    [Fact]
    public void ExpectAllIngressAndEgress_SetColumnAndRow()
    {
        var reachability = NetpolModel.NewReachability(defaultExpectation: false);

        reachability.ExpectAllIngress("y/c", true);
        reachability.ExpectAllEgress("x/b", true);

        Assert.All(NetpolModel.AllPods, p => Assert.True(reachability[p, "y/c"]));
        Assert.All(NetpolModel.AllPods, p => Assert.True(reachability["x/b", p]));
        Assert.False(reachability["x/a", "y/b"]);
    }

    [Fact]
    public void AssertMatches_WrongCell_FailsWithTablesAndExplanation()
    {
        var evaluator = NetpolModel.IPv4.Evaluator(Netpol.Policy("x", "deny-ingress").Ingress());
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        reachability.Expect("y/a", "x/b", true);

        var error = Assert.ThrowsAny<XunitException>(() => reachability.AssertMatches(evaluator.Matrix(TransportProtocol.Tcp, 80), evaluator));

        Assert.Contains("correct 71, incorrect 1, loopback ignored 9", error.Message, StringComparison.Ordinal);
        Assert.Contains("y/a -> x/b: expected allowed, observed denied", error.Message, StringComparison.Ordinal);
        Assert.Contains("x/deny-ingress", error.Message, StringComparison.Ordinal);
        Assert.Contains("expected (rows: from, columns: to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssertMatches_LoopbackCellsDiffer_AreIgnoredByDefault()
    {
        var evaluator = NetpolModel.IPv4.Evaluator();
        var reachability = NetpolModel.NewReachability(defaultExpectation: true);
        reachability.Expect("x/a", "x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        Assert.ThrowsAny<XunitException>(() => reachability.AssertMatches(matrix, evaluator, ignoreLoopback: false));
    }

    [Fact]
    public void Snapshot_Model_HasUpstreamLabelsNamedPortsAndAddresses()
    {
        var snapshot = NetpolModel.DualStack.WithNamespaceLabel("y", "ns2", "updated").WithPodLabel("x/b", "pod2", "updated").Snapshot();

        var xb = snapshot.FindPod("x/b")!;

        Assert.Equal(NetpolModel.AllPods, snapshot.Pods.Keys);
        Assert.Equal(LabelSet.Of("pod", "b", "pod2", "updated"), xb.Labels);
        Assert.Equal(LabelSet.Of("ns", "y", "ns2", "updated", NamespaceDefinition.NameLabel, "y"), snapshot.Namespaces["y"].Labels);
        Assert.Equal(LabelSet.Of("ns", "z", NamespaceDefinition.NameLabel, "z"), snapshot.Namespaces["z"].Labels);
        Assert.Equal(6, xb.NamedPorts.Length);
        Assert.Equal(81, xb.ResolveNamedPort("serve-81-sctp", TransportProtocol.Sctp));
        Assert.Null(xb.ResolveNamedPort("serve-81-sctp", TransportProtocol.Tcp));
        Assert.Equal("198.18.10.11", xb.AddressOf(AddressFamily.InterNetwork)!.ToString());
        Assert.Equal("fd00:198::10:11", xb.AddressOf(AddressFamily.InterNetworkV6)!.ToString());
    }

    [Fact]
    public void ModelPods_MatchPodsConvertedFromKubernetesObjects()
    {
        var converted = NetpolModel.IPv6.Snapshot().Pods.Values;

        var model = NetpolModel.IPv6.ModelPods();

        Assert.Equal(converted, model);
    }
}
