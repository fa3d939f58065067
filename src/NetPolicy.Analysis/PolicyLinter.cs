using System.Collections.Immutable;
using NetPolicy.Analysis.Lint;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Analysis;

/// <summary>Checks a cluster's NetworkPolicies for mistakes that compile fine but rarely do what was meant (codes NP40xx, see <see cref="LintCodes"/>).</summary>
/// <remarks>
/// The checks look at the policies together with the pods and namespaces of the snapshot: a selector that selects
/// nothing today is reported even if a pod it is written for will exist later. Redundant rules are reported only when
/// coverage is provable from the policy text alone (equal or empty selectors, nested ipBlocks and port ranges), never
/// from the pods that happen to exist. Pods whose addresses were assigned from the snapshot's pool (no
/// <c>status.podIPs</c> in the input) do not count for <see cref="LintCodes.IPBlockCoversPods"/>.
/// </remarks>
/// <example>
/// <code>
/// ImmutableArray&lt;LintFinding&gt; findings = PolicyLinter.Lint(snapshot, options: null);
/// foreach (var finding in findings) Console.WriteLine(finding);
/// </code>
/// </example>
public static class PolicyLinter
{
    /// <summary>Lints a snapshot, compiling it first.</summary>
    /// <param name="snapshot">The snapshot; it must have no error diagnostics.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The findings, sorted by object, field path and code.</returns>
    /// <exception cref="PolicyCompilationException">The snapshot has errors and cannot be compiled.</exception>
    public static ImmutableArray<LintFinding> Lint(ClusterSnapshot snapshot, PolicyLintOptions? options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var compiled = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        return Lint(snapshot, compiled, options);
    }

    /// <summary>Lints a snapshot and its compiled policy set.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="compiled">The policy set compiled from <paramref name="snapshot"/>.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The findings, sorted by object, field path and code.</returns>
    public static ImmutableArray<LintFinding> Lint(ClusterSnapshot snapshot, CompiledPolicySet compiled, PolicyLintOptions? options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(compiled);
        options ??= new PolicyLintOptions();
        var run = new LintRun(snapshot, compiled, options);
        run.Run();
        return run.Findings;
    }
}
