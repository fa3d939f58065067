using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>measure</c> command: one cold compile of a shape (the 100k-pod one by default) outside BenchmarkDotNet,
/// printing wall time, allocated bytes and the process's peak working set, then a phase breakdown and incremental compiles.</summary>
/// <remarks>Numbers for README.md. The peak working set covers the whole process, the generated input included, so the
/// working set after generation is printed too. JIT is warmed on the small shape first, so the cold compile measures
/// the compiler, not the JIT.</remarks>
internal static class MeasureCommand
{
    public static int Run(Options options)
    {
        var process = Process.GetCurrentProcess();
        Console.WriteLine(Invariant($"NetPolicy.Compiler measure: {options.Shape} (seed {options.Seed}); .NET {Environment.Version}, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}"));

        // Warm the JIT on the small shape so the big compile measures steady-state code.
        var warm = SyntheticCluster.Generate(SyntheticClusterShape.Small, options.Seed);
        new PolicyCompiler().Compile(warm.ToSnapshot()).ThrowIfErrors();

        var sw = Stopwatch.StartNew();
        var cluster = SyntheticCluster.Generate(options.Shape, options.Seed);
        Console.WriteLine(Invariant($"generate:            {sw.Elapsed.TotalMilliseconds,10:N0} ms (not part of the compile)"));

        FullGc();
        process.Refresh();
        var workingSetBefore = process.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gcBefore = GcCounts();

        sw.Restart();
        var snapshot = cluster.ToSnapshot();
        var snapshotTime = sw.Elapsed;
        var result = new PolicyCompiler().Compile(snapshot);
        var total = sw.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var gcAfter = GcCounts();
        process.Refresh();
        var peak = process.PeakWorkingSet64;
        var policySet = result.ThrowIfErrors();
        var gcInfo = GC.GetGCMemoryInfo(GCKind.Any);

        Console.WriteLine();
        Console.WriteLine("cold compile (ClusterSnapshot.FromModel + PolicyCompiler.Compile, previous = null)");
        Console.WriteLine(Invariant($"  wall time:          {total.TotalMilliseconds,10:N0} ms   (target <= 3,000 ms)"));
        Console.WriteLine(Invariant($"    FromModel:        {snapshotTime.TotalMilliseconds,10:N0} ms"));
        Console.WriteLine(Invariant($"    Compile:          {(total - snapshotTime).TotalMilliseconds,10:N0} ms"));
        Console.WriteLine(Invariant($"  allocated:          {allocated / 1e6,10:N0} MB   (target <= 800 MB)"));
        Console.WriteLine(Invariant($"  GCs gen0/1/2:       {gcAfter.Gen0 - gcBefore.Gen0}/{gcAfter.Gen1 - gcBefore.Gen1}/{gcAfter.Gen2 - gcBefore.Gen2}"));
        Console.WriteLine(Invariant($"  working set before: {workingSetBefore / 1e6,10:N0} MB   (runtime + generated input)"));
        Console.WriteLine(Invariant($"  peak working set:   {peak / 1e6,10:N0} MB   (Process.PeakWorkingSet64, whole process)"));
        Console.WriteLine(Invariant($"  GC heap after:      {gcInfo.HeapSizeBytes / 1e6,10:N0} MB   (last GC; promoted {gcInfo.PromotedBytes / 1e6:N0} MB)"));
        Console.WriteLine(Invariant($"  output:             {policySet.Endpoints.Count:N0} endpoints, {policySet.Identities.Count:N0} identities, {policySet.RuleSets.Count:N0} rule sets, {policySet.PeerSets.Count:N0} peer sets, {policySet.AddressClasses.Length:N0} address classes, {policySet.IPCache.Count:N0} ipcache entries"));

        PhaseBreakdown(snapshot);
        Incremental(cluster, snapshot, policySet, options.Incremental);
        KubernetesObjects(cluster);
        return 0;
    }

