using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Datapath;

/// <summary>The kernel's verdicts (<c>BPF_PROG_TEST_RUN</c> of both endpoint programs on crafted packets) must equal the
/// reference evaluator's on every flow of the ported upstream e2e scenarios and of random clusters.</summary>
[Collection("Kernel")]
public sealed class BpfDatapathDifferentialTests
{
    public static TheoryData<int> Seeds()
    {
        var seeds = Environment.GetEnvironmentVariable("NETPOLICY_SEED") is { } s ? [int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)] : Enumerable.Range(1, 200);
        var data = new TheoryData<int>();
        foreach (var seed in seeds)
        {
            data.Add(seed);
        }

        return data;
    }

    [KernelFact]
    public void TestRun_EveryE2eScenario_AgreesWithReferenceEvaluator()
    {
        using var harness = new DatapathHarness();
        var failures = new List<string>();

        foreach (var (name, snapshot) in E2eScenarios.All)
        {
            var mismatches = harness.Check(snapshot, maxMismatches: 3);
            if (mismatches.Count > 0)
            {
                failures.Add($"{name}:\n  " + string.Join("\n  ", mismatches));
            }
        }

        Assert.True(harness.FlowsChecked > 100_000, $"only {harness.FlowsChecked} flows were checked");
        Assert.True(E2eScenarios.All.Count >= 100, $"only {E2eScenarios.All.Count} e2e scenarios were collected");
        Assert.True(failures.Count == 0, $"{failures.Count} of {E2eScenarios.All.Count} scenarios disagree ({harness.FlowsChecked} flows):\n" + string.Join("\n", failures.Take(5)));
    }

    [KernelFact]
    public void TestRun_RandomClusters_AgreeWithReferenceEvaluator()
    {
        using var harness = new DatapathHarness();
        var failures = new List<string>();

        foreach (var seed in ((IEnumerable<object[]>)Seeds()).Select(row => (int)row[0]))
        {
            var mismatches = harness.Check(RandomCluster.Create(seed), RandomCluster.ExternalAddresses);
            if (mismatches.Count > 0)
            {
                failures.Add($"seed {seed} (replay with NETPOLICY_SEED={seed}):\n  " + string.Join("\n  ", mismatches));
            }
        }

        Assert.True(harness.FlowsChecked > 100_000, $"only {harness.FlowsChecked} flows were checked");
        Assert.True(failures.Count == 0, $"{failures.Count} seeds disagree ({harness.FlowsChecked} flows):\n" + string.Join("\n", failures.Take(5)));
    }
}
