using BenchmarkDotNet.Attributes;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>A cold compile: <see cref="ClusterSnapshot.FromModel"/> from model objects, then
/// <see cref="PolicyCompiler.Compile"/> without a previous compile. Target for the 100k-pod shape: at most 3 s and 800 MB allocated.</summary>
[MemoryDiagnoser]
public class ColdCompileBenchmarks
{
    private NamespaceDefinition[] _namespaces = [];
    private PodEndpoint[] _pods = [];
    private NetworkPolicyDefinition[] _policies = [];
    private readonly PolicyCompiler _compiler = new();

    /// <summary>Gets the cluster shapes.</summary>
    public static IEnumerable<SyntheticClusterShape> Shapes => [SyntheticClusterShape.Small, SyntheticClusterShape.Medium, SyntheticClusterShape.Large];

    /// <summary>Gets or sets the cluster shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public SyntheticClusterShape Shape { get; set; } = SyntheticClusterShape.Small;

    [GlobalSetup]
    public void Setup()
    {
        var cluster = SyntheticCluster.Generate(Shape, seed: 1);
        _namespaces = [.. cluster.Namespaces];
        _pods = [.. cluster.Pods];
        _policies = [.. cluster.Policies];
    }

    [Benchmark]
    public CompiledPolicySet FromModelAndCompile()
    {
        var snapshot = ClusterSnapshot.FromModel(_namespaces, _pods, _policies);
        return _compiler.Compile(snapshot).PolicySet!;
    }

    [GlobalCleanup]
    public void Cleanup() => PeakWorkingSet.Report(Shape.ToString());
}
