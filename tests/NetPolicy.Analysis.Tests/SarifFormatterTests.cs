using System.Text.Json;
using NetPolicy.Compiler;
using static NetPolicy.Analysis.Tests.Fixtures;

namespace NetPolicy.Analysis.Tests;

public class SarifFormatterTests
{
    private static LintFinding Finding(string code, DiagnosticSeverity severity, SourceLocation? location) => new()
    {
        Code = code,
        Severity = severity,
        ObjectKind = "NetworkPolicy",
        ObjectName = "shop/web",
        FieldPath = "spec.podSelector",
        Location = location,
        Message = "a message",
    };

    [Fact]
    public void Format_LintFindings_HasTheShapeCodeScanningRequires()
    {
        var findings = PolicyLinter.Lint(Shop(Ingress("ghost", App("missing")), Egress("web", App("web"))), new PolicyLintOptions
        {
            Sources = ObjectSources.Create(
                [KeyValuePair.Create("shop/ghost", new ObjectSource { Location = new SourceLocation("deploy/policies.yaml", 7) })],
                ShopPods().Select((p, i) => KeyValuePair.Create(p.Key, new ObjectSource { Location = new SourceLocation("deploy/pods.yaml", 1 + (10 * i)) }))),
        });

        using var document = JsonDocument.Parse(SarifFormatter.Format(AnalysisRule.LintRules, findings, "1.2.3"));

        var root = document.RootElement;
        Assert.Equal("2.1.0", root.GetProperty("version").GetString());
        Assert.Contains("sarif", root.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        var run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        var driver = run.GetProperty("tool").GetProperty("driver");
        Assert.Equal("netpol", driver.GetProperty("name").GetString());
        var ruleIds = driver.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(AnalysisRule.LintRules.Select(r => r.Code), ruleIds);
        Assert.All(driver.GetProperty("rules").EnumerateArray(), r => Assert.False(string.IsNullOrEmpty(r.GetProperty("shortDescription").GetProperty("text").GetString())));
        var results = run.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(findings.Length, results.Count);
        Assert.Contains(results, r => r.GetProperty("ruleId").GetString() == LintCodes.PolicySelectsNoPod);
        Assert.Contains(results, r => r.GetProperty("level").GetString() == "error");
        foreach (var result in results)
        {
            var ruleId = result.GetProperty("ruleId").GetString();
            Assert.Equal(ruleId, ruleIds[result.GetProperty("ruleIndex").GetInt32()]);
            Assert.Contains(result.GetProperty("level").GetString(), new[] { "error", "warning", "note" });
            Assert.False(string.IsNullOrEmpty(result.GetProperty("message").GetProperty("text").GetString()));
            var physical = Assert.Single(result.GetProperty("locations").EnumerateArray()).GetProperty("physicalLocation");
            Assert.StartsWith("deploy/", physical.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
            Assert.True(physical.GetProperty("region").GetProperty("startLine").GetInt32() >= 1);
        }
    }

    [Theory]
    [InlineData(DiagnosticSeverity.Error, "error")]
    [InlineData(DiagnosticSeverity.Warning, "warning")]
    [InlineData(DiagnosticSeverity.Info, "note")]
    public void Format_Severity_MapsToSarifLevel(DiagnosticSeverity severity, string level)
    {
        var sarif = SarifFormatter.Format(AnalysisRule.LintRules, [Finding(LintCodes.PolicySelectsNoPod, severity, new SourceLocation("a b/p.yaml", 3, 5))], "1");

        using var document = JsonDocument.Parse(sarif);
        var result = document.RootElement.GetProperty("runs")[0].GetProperty("results")[0];

        Assert.Equal(level, result.GetProperty("level").GetString());
        var physical = result.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal("a%20b/p.yaml", physical.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal(3, physical.GetProperty("region").GetProperty("startLine").GetInt32());
        Assert.Equal(5, physical.GetProperty("region").GetProperty("startColumn").GetInt32());
    }

    [Fact]
    public void Format_FindingWithoutFile_HasOnlyALogicalLocation()
    {
        var sarif = SarifFormatter.Format(AnalysisRule.LintRules, [Finding(LintCodes.PolicySelectsNoPod, DiagnosticSeverity.Warning, new SourceLocation("-", 3))], "1");

        using var document = JsonDocument.Parse(sarif);
        var location = document.RootElement.GetProperty("runs")[0].GetProperty("results")[0].GetProperty("locations")[0];

        Assert.False(location.TryGetProperty("physicalLocation", out _));
        Assert.Equal("shop/web", location.GetProperty("logicalLocations")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Format_UnknownCode_Throws()
    {
        var exception = Assert.Throws<ArgumentException>(() => SarifFormatter.Format(AnalysisRule.LintRules, [Finding("NP4999", DiagnosticSeverity.Warning, null)], "1"));

        Assert.Contains("NP4999", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_DiffFindings_UseTheDiffRules()
    {
        var diff = ConnectionDiffer.Diff(Shop(), Shop(Ingress("deny-db", App("db"))), options: null);

        using var document = JsonDocument.Parse(SarifFormatter.Format(AnalysisRule.DiffRules, diff.ToFindings(ObjectSources.None), "1"));

        var results = document.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(diff.Changes.Length, results.Count);
        Assert.All(results, r => Assert.Equal(LintCodes.ConnectionClosed, r.GetProperty("ruleId").GetString()));
        Assert.All(results, r => Assert.Equal("shop/deny-db", r.GetProperty("locations")[0].GetProperty("logicalLocations")[0].GetProperty("name").GetString()));
    }
}
