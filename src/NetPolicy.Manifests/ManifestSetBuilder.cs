using k8s.Models;
using NetPolicy.Compiler;

namespace NetPolicy.Manifests;

/// <summary>Accumulates the objects, sources and diagnostics of one read (or merge) and ends in <see cref="Build"/>.</summary>
internal sealed class ManifestSetBuilder
{
    private readonly List<V1Namespace> _namespaces = [];
    private readonly List<V1Pod> _pods = [];
    private readonly List<V1NetworkPolicy> _policies = [];
    private readonly Dictionary<object, CompactSource> _sources = new(ReferenceEqualityComparer.Instance);
    private readonly List<PolicyDiagnostic> _diagnostics = [];
    private readonly List<object?> _diagnosticOwners = [];
    private readonly HashSet<object> _invalid = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, string> _workloadKinds = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, PodOrigin> _podKeys = new(StringComparer.Ordinal);

    public FieldPaths Paths { get; } = new();

    public void AddDiagnostic(PolicyDiagnostic diagnostic, object? owner)
    {
        _diagnostics.Add(diagnostic);
        _diagnosticOwners.Add(owner);
    }

    /// <summary>Marks an object as having reader errors (wrong field types), so that skipping invalid objects drops it.</summary>
    public void MarkInvalid(object owner) => _invalid.Add(owner);

    public void AddNamespace(V1Namespace ns, CompactSource? source)
    {
        _namespaces.Add(ns);
        AddSource(ns, source);
    }

    public void AddPolicy(V1NetworkPolicy policy, CompactSource? source)
    {
        _policies.Add(policy);
        AddSource(policy, source);
    }

    /// <summary>Adds a pod unless a workload is involved in a name clash, in which case the first one stays and NP1017 is reported.</summary>
    /// <param name="pod">The pod.</param>
    /// <param name="key">The pod's <c>namespace/name</c>.</param>
    /// <param name="source">Its source.</param>
    /// <param name="kind">The kind it was read from: <c>Pod</c>, or a workload kind.</param>
    /// <returns><see langword="true"/> when the pod was added.</returns>
    public bool AddPod(V1Pod pod, string key, CompactSource? source, string kind)
    {
        var origin = new PodOrigin(kind, source);
        if (_podKeys.TryGetValue(key, out var first) && (first.IsWorkload || origin.IsWorkload))
        {
            AddDiagnostic(
                new PolicyDiagnostic
                {
                    Code = DiagnosticCodes.DuplicateObject,
                    Severity = DiagnosticSeverity.Error,
                    ObjectKind = kind,
                    ObjectName = key,
                    Location = source?.Location,
                    Message = $"this {kind} {(origin.IsWorkload ? "becomes" : "is")} pod {key}, but {Describe(first, key)} already " +
                        $"{(first.IsWorkload ? "became" : "is")} a pod with that name; the first is kept and this one is ignored. Rename one of them.",
                },
                pod);
            return false;
        }

        _podKeys.TryAdd(key, origin);
        _pods.Add(pod);
        if (origin.IsWorkload)
        {
            _workloadKinds[pod] = kind;
        }

        AddSource(pod, source);
        return true;
    }

    /// <summary>Adds everything in <paramref name="set"/>, checking its pods against the ones already here.</summary>
    public void AddRange(ManifestSet set)
    {
        var sources = set.SourceTable.Compact;
        foreach (var ns in set.Namespaces)
        {
            AddNamespace(ns, sources.GetValueOrDefault(ns));
        }

        foreach (var pod in set.Pods)
        {
            var kind = set.WorkloadKinds.TryGetValue(pod, out var k) ? k : "Pod";
            AddPod(pod, KeyOf(pod.Metadata), sources.GetValueOrDefault(pod), kind);
        }

        foreach (var policy in set.Policies)
        {
            AddPolicy(policy, sources.GetValueOrDefault(policy));
        }

        for (var i = 0; i < set.Diagnostics.Length; i++)
        {
            AddDiagnostic(set.Diagnostics[i], set.DiagnosticOwners[i]);
        }

        _invalid.UnionWith(set.InvalidObjects);
    }

    /// <summary>Hands the collected objects to a new set; the builder must not be used afterwards.</summary>
    public ManifestSet Build() => new(
        [.. _namespaces],
        [.. _pods],
        [.. _policies],
        new SourceTable(_sources),
        [.. _diagnostics],
        [.. _diagnosticOwners],
        _invalid,
        _workloadKinds);

    internal static string KeyOf(V1ObjectMeta? metadata) =>
        $"{(string.IsNullOrEmpty(metadata?.NamespaceProperty) ? "default" : metadata.NamespaceProperty)}/{metadata?.Name ?? "<unnamed>"}";

    private static string Describe(PodOrigin origin, string key) =>
        origin.Source is null ? $"{origin.Kind} {key}" : $"{origin.Kind} {key} ({origin.Source.Location})";

    private void AddSource(object o, CompactSource? source)
    {
        if (source is not null)
        {
            _sources[o] = source;
        }
    }
}
