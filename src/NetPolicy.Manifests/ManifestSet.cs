using System.Collections.Immutable;
using k8s.Models;
using NetPolicy.Compiler;

namespace NetPolicy.Manifests;

/// <summary>The Kubernetes objects read from manifests, where each came from, and what the reader had to say about the input.</summary>
/// <remarks>The <c>k8s.Models</c> objects are mutable by nature; treat them as read-only, because <see cref="Sources"/> is keyed
/// by reference. Pass the set to <see cref="ToSnapshot"/>, or its parts to
/// <see cref="ClusterSnapshot.Create(IEnumerable{V1NetworkPolicy}, IEnumerable{V1Pod}, IEnumerable{V1Namespace}, ClusterSnapshotOptions?)"/>
/// with <see cref="ClusterSnapshotOptions.Sources"/> set to <see cref="Sources"/>.</remarks>
public sealed class ManifestSet
{
    internal ManifestSet(
        ImmutableArray<V1Namespace> namespaces,
        ImmutableArray<V1Pod> pods,
        ImmutableArray<V1NetworkPolicy> policies,
        SourceTable sources,
        ImmutableArray<PolicyDiagnostic> diagnostics,
        ImmutableArray<object?> diagnosticOwners,
        HashSet<object> invalidObjects,
        Dictionary<object, string> workloadKinds)
    {
        Namespaces = namespaces;
        Pods = pods;
        Policies = policies;
        SourceTable = sources;
        Diagnostics = diagnostics;
        DiagnosticOwners = diagnosticOwners;
        InvalidObjects = invalidObjects;
        WorkloadKinds = workloadKinds;
    }

    /// <summary>Gets an empty set.</summary>
    public static ManifestSet Empty { get; } = new ManifestSetBuilder().Build();

    /// <summary>Gets the namespaces, in input order.</summary>
    public ImmutableArray<V1Namespace> Namespaces { get; }

    /// <summary>Gets the pods in input order: Pod documents and one pod per workload (Deployment, StatefulSet, ...).</summary>
    public ImmutableArray<V1Pod> Pods { get; }

    /// <summary>Gets the NetworkPolicies, in input order.</summary>
    public ImmutableArray<V1NetworkPolicy> Policies { get; }

    /// <summary>Gets the source of every object in <see cref="Namespaces"/>, <see cref="Pods"/> and <see cref="Policies"/>, keyed by reference.</summary>
    /// <remarks><para>Field locations use the paths of the compiler's diagnostics; for a pod made from a workload they are the
    /// pod's paths (<c>spec.containers[0].ports[0].name</c>) pointing at the lines of the workload's pod template.</para>
    /// <para>The <see cref="ObjectSource"/> values are made when looked up (and not kept), which keeps large sets small.</para></remarks>
    public IReadOnlyDictionary<object, ObjectSource> Sources => SourceTable;

    /// <summary>Returns the kind of the object a pod of this set was read from.</summary>
    /// <param name="pod">A pod of <see cref="Pods"/>.</param>
    /// <returns><c>Pod</c> for a Pod document, or the workload kind (<c>Deployment</c>, <c>StatefulSet</c>, ...) for a pod
    /// made from a workload's pod template.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="pod"/> is <see langword="null"/>.</exception>
    public string KindOf(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return WorkloadKinds.TryGetValue(pod, out var kind) ? kind : "Pod";
    }

    /// <summary>Gets the reader's diagnostics (codes NP12xx, and NP1017 for pods that clash with a workload), in input order.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Gets, for each diagnostic, the object it is about, or <see langword="null"/>.</summary>
    internal ImmutableArray<object?> DiagnosticOwners { get; }

    /// <summary>Gets the objects with reader errors, by reference.</summary>
    internal HashSet<object> InvalidObjects { get; }

    /// <summary>Gets the sources, compact.</summary>
    internal SourceTable SourceTable { get; }

    /// <summary>Gets the workload kind of each pod made from a workload, by reference.</summary>
    internal Dictionary<object, string> WorkloadKinds { get; }

