using System.Text.RegularExpressions;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Bpf;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Nftables.Tests;

/// <summary>Drift detection and repair of an applied nftables table: tampering as another agent would (deleting a rule
/// of our base chain, inserting a rule, flushing our set) is reported by name and repaired, with enforcement back
/// afterwards; a foreign table is never reported and survives the repair.</summary>
[Collection("Kernel")]
public sealed class NftablesDriftTests
{
    private static readonly NetworkLabOptions s_labOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    [KernelFact]
    public async Task CheckAndRepair_AfterTampering_ReportsByNameAndRestoresEnforcement()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])));
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => p.Key is "x/a" or "y/a" or "z/a").Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        string Exec(params string[] args) => Shell.Run("ip", ["netns", "exec", lab.Node.Name, .. args]);
        Exec("nft", "add", "table", "inet", "other");
        Exec("nft", "add", "chain", "inet", "other", "keep");
        Exec("nft", "add", "set", "inet", "other", "keep-set", "{ type ipv4_addr; }");
        var applier = new NftablesApplier(lab.Node);
        var ruleset = NftablesRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors());
        applier.Apply(ruleset);
        var server = NetpolModel.IPv4Of("x/a");

        Assert.False(applier.Check(ruleset).HasDrift, applier.Check(ruleset).ToString());
        Assert.False(applier.Repair(ruleset));
        Assert.True(await lab.ProbeAsync("y/a", server, LabProtocol.Tcp, 80));
        Assert.False(await lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80));

        // Tamper: delete the ingress dispatch rule (in to-pod, which the base chains jump to), add a rule to the base chain, flush our peer set; and add a
        // chain and a rule to the foreign table.
        var listing = Exec("nft", "-a", "list", "chain", "inet", "netpolicy", "to-pod");
        var handle = Regex.Match(listing, @"ip daddr vmap @ingress-dispatch-v4 # handle (\d+)").Groups[1].Value;
        Exec("nft", "delete", "rule", "inet", "netpolicy", "to-pod", "handle", handle);
        Exec("nft", "add", "rule", "inet", "netpolicy", "forward", "ip", "saddr", "192.0.2.1", "drop");
        var set = Regex.Match(ruleset.Text, @"set (peers-\d+-v4) \{").Groups[1].Value;
        Exec("nft", "flush", "set", "inet", "netpolicy", set);
        Exec("nft", "add", "chain", "inet", "other", "more");
        Exec("nft", "add", "rule", "inet", "other", "keep", "ip", "saddr", "192.0.2.2", "drop");
        Assert.True(await lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80), "tampering must have broken enforcement");

        var report = applier.Check(ruleset);

        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Missing, ObjectType: "rule", Name: "to-pod", Detail: "ip daddr vmap @ingress-dispatch-v4" });
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Extra, ObjectType: "rule", Name: "forward", Detail: "ip saddr 192.0.2.1 drop" });
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Changed, ObjectType: "set" } && i.Name == set);
        Assert.Equal(3, report.Items.Count);
        Assert.DoesNotContain("other", report.ToString(), StringComparison.Ordinal);

        Assert.True(applier.Repair(ruleset));

        Assert.False(applier.Check(ruleset).HasDrift, applier.Check(ruleset).ToString());
        Assert.False(applier.Repair(ruleset));
        Assert.True(await lab.ProbeAsync("y/a", server, LabProtocol.Tcp, 80));
        Assert.False(await lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80));
        var other = Exec("nft", "list", "table", "inet", "other");
        Assert.Contains("chain keep", other, StringComparison.Ordinal);
        Assert.Contains("chain more", other, StringComparison.Ordinal);
        Assert.Contains("set keep-set", other, StringComparison.Ordinal);
        Assert.Contains("ip saddr 192.0.2.2 drop", other, StringComparison.Ordinal);
    }

    [KernelFact]
    public async Task Check_DeletedTableExtraChainOrNoBaseline_IsReportedAndRepaired()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress());
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => p.Key is "x/a" or "y/a").Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        string Exec(params string[] args) => Shell.Run("ip", ["netns", "exec", lab.Node.Name, .. args]);
        var applier = new NftablesApplier(lab.Node);
        var ruleset = NftablesRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors());
        applier.Apply(ruleset);

        Exec("nft", "add", "chain", "inet", "netpolicy", "intruder");
        var extra = applier.Check(ruleset);
        Assert.Equal("Extra chain intruder: chain intruder", Assert.Single(extra.Items).ToString());

        Exec("nft", "delete", "table", "inet", "netpolicy");
        var missing = Assert.Single(applier.Check(ruleset).Items);
        Assert.Equal((DriftKind.Missing, "table", "netpolicy"), (missing.Kind, missing.ObjectType, missing.Name));
        Assert.True(await lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));

        Assert.True(applier.Repair(ruleset));
        Assert.False(applier.Check(ruleset).HasDrift, applier.Check(ruleset).ToString());
        Assert.False(await lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));

        // A new applier has no baseline for the table: it reports that and repairs by re-applying.
        var fresh = new NftablesApplier(lab.Node);
        var unknown = Assert.Single(fresh.Check(ruleset).Items);
        Assert.Equal((DriftKind.Changed, "table"), (unknown.Kind, unknown.ObjectType));
        Assert.True(fresh.Repair(ruleset));
        Assert.False(fresh.Check(ruleset).HasDrift);
    }
    [KernelFact]
    public void Check_RandomClusters_CleanRightAfterApply()
    {
        using var ns = Netns.NetworkNamespace.Create("npdrift" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var applier = new NftablesApplier(ns);
        var options = new NftablesRenderOptions { Mode = NftablesEnforcementMode.Strict, LogPrefix = "np " };

        for (var seed = 1; seed <= 12; seed++)
        {
            var ruleset = NftablesRenderer.Render(new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors(), seed % 2 == 0 ? options : null);
            applier.Apply(ruleset);
            var report = applier.Check(ruleset);
            Assert.False(report.HasDrift, $"seed {seed}: {report}");
        }
    }
}
