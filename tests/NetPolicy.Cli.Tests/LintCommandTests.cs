using System.Text.Json;
using System.Text.RegularExpressions;

namespace NetPolicy.Cli.Tests;

public sealed partial class LintCommandTests
{
    /// <summary>web's egress allows only postgres: DNS is blocked (NP4004, an error); api is left without ingress isolation.</summary>
    private const string NoDns = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: shop
          labels:
            app: web
        status:
          podIPs:
          - ip: 198.18.1.1
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: db
          namespace: shop
          labels:
            app: db
        status:
          podIPs:
          - ip: 198.18.1.2
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: web-egress
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: web
          policyTypes: [Egress]
          egress:
          - to:
            - podSelector:
                matchLabels:
                  app: db
            ports:
            - port: 5432
        """;

    /// <summary>A policy whose podSelector selects no pod (NP4001, a warning) and whose peer selects nothing (NP4002).</summary>
    private const string Ghost = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: shop
          labels:
            app: web
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: ghost
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: gone
          ingress:
          - from:
            - podSelector:
                matchLabels:
                  app: nobody
        """;

    [GeneratedRegex(@"^(?<file>.+):(?<line>\d+):\d+: (?<severity>error|warning|info) (?<code>NP40\d\d): (NetworkPolicy|Pod) [a-z0-9-]+/[a-z0-9-]+")]
    private static partial Regex FindingLine();

    private static int LineOf(string text, string fragment) =>
        text.Split('\n').Select((line, i) => (line, i)).First(x => x.line.Contains(fragment, StringComparison.Ordinal)).i + 1;

    [Fact]
    public void Lint_Sample_PrintsFindingsWithFileLineAndExitsZero()
    {
        var run = Netpol.Run("lint", Netpol.PaymentsSample);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd('\n').Split('\n');
        var findings = lines[..^1];
        Assert.NotEmpty(findings);
        Assert.All(findings, l => Assert.Matches(FindingLine(), l));
        Assert.All(findings, l => Assert.Equal(Netpol.PaymentsSample, FindingLine().Match(l).Groups["file"].Value));
        Assert.Contains(findings, l => l.Contains(" warning NP4003: Pod production/frontend", StringComparison.Ordinal));
        Assert.Matches(@"^\d+ finding\(s\): 0 error\(s\), \d+ warning\(s\), \d+ info$", lines[^1]);
    }

    [Theory]
    [InlineData("warning", 1)]
    [InlineData("error", 0)]
    [InlineData("none", 0)]
    public void Lint_FailOn_SetsTheExitCodeBySeverity(string threshold, int exitCode)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("ghost.yaml", Ghost);

        var run = Netpol.Run("lint", path, "--fail-on", threshold);

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains(" warning NP4001: NetworkPolicy shop/ghost (spec.podSelector)", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_BlockedDns_IsAnErrorAndExitsOne()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("nodns.yaml", NoDns);

        var run = Netpol.Run("lint", path);

        Assert.True(run.ExitCode == 1, run.ToString());
        var line = Assert.Single(run.Stdout.Split('\n'), l => l.Contains("NP4004", StringComparison.Ordinal));
        Assert.StartsWith($"{path}:1:1: error NP4004: Pod shop/web: ", line, StringComparison.Ordinal);
        Assert.Contains("web-egress", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_FormatSarif_PointsAtTheFieldLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("ghost.yaml", Ghost);

        var run = Netpol.Run("lint", path, "--format", "sarif", "--fail-on", "none");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal("2.1.0", doc.RootElement.GetProperty("version").GetString());
        var run0 = doc.RootElement.GetProperty("runs")[0];
        Assert.Equal("netpol", run0.GetProperty("tool").GetProperty("driver").GetProperty("name").GetString());
        var results = run0.GetProperty("results").EnumerateArray().ToList();
        var noPod = Assert.Single(results, r => r.GetProperty("ruleId").GetString() == "NP4001");
        var physical = noPod.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.EndsWith("ghost.yaml", physical.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
        Assert.Equal(LineOf(Ghost, "podSelector:"), physical.GetProperty("region").GetProperty("startLine").GetInt32());
        var peer = Assert.Single(results, r => r.GetProperty("ruleId").GetString() == "NP4002");
        Assert.Equal(LineOf(Ghost, "- podSelector:"), peer.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32());
    }

    [Fact]
    public void Lint_FormatJson_ListsFindings()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("ghost.yaml", Ghost);

        var run = Netpol.Run("lint", path, "--format", "json");

        using var doc = JsonDocument.Parse(run.Stdout);
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        var finding = Assert.Single(findings, f => f.GetProperty("code").GetString() == "NP4001");
        Assert.Equal("shop/ghost", finding.GetProperty("object").GetString());
        Assert.Equal(path, finding.GetProperty("file").GetString());
        Assert.Equal(LineOf(Ghost, "podSelector:"), finding.GetProperty("line").GetInt32());
    }

    [Fact]
    public void Lint_Disable_SkipsTheCheck()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("nodns.yaml", NoDns);

        var run = Netpol.Run("lint", path, "--disable", "NP4004");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("NP4004", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_DisableUnknownCode_IsAUsageError()
    {
        var run = Netpol.Run("lint", Netpol.PaymentsSample, "--disable", "NP1003");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--disable 'NP1003' is not a lint code", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_InvalidInput_ReportsTheDiagnosticWithFileLineAndExitsOne()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("bad.yaml", Manifests.InvalidCidr);

        var run = Netpol.Run("lint", path);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{path}:{Manifests.InvalidCidrLine}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("shop/bad-cidr", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }
}