    /// <summary>Returns a set with the objects and diagnostics of this set followed by those of <paramref name="other"/>.</summary>
    /// <param name="other">The set to append.</param>
    /// <returns>The merged set; a pod of <paramref name="other"/> that clashes with a workload pod here is reported (NP1017) and left out.</returns>
    public ManifestSet Merge(ManifestSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var builder = new ManifestSetBuilder();
        builder.AddRange(this);
        builder.AddRange(other);
        return builder.Build();
    }

    /// <summary>Validates the objects into a <see cref="ClusterSnapshot"/> whose diagnostics point at file:line.</summary>
    /// <param name="options">Options, or <see langword="null"/> for the defaults. They are not modified: the snapshot is created
    /// with a copy whose <see cref="ClusterSnapshotOptions.Sources"/> is <see cref="Sources"/> (plus any sources already set).</param>
    /// <returns>The snapshot, and the reader's diagnostics followed by the snapshot's.</returns>
    /// <remarks>With <see cref="InvalidObjectHandling.Skip"/>, objects with reader errors (fields of the wrong type) are left out
    /// like objects the validator rejects: their errors become warnings and an NP1105 warning says they were dropped.</remarks>
    /// <example>
    /// <code>
    /// var set = new ManifestReader().ReadPaths(["manifests/"]);
    /// var (snapshot, diagnostics) = set.ToSnapshot();
    /// var result = new PolicyCompiler().Compile(snapshot);
    /// </code>
    /// </example>
    public ManifestSnapshot ToSnapshot(ClusterSnapshotOptions? options = null)
    {
        var effective = new ClusterSnapshotOptions
        {
            Sources = MergeSources(options?.Sources),
        };
        if (options is not null)
        {
            effective.InvalidObjects = options.InvalidObjects;
            effective.IPv4AddressPool = options.IPv4AddressPool;
            effective.IPv6AddressPool = options.IPv6AddressPool;
        }

        var skip = effective.InvalidObjects == InvalidObjectHandling.Skip && InvalidObjects.Count > 0;
        var readerDiagnostics = skip ? DowngradeSkipped() : Diagnostics;
        var snapshot = ClusterSnapshot.Create(
            skip ? Policies.Where(p => !InvalidObjects.Contains(p)) : Policies,
            skip ? Pods.Where(p => !InvalidObjects.Contains(p)) : Pods,
            skip ? Namespaces.Where(n => !InvalidObjects.Contains(n)) : Namespaces,
            effective);
        return new ManifestSnapshot(snapshot, readerDiagnostics.AddRange(snapshot.Diagnostics));
    }

    private IReadOnlyDictionary<object, ObjectSource> MergeSources(IReadOnlyDictionary<object, ObjectSource>? given)
    {
        if (given is null || given.Count == 0)
        {
            return Sources;
        }

        var merged = new Dictionary<object, ObjectSource>(SourceTable, ReferenceEqualityComparer.Instance);
        foreach (var pair in given)
        {
            merged.TryAdd(pair.Key, pair.Value);
        }

        return merged;
    }

    private ImmutableArray<PolicyDiagnostic> DowngradeSkipped()
    {
        var result = ImmutableArray.CreateBuilder<PolicyDiagnostic>(Diagnostics.Length);
        var dropped = new HashSet<object>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < Diagnostics.Length; i++)
        {
            var diagnostic = Diagnostics[i];
            if (DiagnosticOwners[i] is { } owner && InvalidObjects.Contains(owner))
            {
                if (diagnostic.Severity == DiagnosticSeverity.Error)
                {
                    diagnostic = diagnostic with { Severity = DiagnosticSeverity.Warning };
                }

                result.Add(diagnostic);
                if (dropped.Add(owner))
                {
                    result.Add(new PolicyDiagnostic
                    {
                        Code = DiagnosticCodes.DroppedInvalidObject,
                        Severity = DiagnosticSeverity.Warning,
                        ObjectKind = diagnostic.ObjectKind,
                        ObjectName = diagnostic.ObjectName,
                        Location = SourceTable.Compact.TryGetValue(owner, out var source) ? source.Location : diagnostic.Location,
                        Message = "the object has fields of the wrong type and was dropped; the rest of the input compiles without it.",
                    });
                }

                continue;
            }

            result.Add(diagnostic);
        }

        return result.ToImmutable();
    }
}
