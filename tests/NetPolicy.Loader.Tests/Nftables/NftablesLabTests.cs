using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Netns;
using NetPolicy.Loader.Nftables;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Nftables.Tests;

/// <summary>The rendered nftables ruleset applied in a network-namespace lab's node namespace (no BPF datapath): real
/// packets between pods, compared with the reference evaluator; established flows across policy changes; atomic
/// replacement and clean removal.</summary>
[Collection("Kernel")]
public sealed class NftablesLabTests
{
    private static readonly NetworkLabOptions s_labOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    [KernelTheory]
    [InlineData(LabProtocol.Tcp)]
    [InlineData(LabProtocol.Udp)]
    [InlineData(LabProtocol.Sctp)]
    public async Task ProbeMatrix_E2eScenarios_EqualsReferenceMatrix(LabProtocol protocol)
    {
        // A third of the ported e2e scenarios of the most common pod set, a different third per protocol, through one lab:
        // each scenario is a re-apply that replaces the table, then a matrix of real packets.
        static string PodSet(ClusterSnapshot s) => string.Join(";", s.Pods.Values.Select(p => p.Key + "=" + string.Join(',', p.Addresses)));
        var common = E2eScenarios.All.GroupBy(s => PodSet(s.Snapshot)).MaxBy(g => g.Count())!.ToList();
        var scenarios = common.Where((s, i) => i % 3 == (int)protocol).ToList();
        await using var lab = await NetworkLab.CreateAsync(scenarios[0].Snapshot.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        var applier = new NftablesApplier(lab.Node);
        var failures = new List<string>();
        var run = 0;
        foreach (var (name, snapshot) in scenarios)
        {
            applier.Apply(Render(snapshot));
            run++;
            failures.AddRange(await LabMatrix.CompareAsync(lab, snapshot, protocol, 80, name));
        }

        Assert.True(run >= 15, $"only {run} scenarios ran");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [KernelFact]
    public async Task ProbeMatrix_RandomClusters_EqualsReferenceMatrix()
    {
        // Seeds whose pod addresses fall outside the lab ranges are passed over; a failing seed names itself for replay.
        var failures = new List<string>();
        var run = 0;
        for (var seed = 1; seed <= 12 && run < 5; seed++)
        {
            var snapshot = RandomCluster.Create(seed);
            var pods = snapshot.Pods.Values.Where(p => !p.Addresses.IsEmpty).ToList();
            if (pods.Count < 2 || !pods.All(p => p.Addresses.All(InLabRange)))
            {
                continue;
            }

            run++;
            await using var lab = await NetworkLab.CreateAsync(pods.Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
            new NftablesApplier(lab.Node).Apply(Render(snapshot));
            failures.AddRange(await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Tcp, 80, $"seed {seed} (NETPOLICY_SEED={seed})"));
            failures.AddRange(await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Udp, 8080, $"seed {seed} (NETPOLICY_SEED={seed})"));
        }

        Assert.True(run >= 3, $"only {run} random clusters fit the lab ranges");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [KernelTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public async Task ProbeMatrix_DualStackIPBlocksWithExcept_EqualsReferenceMatrix(AddressFamily family)
    {
        // Interval sets of both families: x may only send to the pod network minus y's range (and minus z/c's IPv6
        // address); y/a accepts only from the IPv6 half of x's namespace range and from all of IPv4 but x/b.
        var snapshot = NetpolModel.DualStack.Snapshot(
            Netpol.Policy("x", "egress-block").Egress(Netpol.EgressRule(
                [Netpol.IPBlock("198.18.0.0/16", NetpolModel.NamespaceCidr("y")), Netpol.IPBlock("fd00:198::/64", NetpolModel.NamespaceCidr("y", AddressFamily.InterNetworkV6), NetpolModel.HostCidr("z/c", AddressFamily.InterNetworkV6))])),
            Netpol.Policy("y", "a-in", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule(
                [Netpol.IPBlock("0.0.0.0/0", NetpolModel.HostCidr("x/b")), Netpol.IPBlock(NetpolModel.NamespaceCidr("x", AddressFamily.InterNetworkV6))],
                [Netpol.Port(80, TransportProtocol.Tcp)])));
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        new NftablesApplier(lab.Node).Apply(Render(snapshot));

        var failures = await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Tcp, 80, "dual-stack ipBlocks", family);

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        var expected = new PolicyEvaluator(snapshot).Matrix(TransportProtocol.Tcp, 80, family);
        var v4 = family == AddressFamily.InterNetwork;
        Assert.Equal(v4, expected["z/a", "y/a"]);
        Assert.Equal(v4, expected["x/a", "z/c"]);
        Assert.True(expected["x/a", "z/b"]);
        Assert.False(expected["x/a", "y/b"]);
    }

    [KernelFact]
    public void Apply_RandomClusters_NftAcceptsEveryRenderedRuleset()
    {
        using var ns = NetworkNamespace.Create("npnft" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var applier = new NftablesApplier(ns);
        var options = new NftablesRenderOptions { Mode = NftablesEnforcementMode.Strict, LogPrefix = "np " };

        for (var seed = 1; seed <= 40; seed++)
        {
            var policySet = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
            var ex = Record.Exception(() => applier.Apply(NftablesRenderer.Render(policySet, seed % 2 == 0 ? options : null)));
            Assert.True(ex is null, $"seed {seed}: {ex?.Message}");
        }

        Assert.True(applier.TableExists());
    }

    [KernelTheory]
    [InlineData(NftablesEnforcementMode.Conntrack, true)]
    [InlineData(NftablesEnforcementMode.Strict, false)]
    public async Task EstablishedConnection_PolicyTightened_SurvivesOnlyInConntrackMode(NftablesEnforcementMode mode, bool survives)
    {
        var model = NetpolModel.IPv4;
        var options = new NftablesRenderOptions { Mode = mode };
        await using var lab = await NetworkLab.CreateAsync(model.Snapshot().Pods.Values.Where(p => p.Key is "x/a" or "y/b").Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        var applier = new NftablesApplier(lab.Node);
        applier.Apply(Render(model.Snapshot(), options));
        var server = NetpolModel.IPv4Of("x/a");
        using var connection = await lab.ConnectTcpAsync("y/b", server, 80);
        Assert.True(await lab.ExchangeAsync(connection));

        applier.Apply(Render(model.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()), options));

        Assert.False(await lab.ProbeAsync("y/b", server, LabProtocol.Tcp, 80), "a new connection must be refused after the change");
        Assert.Equal(survives, await lab.ExchangeAsync(connection));
    }

    [KernelFact]
    public async Task Apply_Again_ReplacesTheTableAndLeavesOtherTablesAlone()
    {
        var model = NetpolModel.IPv4;
        await using var lab = await NetworkLab.CreateAsync(model.Snapshot().Pods.Values.Where(p => p.Key is "x/a" or "y/b").Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        var applier = new NftablesApplier(lab.Node);
        var other = new NftablesRuleset { TableName = "other", Text = "table inet other {\n\tchain keep {\n\t}\n}\n" };
        applier.Apply(other);
        applier.Apply(Render(model.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress())));
        Assert.False(await lab.ProbeAsync("y/b", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));

        applier.Apply(Render(model.Snapshot(Netpol.Policy("x", "allow-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])))));

        Assert.True(await lab.ProbeAsync("y/b", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));
        Assert.True(applier.TableExists("other"));

        applier.Remove();

        Assert.False(applier.TableExists());
        Assert.True(applier.TableExists("other"));
        applier.Remove();
    }

    [KernelFact]
    public void Apply_RefusedLine_ThrowsQuotingItAndKeepsThePreviousTable()
    {
        using var ns = NetworkNamespace.Create("npnft" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var applier = new NftablesApplier(ns);
        applier.Apply(Render(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress())));
        var broken = new NftablesRuleset { TableName = "netpolicy", Text = "table inet netpolicy\ndelete table inet netpolicy\ntable inet netpolicy {\n\tchain c {\n\t\tbogus-statement\n\t}\n}\n" };

        var ex = Assert.Throws<KernelOperationException>(() => applier.Apply(broken));

        Assert.StartsWith($"nft failed validating table inet netpolicy in network namespace '{ns.Name}': line 5 'bogus-statement' was refused: Error:", ex.Message, StringComparison.Ordinal);
        Assert.Equal("nft", ex.Operation);
        Assert.True(applier.TableExists());
    }

    [KernelFact]
    public void Remove_WithoutTable_Succeeds()
    {
        using var ns = NetworkNamespace.Create("npnft" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var applier = new NftablesApplier(ns);

        applier.Remove();

        Assert.False(applier.TableExists());
    }

    private static NftablesRuleset Render(ClusterSnapshot snapshot, NftablesRenderOptions? options = null) =>
        NftablesRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors(), options);

    private static bool InLabRange(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? IPNetwork.Parse("198.18.0.0/15").Contains(address)
            : IPNetwork.Parse("fd00::/8").Contains(address);
}
