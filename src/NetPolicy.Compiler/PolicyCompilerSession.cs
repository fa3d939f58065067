using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetPolicy.Compiler.Compilation;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler;

/// <summary>An incremental compiler for node agents: compile once, then apply watch events one at a time and push only the deltas.</summary>
/// <remarks>
/// <para>Pod events (<see cref="SetPod"/>, <see cref="RemovePod"/>) are applied in place: the pod's identity joins or leaves
/// the selectors that match it, the rule sets built on those selectors are rebuilt, and the result reports exactly what
/// changed. Policy events (<see cref="SetPolicy"/>, <see cref="RemovePolicy"/>) are applied in place too: the policy's
/// rules are compiled again, the rule sets that include it are rebuilt, and only the pods its old or new pod selector
/// matches choose their rule sets again. A namespace that is added or relabelled moves its pods to the identities of its
/// new labels, pod by pod, in place. Namespace removal, and the rare changes that affect how addresses are grouped (egress
/// named ports, a pod IP that is also an ipBlock boundary, an ipBlock no policy had before), recompile with the previous
/// numbering. Either way the result enforces the same verdicts and its delta is exact.</para>
/// <para>Every result is immutable and may be kept or shared. The session itself is not thread-safe: apply events from one thread.</para>
/// </remarks>
/// <example>
/// <code>
/// var session = new PolicyCompilerSession(snapshot);
/// // on a pod watch event:
/// CompilationResult result = session.SetPod(pod);
/// Push(result.Delta!);
/// </code>
/// </example>
public sealed class PolicyCompilerSession
{
    private readonly ILogger _logger;
    private readonly int _maxDegreeOfParallelism;
    private CompilationRun? _run;

