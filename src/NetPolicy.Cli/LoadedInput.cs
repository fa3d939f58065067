using System.Collections.Immutable;
using NetPolicy.Analysis;
using NetPolicy.Compiler;

namespace NetPolicy.Cli;

/// <summary>The inputs of a command, read and validated.</summary>
/// <param name="Snapshot">The snapshot.</param>
/// <param name="Diagnostics">Every diagnostic: the reader's, then the snapshot's.</param>
internal sealed record LoadedInput(ClusterSnapshot Snapshot, ImmutableArray<PolicyDiagnostic> Diagnostics)
{
    /// <summary>Gets a value indicating whether any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Gets where the policies and pods came from (file:line), for lint findings and diff locations.</summary>
    public ObjectSources Sources { get; init; } = ObjectSources.None;
}
