using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing.Tests;

[Collection(EnvironmentGroup.Name)]
public sealed class ReachabilitySnapshotTests : IDisposable
{
    private static readonly ReachabilitySnapshotOptions Compare = new() { Update = false, CreateMissing = false };
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("netpol-snapshots-");

    // Payments without payments-api-allow: nothing reaches payments-api.
    private static readonly Lazy<PolicyTestCluster> s_withoutAllow = new(() =>
    {
        var text = File.ReadAllText(TestClusters.PaymentsPath);
        var cut = text.IndexOf("# Step 2", StringComparison.Ordinal);
        return PolicyTestCluster.FromYaml(text[..cut], "payments-without-allow.yaml");
    });

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Payments_MatchesCommittedSnapshot()
    {
        var outcome = TestClusters.Payments.AssertMatchesSnapshot("Snapshots/payments.tcp-8080.txt", 8080);

        Assert.Equal(SnapshotOutcome.Matched, outcome);
    }

    [Fact]
    public void Format_IsReadableAndSortedByPod()
    {
        var matrix = new ReachabilityMatrix(TransportProtocol.Udp, 53, ["b/two", "a/one"], [[true, false], [true, true]]);

        var text = ReachabilitySnapshot.Format(matrix);

        Assert.Equal(
            """
            # NetPolicy.Testing reachability snapshot: UDP/53
            # Row i, column j: may pod i open a connection to pod j? "." allowed, "X" denied.
            # Regenerate with NETPOL_UPDATE_SNAPSHOTS=1 and review the diff like code.
            protocol: UDP
            port: 53
            pods:
              0 a/one
              1 b/two
            matrix:
                0 1
              0 . .
              1 X .

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void Parse_FormattedMatrix_RoundTrips()
    {
        var matrix = TestClusters.Payments.Matrix(8080);

        var parsed = ReachabilitySnapshot.Parse(ReachabilitySnapshot.Format(matrix), "x.txt");

        Assert.Equal(matrix, parsed);
        Assert.Empty(ReachabilitySnapshot.Diff(matrix, parsed));
    }

    [Fact]
    public void Parse_BadCell_ThrowsWithFileAndLine()
    {
        var text = ReachabilitySnapshot.Format(TestClusters.Payments.Matrix(8080)).Replace("  1 . ", "  1 ? ", StringComparison.Ordinal);

        var ex = Assert.Throws<PolicyInputException>(() => ReachabilitySnapshot.Parse(text, "snap.txt"));

        Assert.Contains("snap.txt:15: error NP1901: matrix row 1 must have 5 cells, each '.' or 'X'.", ex.Message);
    }

    [Fact]
    public void Parse_Truncated_ThrowsSayingWhatIsMissing()
    {
        var ex = Assert.Throws<PolicyInputException>(() => ReachabilitySnapshot.Parse("port: 80\npods:\n  0 a/b\n", "t.txt"));

        Assert.Contains("'protocol:' is missing.", ex.Message);
        Assert.Contains("the matrix has 0 row(s) for 1 pod(s)", ex.Message);
    }

    [Fact]
    public void AssertMatchesSnapshot_Missing_CreatesItThenMatches()
    {
        var path = Path.Combine(_dir.FullName, "nested", "payments.txt");

        var created = TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: new ReachabilitySnapshotOptions { Update = false, CreateMissing = true });
        var matched = TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: Compare);

        Assert.Equal(SnapshotOutcome.Created, created);
        Assert.Equal(SnapshotOutcome.Matched, matched);
        Assert.Equal(ReachabilitySnapshot.Format(TestClusters.Payments.Matrix(8080)), File.ReadAllText(path));
    }

    [Fact]
    public void AssertMatchesSnapshot_MissingWithoutCreate_Throws()
    {
        var path = Path.Combine(_dir.FullName, "absent.txt");

        var ex = Assert.Throws<PolicyAssertionException>(() => TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: Compare));

        Assert.Contains($"The reachability snapshot {path} does not exist.", ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AssertMatchesSnapshot_Changed_ThrowsWithTheChangedPairsAndLeavesTheFile()
    {
        var path = Path.Combine(_dir.FullName, "payments.txt");
        File.WriteAllText(path, ReachabilitySnapshot.Format(s_withoutAllow.Value.Matrix(8080)));
        var before = File.ReadAllText(path);

        var ex = Assert.Throws<PolicyAssertionException>(() => TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: Compare));

        Assert.Contains($"The reachability matrix TCP/8080 differs from the snapshot {path} in 2 place(s):", ex.Message);
        Assert.Contains("production/nginx-ingress -> production/payments-api: was denied, now allowed", ex.Message);
        Assert.Contains("production/payments-api -> default/netshoot: was allowed, now denied", ex.Message);
        Assert.Contains("denied by the source's egress policies (production/payments-api-allow).", ex.Message);
        Assert.Contains("allowed: egress not isolated and ingress allowed by production/payments-api-allow", ex.Message);
        Assert.Contains("NETPOL_UPDATE_SNAPSHOTS=1", ex.Message);
        Assert.Equal(before, File.ReadAllText(path));
    }

    [Fact]
    public void AssertMatchesSnapshot_ChangedWithUpdate_RewritesTheFile()
    {
        var path = Path.Combine(_dir.FullName, "payments.txt");
        File.WriteAllText(path, ReachabilitySnapshot.Format(s_withoutAllow.Value.Matrix(8080)));

        var outcome = TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: new ReachabilitySnapshotOptions { Update = true, CreateMissing = false });

        Assert.Equal(SnapshotOutcome.Updated, outcome);
        Assert.Equal(SnapshotOutcome.Matched, TestClusters.Payments.AssertMatchesSnapshot(path, 8080, options: Compare));
    }

    [Fact]
    public void EnvironmentVariable_UpdateOn_RewritesInsteadOfFailing()
    {
        var path = Path.Combine(_dir.FullName, "payments.txt");
        File.WriteAllText(path, ReachabilitySnapshot.Format(s_withoutAllow.Value.Matrix(8080)));
        var saved = Environment.GetEnvironmentVariable(ReachabilitySnapshotOptions.UpdateVariable);
        try
        {
            Environment.SetEnvironmentVariable(ReachabilitySnapshotOptions.UpdateVariable, "0");
            Assert.Throws<PolicyAssertionException>(() => TestClusters.Payments.AssertMatchesSnapshot(path, 8080));

            Environment.SetEnvironmentVariable(ReachabilitySnapshotOptions.UpdateVariable, "1");
            var outcome = TestClusters.Payments.AssertMatchesSnapshot(path, 8080);

            Assert.Equal(SnapshotOutcome.Updated, outcome);
            Assert.Equal(ReachabilitySnapshot.Format(TestClusters.Payments.Matrix(8080)), File.ReadAllText(path));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ReachabilitySnapshotOptions.UpdateVariable, saved);
        }
    }

    [Fact]
    public void EnvironmentVariable_CI_TurnsOffCreatingMissingSnapshots()
    {
        var saved = Environment.GetEnvironmentVariable("CI");
        try
        {
            Environment.SetEnvironmentVariable("CI", "true");
            Assert.False(new ReachabilitySnapshotOptions().CreateMissing);
            Environment.SetEnvironmentVariable("CI", null);
            Assert.True(new ReachabilitySnapshotOptions().CreateMissing);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CI", saved);
        }
    }

    [Fact]
    public void Diff_PodsAddedAndRemoved_AreListedFirst()
    {
        var before = new ReachabilityMatrix(TransportProtocol.Tcp, 80, ["a/one", "a/two"], [[true, true], [true, true]]);
        var after = new ReachabilityMatrix(TransportProtocol.Tcp, 80, ["a/one", "a/three"], [[true, false], [true, true]]);

        var diff = ReachabilitySnapshot.Diff(before, after);

        Assert.Equal(new[] { "pod removed: a/two", "pod added: a/three (reaches 1, reached by 0 of the other 1 pods)" }, diff.AsEnumerable());
    }

    [Fact]
    public void SourcePaths_DeterministicCallerPath_FindsTheSourceDirectoryAboveTheBinaries()
    {
        var resolved = SourcePaths.Resolve("Snapshots/x.txt", "/_/tests/NetPolicy.Testing.Tests/ReachabilitySnapshotTests.cs");

        Assert.EndsWith(Path.Combine("tests", "NetPolicy.Testing.Tests", "Snapshots", "x.txt"), resolved);
        Assert.True(Directory.Exists(Path.GetDirectoryName(resolved)));
    }
}

/// <summary>Tests that change process environment variables run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentGroup
{
    public const string Name = "Environment";
}
