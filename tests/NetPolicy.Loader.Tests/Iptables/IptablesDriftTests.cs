using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Bpf;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Iptables;

/// <summary>Drift detection and repair of applied iptables and ipset rules: tampering as another agent would (deleting a
/// rule of ours, inserting a rule into our chain, flushing our set, deleting our hook) is reported by name and repaired,
/// with enforcement back afterwards; foreign chains, rules and sets are never reported and survive the repair.</summary>
[Collection("Kernel")]
public sealed class IptablesDriftTests
{
    [KernelFact]
    public async Task CheckAndRepair_AfterTampering_ReportsByNameAndRestoresEnforcement()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])));
        await using var lab = await LabIptables.StartAsync(snapshot, p => p is "x/a" or "y/a" or "z/a");
        var node = lab.Lab.Node.Name;
        string Exec(params string[] args) => Shell.Run("ip", ["netns", "exec", node, .. args]);
        Exec("iptables", "-N", "OTHER-CHAIN");
        Exec("iptables", "-A", "OTHER-CHAIN", "-s", "192.0.2.1/32", "-j", "DROP");
        Exec("iptables", "-A", "FORWARD", "-j", "OTHER-CHAIN");
        Exec("ipset", "create", "other-set", "hash:ip");
        Exec("ipset", "add", "other-set", "192.0.2.7");
        var ruleset = lab.Apply(snapshot);
        var server = NetpolModel.IPv4Of("x/a");

        Assert.False(lab.Applier.Check(ruleset).HasDrift, lab.Applier.Check(ruleset).ToString());
        Assert.False(lab.Applier.Repair(ruleset));
        Assert.True(await lab.Lab.ProbeAsync("y/a", server, LabProtocol.Tcp, 80));
        Assert.False(await lab.Lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80));

        // Tamper: delete the last rule (DROP) of our ingress chain, insert an accept-all rule at the top of NP-FORWARD,
        // flush our peer set, and delete the IPv6 hook.
        var ingress = Exec("iptables-save", "-t", "filter").Split('\n').Where(l => l.StartsWith("-A NP-IN-", StringComparison.Ordinal)).ToList();
        var chain = ingress[^1].Split(' ')[1];
        Assert.EndsWith("-j DROP", ingress[^1], StringComparison.Ordinal);
        Exec("iptables", "-D", chain, ingress.Count(l => l.Split(' ')[1] == chain).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Exec("iptables", "-I", "NP-FORWARD", "1", "-p", "udp", "-j", "ACCEPT");
        var set = ruleset.IpsetRestore.Split('\n').Select(l => l.Split(' ')).First(p => p[0] == "create" && p[1].Contains("-v4-", StringComparison.Ordinal) && !p[1].EndsWith("-tmp", StringComparison.Ordinal))[1];
        Exec("ipset", "flush", set);
        Exec("ip6tables", "-D", "FORWARD", "-j", "NP-FORWARD");
        Assert.True(await lab.Lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80), "tampering must have broken enforcement");

        var report = lab.Applier.Check(ruleset);

        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Missing, ObjectType: "rule" } && i.Name == chain && i.Detail.EndsWith("-j DROP", StringComparison.Ordinal));
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Extra, ObjectType: "rule", Name: "NP-FORWARD" } && i.Detail.Contains("-p udp", StringComparison.Ordinal));
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Changed, ObjectType: "set" } && i.Name == set);
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Missing, ObjectType: "hook", Name: "FORWARD" } && i.Detail.StartsWith("ip6tables", StringComparison.Ordinal));
        Assert.Equal(4, report.Items.Count);
        Assert.DoesNotContain("other", report.ToString(), StringComparison.OrdinalIgnoreCase);

        Assert.True(lab.Applier.Repair(ruleset));

        Assert.False(lab.Applier.Check(ruleset).HasDrift, lab.Applier.Check(ruleset).ToString());
        Assert.False(lab.Applier.Repair(ruleset));
        Assert.True(await lab.Lab.ProbeAsync("y/a", server, LabProtocol.Tcp, 80));
        Assert.False(await lab.Lab.ProbeAsync("z/a", server, LabProtocol.Tcp, 80));
        Assert.False(await lab.Lab.ProbeAsync("z/a", server, LabProtocol.Udp, 80));
        var save = Exec("iptables-save", "-t", "filter");
        Assert.Contains("-A OTHER-CHAIN -s 192.0.2.1/32 -j DROP", save, StringComparison.Ordinal);
        Assert.Contains("-A FORWARD -j OTHER-CHAIN", save, StringComparison.Ordinal);
        Assert.Contains("192.0.2.7", Exec("ipset", "list", "other-set"), StringComparison.Ordinal);
        Assert.Single(Exec("ip6tables-save", "-t", "filter").Split('\n'), l => l == "-A FORWARD -j NP-FORWARD");
    }

    [KernelFact]
    public async Task Check_ExtraAndMissingChainsAndSetsOfOurs_AreReported()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])));
        await using var lab = await LabIptables.StartAsync(snapshot, p => p is "x/a" or "y/a");
        var node = lab.Lab.Node.Name;
        string Exec(params string[] args) => Shell.Run("ip", ["netns", "exec", node, .. args]);
        var ruleset = lab.Apply(snapshot);
        Exec("iptables", "-N", "NP-EG-999");
        Exec("ipset", "create", "NP-PS999-v4-ip", "hash:ip");
        Exec("ipset", "add", "NP-PS999-v4-ip", "192.0.2.9");

        var report = lab.Applier.Check(ruleset);

        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Extra, ObjectType: "chain", Name: "NP-EG-999" });
        Assert.Contains(report.Items, i => i is { Kind: DriftKind.Extra, ObjectType: "set", Name: "NP-PS999-v4-ip" });
        Assert.Equal(2, report.Items.Count);
        Assert.True(lab.Applier.Repair(ruleset));
        Assert.False(lab.Applier.Check(ruleset).HasDrift, lab.Applier.Check(ruleset).ToString());
        Assert.DoesNotContain("NP-PS999", Exec("ipset", "list", "-n"), StringComparison.Ordinal);
        Assert.DoesNotContain("NP-EG-999", Exec("iptables-save", "-t", "filter"), StringComparison.Ordinal);
    }
    [KernelFact]
    public async Task Check_DualStackNetSets_CleanAfterApplyAndNamesADeletedMember()
    {
        var snapshot = NetpolModel.DualStack.Snapshot(
            Netpol.Policy("x", "from-y").Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))])),
            Netpol.Policy("y", "egress").Egress(Netpol.EgressRule([Netpol.IPBlock("198.18.0.0/15", "198.18.10.0/24"), Netpol.IPBlock("fd00:198::/64", NetpolModel.NamespaceCidr("y", System.Net.Sockets.AddressFamily.InterNetworkV6))])));
        await using var lab = await LabIptables.StartAsync(snapshot, p => p is "x/a" or "y/a");
        var node = lab.Lab.Node.Name;
        string Exec(params string[] args) => Shell.Run("ip", ["netns", "exec", node, .. args]);
        var ruleset = lab.Apply(snapshot);
        Assert.False(lab.Applier.Check(ruleset).HasDrift, lab.Applier.Check(ruleset).ToString());

        var add = ruleset.IpsetRestore.Split('\n').First(l => l.StartsWith("add NP-", StringComparison.Ordinal) && l.Contains("-v6-net-tmp ", StringComparison.Ordinal)).Split(' ');
        var set = add[1][..^4];
        Exec("ipset", "del", set, add[2]);

        var item = Assert.Single(lab.Applier.Check(ruleset).Items);
        Assert.Equal((DriftKind.Changed, "set", set), (item.Kind, item.ObjectType, item.Name));
        Assert.Contains(System.Net.IPNetwork.Parse(add[2]).ToString(), item.Detail, StringComparison.Ordinal);
        Assert.True(lab.Applier.Repair(ruleset));
        Assert.False(lab.Applier.Check(ruleset).HasDrift, lab.Applier.Check(ruleset).ToString());
    }
}
