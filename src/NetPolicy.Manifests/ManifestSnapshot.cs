using System.Collections.Immutable;
using NetPolicy.Compiler;

namespace NetPolicy.Manifests;

/// <summary>A <see cref="ClusterSnapshot"/> made from manifests, with the diagnostics of reading and validation together.</summary>
/// <param name="Snapshot">The snapshot. Its own <see cref="ClusterSnapshot.Diagnostics"/> hold only validation's diagnostics.</param>
/// <param name="Diagnostics">The reader's diagnostics (syntax, skipped kinds, wrong field types, workloads) followed by the snapshot's.</param>
public sealed record ManifestSnapshot(ClusterSnapshot Snapshot, ImmutableArray<PolicyDiagnostic> Diagnostics)
{
    /// <summary>Gets a value indicating whether any diagnostic, from reading or from validation, is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}
