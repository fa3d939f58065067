namespace NetPolicy.Compiler.Tests.Support;

/// <summary>Seeds for randomized tests that are too slow for all 400 differential seeds; <c>NETPOLICY_SEED</c> replays one.</summary>
internal static class DifferentialSeeds
{
    public static TheoryData<int> Few()
    {
        var seeds = Environment.GetEnvironmentVariable("NETPOLICY_SEED") is { } s ? [int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)] : Enumerable.Range(1, 40);
        var data = new TheoryData<int>();
        foreach (var seed in seeds)
        {
            data.Add(seed);
        }

        return data;
    }
}
