using BenchmarkDotNet.Attributes;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>An incremental compile at the 100k-pod shape: one pod's label changes, then
/// <c>Compile(snapshot.SetPod(changed), previous)</c>. Every invocation is a real change: the label alternates between
/// two values and the result becomes the next invocation's previous compile. Target: at most 1 ms median.</summary>
[MemoryDiagnoser]
public class IncrementalCompileBenchmarks
{
    private readonly PolicyCompiler _compiler = new();
    private ClusterSnapshot _snapshot = ClusterSnapshot.Empty;
    private CompiledPolicySet? _previous;
    private PodEndpoint[] _variants = [];
    private int _invocation;

    /// <summary>Gets or sets the cluster shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public SyntheticClusterShape Shape { get; set; } = SyntheticClusterShape.Large;

    /// <summary>Gets the cluster shapes.</summary>
    public static IEnumerable<SyntheticClusterShape> Shapes => [SyntheticClusterShape.Large];

    /// <summary>Returns the label value of the changed pod in the given invocation: <c>v8</c>, <c>v9</c>, <c>v8</c>, ...
    /// (the generator only uses v1-v3, so the first invocation is a change too).</summary>
    /// <param name="invocation">The invocation number.</param>
    /// <returns>The value.</returns>
    public static string FlipValue(int invocation) => invocation % 2 == 0 ? "v8" : "v9";

    /// <summary>Chooses the pod to change: one in the middle of the cluster, in a namespace with policies.</summary>
    /// <param name="cluster">The cluster.</param>
    /// <returns>The pod.</returns>
    public static PodEndpoint ChoosePod(SyntheticCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var withPolicies = cluster.Policies.Select(p => p.Namespace).ToHashSet(StringComparer.Ordinal);
        return cluster.Pods.Skip(cluster.Pods.Length / 2).First(p => withPolicies.Contains(p.Namespace));
    }

    [GlobalSetup]
    public void Setup()
    {
        var cluster = SyntheticCluster.Generate(Shape, seed: 1);
        _snapshot = cluster.ToSnapshot();
        _previous = _compiler.Compile(_snapshot).ThrowIfErrors();
        var pod = ChoosePod(cluster);
        _variants = [SyntheticCluster.WithLabel(pod, "version", FlipValue(0)), SyntheticCluster.WithLabel(pod, "version", FlipValue(1))];
    }

    [Benchmark]
    public CompilationDelta? OnePodLabelChange()
    {
        var changed = _variants[_invocation++ & 1];
        var next = _snapshot.SetPod(changed);
        var result = _compiler.Compile(next, _previous);
        _snapshot = next;
        _previous = result.PolicySet;
        return result.Delta;
    }

    [GlobalCleanup]
    public void Cleanup() => PeakWorkingSet.Report(Shape.ToString());
}
