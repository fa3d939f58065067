using System.Net.Sockets;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Nftables.Tests;

/// <summary>Golden files, determinism and option validation of <see cref="NftablesRenderer"/>. Run with
/// <c>NETPOLICY_UPDATE_GOLDEN=1</c> to rewrite <c>Nftables/Golden/*.nft</c> in the source tree, then review the diff.</summary>
public sealed class NftablesRendererTests
{
    private const string UpdateVariable = "NETPOLICY_UPDATE_GOLDEN";

    public static TheoryData<string> GoldenScenarios => [.. s_scenarios.Keys.Order(StringComparer.Ordinal)];

    private static readonly Dictionary<string, Func<(ClusterSnapshot Snapshot, NftablesRenderOptions? Options)>> s_scenarios = new()
    {
        ["ingress-ports"] = () => (NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "a-from-y", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule(
                [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))],
                [Netpol.Port(80), Netpol.Port(8080, TransportProtocol.Udp, endPort: 8095), Netpol.ProtocolOnly(TransportProtocol.Sctp)]))), null),
        ["egress-ipblock-except-dual-stack"] = () => (NetpolModel.DualStack.Snapshot(
            Netpol.Policy("x", "egress-block").Egress(Netpol.EgressRule(
                [Netpol.IPBlock("198.18.0.0/16", NetpolModel.NamespaceCidr("y")), Netpol.IPBlock("fd00:198::/64", NetpolModel.HostCidr("z/c", AddressFamily.InterNetworkV6))],
                [Netpol.Port(53, TransportProtocol.Udp)]))), null),
        ["fail-closed-host-addresses"] = () => (NetpolModel.DualStack.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()), new NftablesRenderOptions
        {
            PodCidrs = [.. NetfilterScenarios.PodCidrs],
            HostAddresses = [System.Net.IPAddress.Parse("198.19.255.254"), System.Net.IPAddress.Parse("fd00:198::fffe:fffe")],
        }),
        ["named-port-egress"] = () => (NetfilterScenarios.NamedPortEgress(), null),
        ["deny-all-strict-logged"] = () => (NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "deny-all").Ingress().Egress(),
            Netpol.Policy("y", "allow-all-ingress").Ingress(Netpol.IngressRule())),
            new NftablesRenderOptions { TableName = "np-test", Mode = NftablesEnforcementMode.Strict, LogPrefix = "np drop " }),
    };

    [Theory]
    [MemberData(nameof(GoldenScenarios))]
    public void Render_GoldenScenario_MatchesExpectedFile(string scenario)
    {
        var (snapshot, options) = s_scenarios[scenario]();
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();

        var text = NftablesRenderer.Render(policySet, options).Text;

        var path = Path.Combine(FindSourceRoot(), "tests", "NetPolicy.Compiler.Tests", "Nftables", "Golden", scenario + ".nft");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, text);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run with {UpdateVariable}=1 to create it");
        Assert.Equal(File.ReadAllText(path), text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Render_TwoCompilesOfRandomCluster_AreByteIdentical(int seed)
    {
        var first = NftablesRenderer.Render(new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors());
        var second = NftablesRenderer.Render(new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors());

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first, second);
        Assert.Equal("netpolicy", first.TableName);
    }

    [Fact]
    public void Render_Ruleset_StartsWithDeleteOfItsOwnTableOnly()
    {
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress())).ThrowIfErrors();

        var lines = NftablesRenderer.Render(policySet, new NftablesRenderOptions { TableName = "mine" }).Text.Split('\n');

        Assert.Equal(["table inet mine", "delete table inet mine", "table inet mine {"], lines.Where(l => l.StartsWith("table", StringComparison.Ordinal) || l.StartsWith("delete", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("flush ruleset", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_NonIsolatedDirection_HasNoDispatchEntry()
    {
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny", Netpol.Labels("pod", "a")).Ingress())).ThrowIfErrors();

        var text = NftablesRenderer.Render(policySet).Text;

        Assert.Contains(NetpolModel.IPv4Of("x/a") + " : jump rs-in-", text, StringComparison.Ordinal);
        Assert.DoesNotContain(NetpolModel.IPv4Of("x/b") + " :", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rs-out-", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1table")]
    [InlineData("has space")]
    public void Render_InvalidTableName_ThrowsArgumentException(string name)
    {
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot()).ThrowIfErrors();

        var ex = Assert.Throws<ArgumentException>(() => NftablesRenderer.Render(policySet, new NftablesRenderOptions { TableName = name }));

        Assert.StartsWith($"NftablesRenderOptions.TableName '{name}' is invalid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_LogPrefixWithQuote_ThrowsArgumentException()
    {
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot()).ThrowIfErrors();

        var ex = Assert.Throws<ArgumentException>(() => NftablesRenderer.Render(policySet, new NftablesRenderOptions { LogPrefix = "a\"b" }));

        Assert.StartsWith("NftablesRenderOptions.LogPrefix is invalid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_EgressNamedPortWithTwoPorts_UsesOneConcatenatedSet()
    {
        var text = NftablesRenderer.Render(new PolicyCompiler().Compile(NetfilterScenarios.NamedPortEgress()).ThrowIfErrors()).Text;

        var set = System.Text.RegularExpressions.Regex.Match(text, "\tset (np-[0-9a-f]{8}-v4) \\{\n\t\ttype ipv4_addr \\. inet_proto \\. inet_service\n\t\telements = \\{\n\t\t\t198\\.18\\.11\\.10 \\. tcp \\. 80,\n\t\t\t198\\.18\\.11\\.11 \\. tcp \\. 81,\n\t\t\t198\\.18\\.11\\.12 \\. tcp \\. 80,\n");
        Assert.True(set.Success, text);
        Assert.Contains($"\t\tip daddr . meta l4proto . th dport @{set.Groups[1].Value} return\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("dport 80", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PodCidrs_FailClosedOnAddressesWithoutEndpointUnlessFailOpen()
    {
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress())).ThrowIfErrors();
        var cidrs = System.Collections.Immutable.ImmutableArray.Create(System.Net.IPNetwork.Parse("198.18.0.0/16"), System.Net.IPNetwork.Parse("fd00:198::/64"));

        var closed = NftablesRenderer.Render(policySet, new NftablesRenderOptions { PodCidrs = cidrs }).Text;
        var open = NftablesRenderer.Render(policySet, new NftablesRenderOptions { PodCidrs = cidrs, FailOpen = true }).Text;

        Assert.Contains("\t\tip saddr { 198.18.0.0/16 } ip saddr != @endpoints-v4 counter drop\n", closed, StringComparison.Ordinal);
        Assert.Contains("\t\tip daddr { 198.18.0.0/16 } ip daddr != @endpoints-v4 counter drop\n", closed, StringComparison.Ordinal);
        Assert.Contains("\t\tip6 saddr { fd00:198::/64 } ip6 saddr != @endpoints-v6 counter drop\n", closed, StringComparison.Ordinal);
        Assert.Contains("\tset endpoints-v6 {\n\t\ttype ipv6_addr\n\t}\n", closed, StringComparison.Ordinal);
        Assert.Contains("\t\t\t" + NetpolModel.IPv4Of("z/c") + ",\n", closed[closed.IndexOf("set endpoints-v4", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Equal(NftablesRenderer.Render(policySet).Text, open);
    }

    [Fact]
    public void DiffFrom_PodLeavesPeerSet_DeletesOneElementOnly()
    {
        var policy = Netpol.Policy("x", "from-web").Ingress(Netpol.IngressRule([Netpol.Peer(podSelector: Netpol.Labels("app", "web"), namespaceSelector: Netpol.Everything())]));
        var a = new PolicyCompiler().Compile(NetpolModel.IPv4.WithPodLabel("y/a", "app", "web").WithPodLabel("y/b", "app", "web").Snapshot(policy)).ThrowIfErrors();
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.WithPodLabel("y/a", "app", "web").WithPodLabel("y/b", "app", "db").Snapshot(policy), a).ThrowIfErrors();

        var delta = NftablesRenderer.Render(b).DiffFrom(NftablesRenderer.Render(a));

        // y/a and y/b were one interval; now only y/a is left.
        Assert.Matches("^# Delta generated by NetPolicy.Compiler; applied with nft -f as one transaction.\ndelete element inet netpolicy (peers-[0-9]+-v4) \\{\n\t198\\.18\\.11\\.10-198\\.18\\.11\\.11,\n\\}\nadd element inet netpolicy \\1 \\{\n\t198\\.18\\.11\\.10,\n\\}\n$", delta.Text);
        Assert.Equal("elements +1 -1, chains written 0, deleted 0", delta.ToString());
        Assert.False(delta.IsFullReplacement);
        Assert.Single(delta.WrittenObjects);
    }

    [Fact]
    public void DiffFrom_PodBecomesIsolated_AddsChainThenMapEntriesAndTheReverseDeletesThemInOrder()
    {
        var a = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress())).ThrowIfErrors();
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress(), Netpol.Policy("y", "deny-egress", Netpol.Labels("pod", "a")).Egress()), a).ThrowIfErrors();
        var ra = NftablesRenderer.Render(a);
        var rb = NftablesRenderer.Render(b);

        var forward = rb.DiffFrom(ra).Text;
        var backward = ra.DiffFrom(rb).Text;

        var chain = System.Text.RegularExpressions.Regex.Match(rb.Text, "chain (rs-out-[0-9]+) ").Groups[1].Value;
        Assert.True(forward.IndexOf("\tchain " + chain + " {", StringComparison.Ordinal) < forward.IndexOf("add element inet netpolicy egress-dispatch-v4 {\n\t198.18.11.10 : jump " + chain + ",\n}\n", StringComparison.Ordinal), forward);
        Assert.StartsWith("# Delta", forward, StringComparison.Ordinal);
        Assert.True(backward.IndexOf("delete element inet netpolicy egress-dispatch-v4 {\n\t198.18.11.10,\n}\n", StringComparison.Ordinal) is var del and >= 0 && del < backward.IndexOf("delete chain inet netpolicy " + chain + "\n", StringComparison.Ordinal), backward);
        Assert.True(ra.DiffFrom(ra).IsEmpty);
        Assert.True(rb.DiffFrom(ra with { TableName = "other" }).IsFullReplacement);
    }

    private static string FindSourceRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NetPolicy.Compiler.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no directory above {AppContext.BaseDirectory} contains NetPolicy.Compiler.sln, so the golden files cannot be found.");
    }
}
