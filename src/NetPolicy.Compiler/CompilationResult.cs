using System.Collections.Immutable;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Compiler;

/// <summary>The outcome of <see cref="PolicyCompiler.Compile"/>: diagnostics and, when the input has no errors, the policy IR.</summary>
public sealed class CompilationResult
{
    internal CompilationResult(ClusterSnapshot snapshot, ImmutableArray<PolicyDiagnostic> diagnostics, CompiledPolicySet? policySet, CompilationDelta? delta)
    {
        Snapshot = snapshot;
        Diagnostics = diagnostics;
        PolicySet = policySet;
        Delta = delta;
    }

    /// <summary>Gets the snapshot that was compiled.</summary>
    public ClusterSnapshot Snapshot { get; }

    /// <summary>Gets every diagnostic: the snapshot's and the compile's.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether the compile produced a policy set (no diagnostic is an error).</summary>
    public bool Success => PolicySet is not null;

    /// <summary>Gets the compiled policy set, or <see langword="null"/> when the input has errors.</summary>
    public CompiledPolicySet? PolicySet { get; }

    /// <summary>Gets the identity table, or <see langword="null"/> when the input has errors.</summary>
    public IdentityTable? Identities => PolicySet?.Identities;

    /// <summary>Gets what changed since the previous compile, when one was given.</summary>
    public CompilationDelta? Delta { get; }

    /// <summary>Throws when the compile failed.</summary>
    /// <returns>The compiled policy set.</returns>
    /// <exception cref="PolicyCompilationException">The input has errors; the exception carries every diagnostic.</exception>
    public CompiledPolicySet ThrowIfErrors() => PolicySet ?? throw new PolicyCompilationException(Diagnostics);
}
