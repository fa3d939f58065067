using System.Runtime.CompilerServices;
using static NetPolicy.Analysis.Tests.Fixtures;

namespace NetPolicy.Analysis.Tests;

/// <summary>The Markdown of a diff is compared to a golden file; <c>NETPOLICY_UPDATE_GOLDEN=1</c> rewrites it.</summary>
public class MarkdownGoldenTests
{
    [Fact]
    public void ToMarkdown_ShopChange_MatchesGolden()
    {
        var beforePods = ShopPods();
        var afterPods = ShopPods().Append(Pod("shop", "worker", "10.0.0.9", "worker")).ToList();
        var before = Snapshot(beforePods,
            Ingress("db-from-web", App("db"), Rule([PodPeer("web")], Tcp(5432))),
            Ingress("web-from-lb", App("web"), Rule([Block("198.51.100.0/24")], Tcp(8080))));
        var after = Snapshot(afterPods,
            Ingress("db-clients", App("db"), Rule([PodPeer("web")], Tcp(5432)), Rule([PodPeer("api")], Tcp(5432))),
            Ingress("web-from-lb", App("web"), Rule([Block("198.51.100.0/25")], Tcp(8080))));

        var markdown = ConnectionDiffer.Diff(before, after, new ConnectionDiffOptions()).ToMarkdown();

        AssertGolden("diff.md", markdown);
    }

    [Fact]
    public void ToMarkdown_MaxRows_CutsEachTableAndSaysHowManyAreLeftOut()
    {
        var diff = ConnectionDiffer.Diff(Shop(), Shop(Ingress("deny-db", App("db"))), options: null);
        var closed = diff.Closed.Count();

        var markdown = diff.ToMarkdown(2);

        Assert.True(closed > 2);
        Assert.Equal(2, markdown.Split('\n').Count(l => l.StartsWith("| `", StringComparison.Ordinal)));
        Assert.Contains($"\n… and {closed - 2} more closed connection(s) not shown.\n", markdown, StringComparison.Ordinal);
        Assert.Equal(diff.ToMarkdown(), diff.ToMarkdown(closed));
        Assert.Throws<ArgumentOutOfRangeException>(() => diff.ToMarkdown(0));
    }

    [Fact]
    public void ToMarkdown_NoChange_SaysSo()
    {
        var markdown = ConnectionDiffer.Diff(Shop(), Shop(), options: null).ToMarkdown();

        Assert.Equal("### NetworkPolicy connection diff\n\n**0 opened, 0 closed, 0 changed; 0 pod(s) added, 0 removed**\n\nNo connection changes.\n", markdown);
    }

    private static void AssertGolden(string name, string actual, [CallerFilePath] string sourceFile = "")
    {
        var sourcePath = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Golden", name);
        if (Environment.GetEnvironmentVariable("NETPOLICY_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(sourcePath, actual);
            return;
        }

        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", name));
        Assert.Equal(expected, actual);
    }
}
