using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

internal sealed partial class CompilationRun
{
    /// <summary>
    /// Applies a namespace that is new or relabelled to the retained state: its pods leave their identities one by one,
    /// the namespace indexes take the new labels, and the pods join the identities of the new labels, each step the
    /// in-place pod change. Returns <see langword="null"/> when that is not possible (a pod that needs a full compile);
    /// the retained state is then unusable and the caller compiles anew. The delta is computed by comparing results.
    /// </summary>
    public (CompiledPolicySet PolicySet, CompilationDelta Delta)? TryApplyNamespace(ClusterSnapshot next, CompiledPolicySet before, NamespaceDefinition ns)
    {
        EnsureSelectorBackReferences();
        if (!ReferenceEquals(next.Pods, _snapshot.Pods) || !ReferenceEquals(next.Policies, _snapshot.Policies))
        {
            return null;
        }

        var old = _snapshot.Namespaces.GetValueOrDefault(ns.Name);
        var pods = _snapshot.Pods.Values.Where(p => string.Equals(p.Namespace, ns.Name, StringComparison.Ordinal)).ToList();

        // 1. The pods leave, in the old namespace.
        var snapshot = _snapshot;
        foreach (var pod in pods)
        {
            snapshot = snapshot.RemovePod(pod.Key);
            if (TryApplyPod(snapshot, pod, null) is null)
            {
                return null;
            }
        }

        // 2. The namespace indexes take the new labels.
        snapshot = pods.Aggregate(next, static (s, pod) => s.RemovePod(pod.Key));
        _snapshot = snapshot;
        var current = next.Namespaces[ns.Name];
        if (_namespaceLabelIndex is not null)
        {
            if (old is not null)
            {
                foreach (var label in old.Labels.Items)
                {
                    _namespaceLabelIndex[(label.Key, label.Value)].Remove(old);
                }
            }

            foreach (var label in current.Labels.Items)
            {
                if (!_namespaceLabelIndex.TryGetValue((label.Key, label.Value), out var list))
                {
                    list = [];
                    _namespaceLabelIndex[(label.Key, label.Value)] = list;
                }

                list.Add(current);
            }
        }

        foreach (var (selector, match) in _namespaceSelectorCache)
        {
            if (old is not null)
            {
                match.Namespaces.Remove(old);
            }

            if (selector.Matches(current.Labels))
            {
                match.Namespaces.Add(current);
            }
        }

        // 3. The pods join again, in the new namespace.
        foreach (var pod in pods)
        {
            snapshot = snapshot.SetPod(pod);
            if (TryApplyPod(snapshot, null, pod) is null)
            {
                return null;
            }
        }

        _snapshot = next;
        var policySet = Output();
        return (policySet, policySet.DiffFrom(before));
    }

    /// <summary>
    /// Removes a namespace and everything in it from the retained state: its policies are removed one by one, then its
    /// pods, each step the in-place policy or pod change; then the namespace leaves the namespace indexes. Returns
    /// <see langword="null"/> when a step needs a full compile (the retained state is then unusable and the caller
    /// compiles anew). The delta is computed by comparing results.
    /// </summary>
    public (CompiledPolicySet PolicySet, CompilationDelta Delta)? TryRemoveNamespace(ClusterSnapshot next, CompiledPolicySet before, string name)
    {
        EnsureSelectorBackReferences();
        if (!_snapshot.Namespaces.TryGetValue(name, out var old))
        {
            return null;
        }

        var prefix = name + "/";
        var snapshot = _snapshot;
        foreach (var policy in _snapshot.Policies.Values.Where(p => string.Equals(p.Namespace, name, StringComparison.Ordinal)).ToList())
        {
            snapshot = snapshot.RemovePolicy(policy.Key);
            if (TryApplyPolicy(snapshot, policy, null) is null)
            {
                return null;
            }
        }

        foreach (var pod in _snapshot.Pods.Values.Where(p => string.Equals(p.Namespace, name, StringComparison.Ordinal)).ToList())
        {
            snapshot = snapshot.RemovePod(pod.Key);
            if (TryApplyPod(snapshot, pod, null) is null)
            {
                return null;
            }
        }

        if (snapshot.Pods.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)) ||
            snapshot.Policies.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return null;
        }

        // The namespace leaves the indexes; selectors scoped to it select nothing now and are kept up to date as before.
        if (_namespaceLabelIndex is not null)
        {
            foreach (var label in old.Labels.Items)
            {
                if (_namespaceLabelIndex.TryGetValue((label.Key, label.Value), out var list))
                {
                    list.Remove(old);
                }
            }
        }

        foreach (var match in _namespaceSelectorCache.Values)
        {
            match.Namespaces.Remove(old);
        }

        if (_identitiesByNamespace.TryGetValue(name, out var identities) && identities.Count == 0)
        {
            _identitiesByNamespace.Remove(name);
        }

        _policiesByNamespace?.Remove(name);
        _snapshot = next;
        var policySet = Output();
        return (policySet, policySet.DiffFrom(before));
    }
}
