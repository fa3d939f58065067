using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Analysis;

/// <summary>Compares the connections two policy sets allow: opened, closed and changed ones, each with the rule responsible.</summary>
/// <remarks>
/// <para>Pods are matched by <c>namespace/name</c>; pods on one side only are listed as added or removed and take part in no
/// connection. Every ordered pair of pods on both sides (a pod's traffic to itself aside) is decided for every
/// <see cref="PortClass"/> of TCP, UDP and SCTP: the port ranges either set's rules name, split where they overlap, and one
/// class for all other ports. Pod-to-pod connections use IPv4 when both pods have an IPv4 address on that side, else IPv6,
/// as the reference evaluator does by default.</para>
/// <para>External connections (pod to address range for egress, address range to pod for ingress) use the cells of the
/// partition of the address space by every ipBlock of both sets (plus the rest of each family in use), each evaluated
/// with its lowest address that is no pod's IP.</para>
/// <para>Verdicts come from the compiled IR (<see cref="CompiledPolicySet"/>: endpoints, rule sets, peer sets, ipcache),
/// not from the reference evaluator; the rule named is the first allowing rule in rule-set order. A connection is
/// "changed" when both sides allow it but through a different rule (policy, direction and rule index) in either direction.</para>
/// </remarks>
/// <example>
/// <code>
/// ConnectionDiff diff = ConnectionDiffer.Diff(before, after, options: null);
/// Console.Write(diff.ToMarkdown());
/// </code>
/// </example>
public static class ConnectionDiffer
{
    /// <summary>Compiles both snapshots and compares them.</summary>
    /// <param name="before">The snapshot before the change.</param>
    /// <param name="after">The snapshot after the change.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The differences, sorted.</returns>
    /// <exception cref="PolicyCompilationException">A snapshot has errors.</exception>
    public static ConnectionDiff Diff(ClusterSnapshot before, ClusterSnapshot after, ConnectionDiffOptions? options)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var compiler = new PolicyCompiler();
        return Diff(before, compiler.Compile(before).ThrowIfErrors(), after, compiler.Compile(after).ThrowIfErrors(), options);
    }

    /// <summary>Compares two snapshots through their compiled policy sets.</summary>
    /// <param name="before">The snapshot before the change.</param>
    /// <param name="beforeCompiled">The policy set compiled from <paramref name="before"/>.</param>
    /// <param name="after">The snapshot after the change.</param>
    /// <param name="afterCompiled">The policy set compiled from <paramref name="after"/>.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The differences, sorted.</returns>
    public static ConnectionDiff Diff(ClusterSnapshot before, CompiledPolicySet beforeCompiled, ClusterSnapshot after, CompiledPolicySet afterCompiled, ConnectionDiffOptions? options)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(beforeCompiled);
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(afterCompiled);
        return new Diff.DiffRun(before, beforeCompiled, after, afterCompiled, options ?? new ConnectionDiffOptions()).Run();
    }
}
