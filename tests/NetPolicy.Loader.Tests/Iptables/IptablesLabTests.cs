using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Bpf;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Iptables;

/// <summary>iptables and ipset rules applied in a network-namespace lab's node: real packets between pods, compared with
/// the reference evaluator, established flows across policy changes in both conntrack modes, and clean removal.</summary>
[Collection("Kernel")]
public sealed class IptablesLabTests
{
    [KernelTheory]
    [InlineData(LabProtocol.Tcp)]
    [InlineData(LabProtocol.Udp)]
    [InlineData(LabProtocol.Sctp)]
    public async Task ProbeMatrix_E2eScenarios_EqualsReferenceMatrix(LabProtocol protocol)
    {
        // A third of the ported e2e scenarios of the most common pod set (the IPv4 model), a different third per protocol,
        // through one lab: each scenario is one apply over the previous one, then a matrix of real packets. Probes use
        // fresh source ports, so conntrack entries of earlier scenarios never match.
        var common = E2eScenarios.All.GroupBy(s => PodSet(s.Snapshot)).MaxBy(g => g.Count())!.ToList();
        var scenarios = common.Where((s, i) => i % 3 == (int)protocol).ToList();
        var first = scenarios[0].Snapshot;
        var run = 0;
        await using var lab = await LabIptables.StartAsync(first);
        var failures = new List<string>();
        foreach (var (name, snapshot) in scenarios)
        {
            lab.Apply(snapshot);
            run++;
            failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, protocol, 80, name, null));
        }

        Assert.True(run >= 15, $"only {run} scenarios ran");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [KernelTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task ProbeMatrix_RandomCluster_EqualsReferenceMatrix(int seed)
    {
        // Replay a failing seed with this test and the seed number; RandomCluster.Create(seed) rebuilds the cluster.
        var snapshot = RandomCluster.Create(seed);
        await using var lab = await LabIptables.StartAsync(snapshot);
        var failures = new List<string>();

        failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, LabProtocol.Tcp, 80, $"seed {seed}", null));
        failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, LabProtocol.Tcp, 8080, $"seed {seed}", null));
        failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, LabProtocol.Udp, 53, $"seed {seed}", null));
        failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, LabProtocol.Tcp, 80, $"seed {seed}", AddressFamily.InterNetworkV6));

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [KernelTheory]
    [InlineData(IptablesConntrackMode.Conntrack, true)]
    [InlineData(IptablesConntrackMode.Strict, false)]
    public async Task EstablishedConnection_PolicyTightened_SurvivesOnlyInConntrackMode(IptablesConntrackMode mode, bool survives)
    {
        var model = NetpolModel.IPv4;
        await using var lab = await LabIptables.StartAsync(model.Snapshot(), p => p is "x/a" or "y/b", new IptablesRenderOptions { ConntrackMode = mode });
        var server = NetpolModel.IPv4Of("x/a");
        using var connection = await lab.Lab.ConnectTcpAsync("y/b", server, 80);
        Assert.True(await lab.Lab.ExchangeAsync(connection));

        lab.Apply(model.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()));

        Assert.False(await lab.Lab.ProbeAsync("y/b", server, LabProtocol.Tcp, 80), "a new connection must be refused after the change");
        Assert.Equal(survives, await lab.Lab.ExchangeAsync(connection));
    }

    [KernelFact]
    public async Task Remove_AfterApply_LeavesNoChainSetOrHookOfOursAndKeepsOthers()
    {
        var snapshot = NetpolModel.DualStack.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])),
            Netpol.Policy("y", "egress").Egress(Netpol.EgressRule([Netpol.IPBlock("198.18.0.0/15", "198.18.10.0/24")])));
        await using var lab = await LabIptables.StartAsync(snapshot, p => p is "x/a" or "y/a");
        var node = lab.Lab.Node.Name;
        Shell.Run("ip", "netns", "exec", node, "iptables", "-N", "OTHER-CHAIN");
        Shell.Run("ip", "netns", "exec", node, "iptables", "-A", "FORWARD", "-j", "OTHER-CHAIN");
        Shell.Run("ip", "netns", "exec", node, "ipset", "create", "other-set", "hash:ip");
        lab.Apply(snapshot);
        Assert.Contains("NP-PS", Shell.Run("ip", "netns", "exec", node, "ipset", "list", "-n"), StringComparison.Ordinal);
        Assert.Single(Shell.Run("ip", "netns", "exec", node, "iptables-save").Split('\n'), l => l == "-A FORWARD -j NP-FORWARD");
        Assert.Single(Shell.Run("ip", "netns", "exec", node, "ip6tables-save").Split('\n'), l => l == "-A FORWARD -j NP-FORWARD");

        lab.Applier.Remove();
        lab.Applier.Remove();

        foreach (var save in new[] { "iptables-save", "ip6tables-save" })
        {
            Assert.DoesNotContain("NP-", Shell.Run("ip", "netns", "exec", node, save), StringComparison.Ordinal);
        }

        var sets = Shell.Run("ip", "netns", "exec", node, "ipset", "list", "-n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["other-set"], sets);
        Assert.Contains("-A FORWARD -j OTHER-CHAIN", Shell.Run("ip", "netns", "exec", node, "iptables-save"), StringComparison.Ordinal);
    }

    [KernelFact]
    public async Task Apply_NarrowerPolicy_DeletesStaleChainsAndSets()
    {
        var wide = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])),
            Netpol.Policy("y", "to-x").Egress(Netpol.EgressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("x"))])));
        var narrow = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress());
        await using var lab = await LabIptables.StartAsync(wide, p => p is "x/a" or "y/a");
        var node = lab.Lab.Node.Name;

        var applied = lab.Apply(narrow);
        lab.Apply(narrow);

        var save = Shell.Run("ip", "netns", "exec", node, "iptables-save", "-t", "filter");
        var chains = save.Split('\n').Where(l => l.StartsWith(":NP-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(applied.IPv4Rules.Split('\n').Where(l => l.StartsWith(":NP-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).Order(), chains.Order());
        Assert.DoesNotContain("NP-", Shell.Run("ip", "netns", "exec", node, "ipset", "list", "-n"), StringComparison.Ordinal);
        Assert.Single(save.Split('\n'), l => l == "-A FORWARD -j NP-FORWARD");
        Assert.False(await lab.Lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));
    }

    [KernelFact]
    public async Task Apply_RefusedRule_ThrowsQuotingTheLine()
    {
        await using var lab = await LabIptables.StartAsync(NetpolModel.IPv4.Snapshot(), p => p is "x/a");
        var broken = new IptablesRuleset(string.Empty, "*filter\n:NP-FORWARD - [0:0]\n-A NP-FORWARD --no-such-option -j ACCEPT\nCOMMIT\n", "*filter\n:NP-FORWARD - [0:0]\nCOMMIT\n");

        var error = Assert.Throws<KernelOperationException>(() => lab.Applier.Apply(broken));

        Assert.Contains("iptables-restore --test --noflush", error.Message, StringComparison.Ordinal);
        Assert.Matches("refused line [0-9]+: -A NP-FORWARD --no-such-option -j ACCEPT", error.Message); // the line number counts the input, which also deletes our stale chains
        Assert.Equal(22, error.Errno);
    }

    private static string PodSet(ClusterSnapshot s) => string.Join(";", s.Pods.Values.Select(p => p.Key + "=" + string.Join(',', p.Addresses)));
}
