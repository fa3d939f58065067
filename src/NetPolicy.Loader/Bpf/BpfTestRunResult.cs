using System.Collections.Immutable;

namespace NetPolicy.Loader.Bpf;

/// <summary>The outcome of running a program on a test packet (BPF_PROG_TEST_RUN).</summary>
public sealed class BpfTestRunResult
{
    /// <summary>Gets the program's return value; for tc programs -1 = TC_ACT_UNSPEC (continue), 0 = TC_ACT_OK, 2 = TC_ACT_SHOT (drop).</summary>
    public required int ReturnValue { get; init; }

    /// <summary>Gets the average duration of one run in nanoseconds, as the kernel measured it.</summary>
    public required long DurationNanoseconds { get; init; }

    /// <summary>Gets the packet as the program left it.</summary>
    public required ImmutableArray<byte> Data { get; init; }
}
