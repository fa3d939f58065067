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
