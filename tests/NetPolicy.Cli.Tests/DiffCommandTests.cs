using System.Text.Json;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Manifests;

namespace NetPolicy.Cli.Tests;

public sealed class DiffCommandTests
{
    /// <summary>The payments sample with the ingress port of payments-api moved from 8080 to 9090 (policy only).</summary>
    private static string PortMoved() => File.ReadAllText(Netpol.PaymentsSample).Replace("      port: 8080", "      port: 9090", StringComparison.Ordinal);

    private static ClusterSnapshot Load(string path) => new ManifestReader().ReadPaths([path]).ToSnapshot().Snapshot;

    [Fact]
    public void Diff_FormatJson_AgreesWithTheReferenceEvaluator()
    {
        using var dir = new TempDirectory();
        var after = dir.Write("after.yaml", PortMoved());

        var run = Netpol.Run("diff", Netpol.PaymentsSample, after, "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var changes = doc.RootElement.GetProperty("changes").EnumerateArray().ToList();
        Assert.Contains(changes, c => c.GetProperty("kind").GetString() == "opened" && c.GetProperty("ports").GetProperty("text").GetString() == "TCP/9090");
        Assert.Contains(changes, c => c.GetProperty("kind").GetString() == "closed" && c.GetProperty("ports").GetProperty("text").GetString() == "TCP/8080");
        var before = new PolicyEvaluator(Load(Netpol.PaymentsSample));
        var later = new PolicyEvaluator(Load(after));
        foreach (var change in changes.Where(c => c.GetProperty("source").GetProperty("pod").ValueKind == JsonValueKind.String &&
                                                  c.GetProperty("destination").GetProperty("pod").ValueKind == JsonValueKind.String))
        {
            var src = change.GetProperty("source").GetProperty("pod").GetString()!;
            var dst = change.GetProperty("destination").GetProperty("pod").GetString()!;
            Assert.True(TransportProtocolNames.TryParse(change.GetProperty("protocol").GetString(), out var protocol));
            var port = change.GetProperty("ports").GetProperty("first").GetInt32();
            var kind = change.GetProperty("kind").GetString();
            Assert.Equal(kind != "opened", before.Allows(src, dst, protocol, port));
            Assert.Equal(kind != "closed", later.Allows(src, dst, protocol, port));
            Assert.Equal(kind != "opened", change.GetProperty("before").GetProperty("allowed").GetBoolean());
        }

        var opened = changes.Single(c => c.GetProperty("kind").GetString() == "opened");
        var rule = opened.GetProperty("after").GetProperty("ingress").GetProperty("rule");
        Assert.Equal("production/payments-api-allow", rule.GetProperty("policy").GetString());
        Assert.Equal(0, rule.GetProperty("rule").GetInt32());
        var closed = changes.Single(c => c.GetProperty("kind").GetString() == "closed");
        Assert.Contains("production/default-deny-ingress", closed.GetProperty("after").GetProperty("denyingPolicies").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public void Diff_FailOnOpen_ExitsThreeWhenAConnectionOpens()
    {
        using var dir = new TempDirectory();
        var after = dir.Write("after.yaml", PortMoved());

        var opened = Netpol.Run("diff", Netpol.PaymentsSample, after, "--fail-on-open");
        var unchanged = Netpol.Run("diff", after, after, "--fail-on-open");
        var withoutFlag = Netpol.Run("diff", Netpol.PaymentsSample, after);

        Assert.True(opened.ExitCode == 3, opened.ToString());
        Assert.True(unchanged.ExitCode == 0, unchanged.ToString());
        Assert.True(withoutFlag.ExitCode == 0, withoutFlag.ToString());
        Assert.StartsWith("connections: 1 opened, 1 closed, 0 changed; 0 pod(s) added, 0 removed\n", opened.Stdout, StringComparison.Ordinal);
        Assert.Equal(opened.Stdout, withoutFlag.Stdout);
        Assert.Equal("connections: 0 opened, 0 closed, 0 changed; 0 pod(s) added, 0 removed\n", unchanged.Stdout);
    }

    [Fact]
    public void Diff_DefaultDenyAdded_OnlyClosesSoFailOnOpenExitsZero()
    {
        using var dir = new TempDirectory();
        var after = dir.Write("after.yaml", File.ReadAllText(Netpol.PaymentsSample) + """

            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: deny-default
              namespace: default
            spec:
              podSelector: {}
            """);

        var run = Netpol.Run("diff", Netpol.PaymentsSample, after, "--fail-on-open", "--no-external");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^connections: 0 opened, [1-9]\d* closed, 0 changed", lines[0]);
        Assert.All(lines[1..], l => Assert.Matches(@"^closed production/[a-z-]+ -> default/netshoot (TCP|UDP|SCTP)/(\d+|other|\*): denied: ingress isolated by default/deny-default", l));
    }

    [Fact]
    public void Diff_FormatMd_HasASummaryLineAndTables()
    {
        using var dir = new TempDirectory();
        var after = dir.Write("after.yaml", PortMoved());

        var run = Netpol.Run("diff", Netpol.PaymentsSample, after, "--format", "md");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("### NetworkPolicy connection diff\n\n**1 opened, 1 closed, 0 changed; 0 pod(s) added, 0 removed**\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("#### Opened (1)\n\n| Source | Destination | Port | Allowed by (after) |\n|---|---|---|---|\n| `production/nginx-ingress` | `production/payments-api` | TCP/9090 |", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("#### Closed (1)", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_FormatSarif_LocatesOpenedConnectionsAtTheAllowingRule()
    {
        using var dir = new TempDirectory();
        var text = PortMoved();
        var after = dir.Write("after.yaml", text);

        var run = Netpol.Run("diff", Netpol.PaymentsSample, after, "--format", "sarif");

        using var doc = JsonDocument.Parse(run.Stdout);
        var run0 = doc.RootElement.GetProperty("runs")[0];
        Assert.Equal(["NP4101", "NP4102", "NP4103"], run0.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var opened = Assert.Single(run0.GetProperty("results").EnumerateArray(), r => r.GetProperty("ruleId").GetString() == "NP4101");
        var physical = opened.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.EndsWith("/after.yaml", physical.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
        var line = text.Split('\n')[physical.GetProperty("region").GetProperty("startLine").GetInt32() - 1];
        var policyLine = text.Split('\n').Select((l, i) => (l, i)).First(x => x.l.Contains("name: payments-api-allow", StringComparison.Ordinal)).i;
        Assert.Equal("  - from:", line);
        Assert.True(physical.GetProperty("region").GetProperty("startLine").GetInt32() > policyLine);
    }

    [Fact]
    public void Diff_InvalidAfter_ReportsTheObjectAndFileLineAndExitsOne()
    {
        using var dir = new TempDirectory();
        var after = dir.Write("after.yaml", Manifests.InvalidCidr);

        var run = Netpol.Run("diff", Netpol.PaymentsSample, after);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{after}:{Manifests.InvalidCidrLine}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("NetworkPolicy shop/bad-cidr", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public void Diff_MissingFile_ExitsOneWithoutStackTrace()
    {
        var run = Netpol.Run("diff", Netpol.PaymentsSample, "/nonexistent/after.yaml");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("/nonexistent/after.yaml", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("diff", "only-one.yaml")]
    [InlineData("diff", "-", "-")]
    [InlineData("diff", "a.yaml", "b.yaml", "--format", "html")]
    public void Diff_BadArguments_AreUsageErrors(params string[] args)
    {
        var run = Netpol.Run(args);

        Assert.True(run.ExitCode == 2, run.ToString());
    }
}
