using System.Text.Json;
using System.Text.RegularExpressions;

namespace NetPolicy.Cli.Tests;

/// <summary>The html, mermaid and dot formats of <c>matrix</c>, checked against the json format of the same run.</summary>
public sealed partial class MatrixFormatTests
{
    [GeneratedRegex(@"^\s+(p\d+)\[""([^""]*)""\]$")]
    private static partial Regex MermaidNode();

    [GeneratedRegex(@"^\s+(p\d+) --> (p\d+)$")]
    private static partial Regex MermaidEdge();

    [GeneratedRegex(@"^\s+""([^""]+)"" -> ""([^""]+)"";$")]
    private static partial Regex DotEdge();

    private static (string[] Pods, bool[][] Allowed) Reference(string port, string protocol)
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port, "--protocol", protocol, "--format", "json");
        using var doc = JsonDocument.Parse(run.Stdout);
        var pods = doc.RootElement.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!).ToArray();
        var allowed = doc.RootElement.GetProperty("allowed").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetBoolean()).ToArray()).ToArray();
        return (pods, allowed);
    }

    private static HashSet<(string, string)> ExpectedEdges(string port, string protocol)
    {
        var (pods, allowed) = Reference(port, protocol);
        var edges = new HashSet<(string, string)>();
        for (var i = 0; i < pods.Length; i++)
        {
            for (var j = 0; j < pods.Length; j++)
            {
                if (i != j && allowed[i][j])
                {
                    edges.Add((pods[i], pods[j]));
                }
            }
        }

        return edges;
    }

    [Theory]
    [InlineData("8080", "TCP")]
    [InlineData("53", "UDP")]
    public void Matrix_FormatMermaid_EdgesAreTheAllowedPairs(string port, string protocol)
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port, "--protocol", protocol, "--format", "mermaid");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("flowchart LR", lines[0]);
        var names = new Dictionary<string, string>();
        string? ns = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("  subgraph ", StringComparison.Ordinal))
            {
                ns = Regex.Match(line, @"\[""(.*)""\]").Groups[1].Value;
            }
            else if (MermaidNode().Match(line) is { Success: true } node)
            {
                names[node.Groups[1].Value] = ns + "/" + node.Groups[2].Value;
            }
        }

        var edges = lines.Select(l => MermaidEdge().Match(l)).Where(m => m.Success).Select(m => (names[m.Groups[1].Value], names[m.Groups[2].Value])).ToHashSet();
        Assert.Equal(Reference(port, protocol).Pods.Order(StringComparer.Ordinal), names.Values.Order(StringComparer.Ordinal));
        Assert.Equal(ExpectedEdges(port, protocol), edges);
        Assert.NotEmpty(edges);
    }

    [Theory]
    [InlineData("8080", "TCP")]
    [InlineData("5432", "TCP")]
    public void Matrix_FormatDot_EdgesAreTheAllowedPairs(string port, string protocol)
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port, "--protocol", protocol, "--format", "dot");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("digraph netpol {\n", run.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("}\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("  subgraph \"cluster_production\" {\n    label=\"production\";\n", run.Stdout, StringComparison.Ordinal);
        var edges = run.Stdout.Split('\n').Select(l => DotEdge().Match(l)).Where(m => m.Success).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToHashSet();
        Assert.Equal(ExpectedEdges(port, protocol), edges);
    }

    [Fact]
    public void Matrix_FormatHtml_IsASelfContainedTableOfTheVerdicts()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--format", "html");

        Assert.True(run.ExitCode == 0, run.ToString());
        var html = run.Stdout;
        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);
        var (pods, allowed) = Reference("8080", "TCP");
        var rows = Regex.Matches(html, @"<tr><th scope=""row"" class=""from"">([^<]*)</th>(.*?)</tr>");
        Assert.Equal(pods, rows.Select(r => r.Groups[1].Value));
        for (var i = 0; i < pods.Length; i++)
        {
            var cells = Regex.Matches(rows[i].Groups[2].Value, @"<td class=""(allowed|denied)"">").Select(c => c.Groups[1].Value == "allowed");
            Assert.Equal(allowed[i], cells);
        }
    }
}
