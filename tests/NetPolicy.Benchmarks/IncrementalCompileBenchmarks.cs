using BenchmarkDotNet.Attributes;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>Incremental compiles at the 100k-pod shape with <see cref="PolicyCompilerSession"/>: one pod's label changes and
/// the session applies it in place. Every invocation is a real change: the label alternates between two values.
/// Target: at most 1 ms median.</summary>
[MemoryDiagnoser]
public class IncrementalCompileBenchmarks
{
    private PolicyCompilerSession? _session;
    private PodEndpoint[] _variants = [];
    private PodEndpoint[][] _spread = [];
    private NetworkPolicyDefinition[][] _policies = [];
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
        _session = new PolicyCompilerSession(cluster.ToSnapshot());
        var pod = ChoosePod(cluster);
        _variants = [SyntheticCluster.WithLabel(pod, "version", FlipValue(0)), SyntheticCluster.WithLabel(pod, "version", FlipValue(1))];

        // 64 pods spread over the cluster, each with both variants: includes pods whose change needs a recompile
        // (egress named ports that name one of their ports), so the distribution is honest.
        _spread = [.. cluster.Pods.Where((_, i) => i % (cluster.Pods.Length / 64) == 7).Take(64)
            .Select(p => new[] { SyntheticCluster.WithLabel(p, "version", FlipValue(0)), SyntheticCluster.WithLabel(p, "version", FlipValue(1)) })];

        var candidates = _session.Snapshot.Policies.Values
            .Where(p => p.Ingress.Length > 0 && p.Ingress[0].Ports.Length > 0 && !p.Egress.Any(r => r.Ports.Any(port => port.PortName is not null)))
            .ToList();
        _policies = [.. candidates.Where((_, i) => i % Math.Max(1, candidates.Count / 64) == 3).Take(64)
            .Select(p => new[]
            {
                p with { Ingress = p.Ingress.SetItem(0, p.Ingress[0] with { Ports = p.Ingress[0].Ports.Add(new NetworkPolicyPort { Port = 7777 }) }) },
                p,
            })];
    }

    /// <summary>One pod's label changes, applied in place by the session.</summary>
    /// <returns>The delta.</returns>
    [Benchmark]
    public CompilationDelta? OnePodLabelChange() => _session!.SetPod(_variants[_invocation++ & 1]).Delta;

    /// <summary>A label change of a different pod each time, 64 pods spread over the cluster.</summary>
    /// <returns>The delta.</returns>
    [Benchmark]
    public CompilationDelta? SpreadPodLabelChange()
    {
        var i = _invocation++;
        return _session!.SetPod(_spread[(i >> 1) % _spread.Length][i & 1]).Delta;
    }

    /// <summary>One of 64 policies spread over the cluster gains, or loses again, TCP port 7777 on its first rule
    /// (<see cref="PolicyCompilerSession.SetPolicy"/>, applied in place). Policies with egress named ports are left out:
    /// their changes recompile the cluster (see the README).</summary>
    /// <returns>The delta.</returns>
    [Benchmark]
    public CompilationDelta? SpreadPolicyPortChange()
    {
        var i = _invocation++;
        return _session!.SetPolicy(_policies[(i >> 1) % _policies.Length][i & 1]).Delta;
    }

    [GlobalCleanup]
    public void Cleanup() => PeakWorkingSet.Report(Shape.ToString());
}
