using BenchmarkDotNet.Attributes;
using NetPolicy.Loader;

namespace NetPolicy.Benchmarks;

/// <summary>Policy change to enforcement on a <see cref="BpfDatapath"/>: one policy of a 10k-pod, 3k-policy cluster gains
/// or loses a port, then <see cref="NetPolicy.Compiler.PolicyCompilerSession.SetPolicy"/> + render + <see cref="BpfDatapath.Apply"/>
/// (a map delta; programs are not reloaded). Every invocation is a real change. Needs root (CAP_BPF); target: at most
/// 10 ms median. The <c>bpf-update</c> command reports the same with a per-stage breakdown and p95.</summary>
[MemoryDiagnoser]
public class BpfPolicyUpdateBenchmarks
{
    private PolicyUpdateRig? _rig;
    private int _invocation;

    [GlobalSetup]
    public void Setup() => _rig = OperatingSystem.IsLinux()
        ? PolicyUpdateRig.Create(new SyntheticClusterShape(1_000, 10_000, 3_000), seed: 1, log: null)
        : throw new PlatformNotSupportedException("BpfPolicyUpdateBenchmarks needs Linux with BPF, and root.");

    /// <summary>One policy change, compiled, rendered and applied.</summary>
    /// <returns>The time the change took by the rig's own clock (returned so the work is not elided).</returns>
    [Benchmark]
    public TimeSpan PolicyChange() => OperatingSystem.IsLinux() ? _rig!.Change(_invocation++).Total : TimeSpan.Zero;

    [GlobalCleanup]
    public void Cleanup()
    {
        if (OperatingSystem.IsLinux())
        {
            _rig?.Dispose();
        }

        PeakWorkingSet.Report("10k/1k/3k");
    }
}