    /// <summary>Initializes a session with a full compile of the snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    public PolicyCompilerSession(ClusterSnapshot snapshot, PolicyCompilerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _logger = (options?.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("NetPolicy.Compiler");
        _maxDegreeOfParallelism = options?.MaxDegreeOfParallelism ?? -1;
        Current = Full(snapshot, null);
    }

    /// <summary>Gets the latest result.</summary>
    public CompilationResult Current { get; private set; }

    /// <summary>Gets the latest snapshot.</summary>
    public ClusterSnapshot Snapshot => Current.Snapshot;

    /// <summary>Adds or replaces a pod.</summary>
    /// <param name="pod">The pod; its namespace must be in the snapshot.</param>
    /// <returns>The new result, with <see cref="CompilationResult.Delta"/> relative to the previous one.</returns>
    /// <exception cref="InvalidOperationException">The pod's namespace is not in the snapshot.</exception>
    public CompilationResult SetPod(PodEndpoint pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var next = Snapshot.SetPod(pod);
        return Apply(next, Snapshot.FindPod(pod.Key), pod);
    }

    /// <summary>Removes a pod.</summary>
    /// <param name="key">The pod key, <c>namespace/name</c>.</param>
    /// <returns>The new result.</returns>
    public CompilationResult RemovePod(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var old = Snapshot.FindPod(key);
        return old is null ? Current : Apply(Snapshot.RemovePod(key), old, null);
    }

    /// <summary>Adds or replaces a policy.</summary>
    /// <param name="policy">The policy; its namespace must be in the snapshot.</param>
    /// <returns>The new result, with <see cref="CompilationResult.Delta"/> relative to the previous one.</returns>
    /// <exception cref="InvalidOperationException">The policy's namespace is not in the snapshot.</exception>
    public CompilationResult SetPolicy(NetworkPolicyDefinition policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var next = Snapshot.SetPolicy(policy);
        return ApplyPolicy(next, Snapshot.Policies.GetValueOrDefault(policy.Key), policy);
    }

    /// <summary>Removes a policy.</summary>
    /// <param name="key">The policy key, <c>namespace/name</c>.</param>
    /// <returns>The new result.</returns>
    public CompilationResult RemovePolicy(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var old = Snapshot.Policies.GetValueOrDefault(key);
        return old is null ? Current : ApplyPolicy(Snapshot.RemovePolicy(key), old, null);
    }

    /// <summary>Adds or relabels a namespace: its pods move to the identities of the new labels in place (recompiles with
    /// the previous numbering when one of them cannot).</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The new result.</returns>
    public CompilationResult SetNamespace(NamespaceDefinition ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var next = Snapshot.SetNamespace(ns);
        if (Snapshot.Namespaces.TryGetValue(ns.Name, out var old) && old.Equals(next.Namespaces[ns.Name]))
        {
            return Unchanged(Snapshot);
        }

        return InPlaceOrFull(next, (run, before) => run.TryApplyNamespace(next, before, ns));
    }

    /// <summary>Removes a namespace with its pods and policies (applied in place: its policies and pods leave one by one,
    /// as <see cref="RemovePolicy"/> and <see cref="RemovePod"/> do; or recompiled with the previous numbering when one of
    /// them cannot).</summary>
    /// <param name="name">The namespace name.</param>
    /// <returns>The new result, with <see cref="CompilationResult.Delta"/> relative to the previous one (empty when the
    /// namespace is not in the snapshot).</returns>
    public CompilationResult RemoveNamespace(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Snapshot.Namespaces.ContainsKey(name))
        {
            return Unchanged(Snapshot);
        }

        var next = Snapshot.RemoveNamespace(name);
        return InPlaceOrFull(next, (run, before) => run.TryRemoveNamespace(next, before, name));
    }

    /// <summary>Replaces the whole snapshot (recompiles with the previous numbering).</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <returns>The new result.</returns>
    public CompilationResult Update(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Current = Full(snapshot, Current.PolicySet);
        return Current;
    }

    private CompilationResult Apply(ClusterSnapshot next, PodEndpoint? oldPod, PodEndpoint? newPod)
    {
        return InPlaceOrFull(next, (run, _) => run.TryApplyPod(next, oldPod, newPod));
    }

    private CompilationResult ApplyPolicy(ClusterSnapshot next, NetworkPolicyDefinition? oldPolicy, NetworkPolicyDefinition? newPolicy)
    {
        if (oldPolicy is not null && newPolicy is not null && oldPolicy.Equals(newPolicy))
        {
            return Unchanged(next);
        }

        return InPlaceOrFull(next, (run, _) => run.TryApplyPolicy(next, oldPolicy, newPolicy));
    }

    /// <summary>Applies an event to the retained compile in place when it can (logging the delta), or recompiles the next
    /// snapshot with the previous numbering.</summary>
    private CompilationResult InPlaceOrFull(ClusterSnapshot next, Func<CompilationRun, CompiledPolicySet, (CompiledPolicySet PolicySet, CompilationDelta Delta)?> tryApply)
    {
        if (_run is not null && Current.PolicySet is { } before && !next.HasErrors && tryApply(_run, before) is { } applied)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.IncrementalCompile(applied.Delta.ToString());
            }

            Current = new CompilationResult(next, next.Diagnostics, applied.PolicySet, applied.Delta);
            return Current;
        }

        return Update(next);
    }

    /// <summary>The same policy set under the given snapshot, with an empty delta.</summary>
    private CompilationResult Unchanged(ClusterSnapshot snapshot)
    {
        Current = new CompilationResult(snapshot, Current.Diagnostics, Current.PolicySet, Current.PolicySet is null ? null : new CompilationDelta());
        return Current;
    }

    private CompilationResult Full(ClusterSnapshot snapshot, CompiledPolicySet? previous)
    {
        if (snapshot.HasErrors)
        {
            _run = null;
            return new CompilationResult(snapshot, snapshot.Diagnostics, null, null);
        }

        _run = new CompilationRun(snapshot, previous, _logger, _maxDegreeOfParallelism);
        var policySet = _run.Run();
        _run.PrepareForUpdates(); // the first event after a compile should not pay for the in-place indexes
        return new CompilationResult(snapshot, snapshot.Diagnostics, policySet, previous is null ? null : policySet.DiffFrom(previous));
    }
}
