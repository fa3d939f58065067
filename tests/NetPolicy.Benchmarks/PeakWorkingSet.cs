using System.Diagnostics;
using System.Globalization;

namespace NetPolicy.Benchmarks;

/// <summary>Prints the benchmark process's peak working set into the BenchmarkDotNet log (each case runs in its own
/// process, so this is the peak of that case: runtime, generated input, and every iteration).</summary>
internal static class PeakWorkingSet
{
    public static void Report(string label)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// PeakWorkingSet [{label}]: {process.PeakWorkingSet64 / 1e6:N0} MB; GC heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:N0} MB"));
    }
}