    /// <summary>Times the phases of the internal <c>CompilationRun</c> through reflection. Diagnostic only: it breaks
    /// quietly (prints a note) if the compiler's internals are renamed.</summary>
    private static void PhaseBreakdown(ClusterSnapshot snapshot)
    {
        Console.WriteLine();
        Console.WriteLine("compile phases (internal CompilationRun, via reflection; one more cold compile)");
        var type = typeof(PolicyCompiler).Assembly.GetType("NetPolicy.Compiler.Compilation.CompilationRun");
        string[] phases = ["BuildIdentities", "PrecomputeSelections", "CompilePolicies", "BuildAddressClasses", "BuildPeerSets", "BuildEndpoints"];
        var methods = phases.Select(p => type?.GetMethod(p, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)).ToArray();
        var ctor = type?.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).FirstOrDefault(c =>
            c.GetParameters().Select(p => p.ParameterType).SequenceEqual([typeof(ClusterSnapshot), typeof(CompiledPolicySet), typeof(Microsoft.Extensions.Logging.ILogger), typeof(int)]));
        if (ctor is null || methods.Any(m => m is null || m.GetParameters().Length != 0))
        {
            Console.WriteLine("  unavailable: CompilationRun's phases were renamed; update MeasureCommand.PhaseBreakdown.");
            return;
        }

        FullGc();
        var run = ctor.Invoke([snapshot, null, NullLogger.Instance, -1]);
        for (var i = 0; i < phases.Length; i++)
        {
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            methods[i]!.Invoke(run, null);
            var elapsed = sw.Elapsed;
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            Console.WriteLine(Invariant($"  {phases[i] + ":",-20}{elapsed.TotalMilliseconds,10:N0} ms {allocated / 1e6,8:N0} MB"));
        }
    }

    private static void Incremental(SyntheticCluster cluster, ClusterSnapshot snapshot, CompiledPolicySet previous, int iterations)
    {
        if (iterations <= 0)
        {
            return;
        }

        Console.WriteLine();
        Console.WriteLine(Invariant($"incremental compile (PolicyCompilerSession.SetPod: a label flips on pods spread over the cluster), {iterations} iterations"));
        _ = previous;
        var session = new PolicyCompilerSession(snapshot);
        var pods = cluster.Pods.Where((_, i) => i % Math.Max(1, cluster.Pods.Length / 64) == 7).Take(64).ToArray();
        var times = new List<double>();
        var allocations = new List<long>();
        CompilationDelta? delta = null;
        for (var i = 0; i < iterations; i++)
        {
            var pod = pods[(i >> 1) % pods.Length];
            var changed = SyntheticCluster.WithLabel(pod, "version", IncrementalCompileBenchmarks.FlipValue(i));
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            var result = session.SetPod(changed);
            times.Add(sw.Elapsed.TotalMilliseconds);
            allocations.Add(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
            delta = result.Delta;
        }

        times.Sort();
        Console.WriteLine(Invariant($"  median:             {times[times.Count / 2],10:N3} ms   (target <= 1 ms; p90 {times[(int)(times.Count * 0.9)]:N3}, min {times[0]:N3}, max {times[^1]:N1})"));
        Console.WriteLine(Invariant($"  allocated (median): {allocations.Order().ElementAt(allocations.Count / 2) / 1e6,10:N2} MB"));
        Console.WriteLine(Invariant($"  last delta:         {delta}"));
    }

    private static void KubernetesObjects(SyntheticCluster cluster)
    {
        Console.WriteLine();
        Console.WriteLine("from k8s.Models objects (ClusterSnapshot.Create: conversion, defaulting and validation)");
        var objects = cluster.ToKubernetesObjects();
        FullGc();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var snapshot = ClusterSnapshot.Create(objects.Policies, objects.Pods, objects.Namespaces);
        var createTime = sw.Elapsed;
        var createAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var result = new PolicyCompiler().Compile(snapshot);
        var total = sw.Elapsed;
        result.ThrowIfErrors();
        Console.WriteLine(Invariant($"  Create:             {createTime.TotalMilliseconds,10:N0} ms {createAllocated / 1e6,8:N0} MB"));
        Console.WriteLine(Invariant($"  Create + Compile:   {total.TotalMilliseconds,10:N0} ms"));
        Process.GetCurrentProcess().Refresh();
        Console.WriteLine(Invariant($"  peak working set:   {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6,10:N0} MB   (process, after everything above)"));
    }

    private static (int Gen0, int Gen1, int Gen2) GcCounts() => (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    private static void FullGc()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
