using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

internal sealed partial class CompilationRun
{
    // Below this many items (selectors, identities, rule sets) a loop runs on one thread: the parallel loop would cost more.
    private const int ParallelSelectionThreshold = 64;

    // Identities of every distinct peer selector, computed in parallel before policies compile; Selector() takes them.
    private Dictionary<SelectorKey, uint[]>? _precomputedSelections;

    /// <summary>
    /// Selects the identities of every distinct peer selector of the cluster's policies in parallel. Selection is the
    /// largest part of a cold compile and each selector's result depends only on the identity and namespace indexes,
    /// which are complete at this point; the lazily built indexes it reads (namespace matches, label postings) are built
    /// first, on this thread, so the parallel part only reads. Everything with side effects (peer sets, selector
    /// indexes, identity back-references) still happens in policy order in <see cref="CompilePolicies"/>, so the output
    /// is the same, byte for byte, whatever the degree of parallelism.
    /// </summary>
    private void PrecomputeSelections()
    {
        var keys = new List<SelectorKey>();
        var seen = new HashSet<SelectorKey>();
        foreach (var policy in _snapshot.Policies.Values)
        {
            if (policy.AffectsIngress)
            {
                CollectSelectors(policy, policy.Ingress, keys, seen);
            }

            if (policy.AffectsEgress)
            {
                CollectSelectors(policy, policy.Egress, keys, seen);
            }
        }

        if (keys.Count < ParallelSelectionThreshold)
        {
            return;
        }

        // Identities with equal pod labels (the same workload in many namespaces) share a class, so a pod selector is
        // evaluated once per class and selector rather than once per identity.
        var classes = new Dictionary<LabelSet, int>();
        foreach (var info in _identities.Values)
        {
            if (!classes.TryGetValue(info.Key.PodLabels, out var podLabelClass))
            {
                podLabelClass = classes.Count;
                classes[info.Key.PodLabels] = podLabelClass;
            }

            info.PodLabelClass = podLabelClass;
        }

        _podLabelClassCount = classes.Count;
        foreach (var key in keys)
        {
            if (key.NamespaceSelector is { } namespaceSelector)
            {
                MatchNamespaces(namespaceSelector).PodLabelClasses(this);
                if (key.PodSelector is { MatchLabels.Count: > 0 } podSelector)
                {
                    var label = RarestPodLabel(podSelector);
                    PostingIds(label.Key, label.Value);
                }
            }
        }

        var results = new uint[keys.Count][];
        ForEachIndex(keys.Count, i => results[i] = ComputeSelection(keys[i], byClass: true));
        _precomputedSelections = new Dictionary<SelectorKey, uint[]>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            _precomputedSelections[keys[i]] = results[i];
        }
    }

    private static void CollectSelectors(NetworkPolicyDefinition policy, System.Collections.Immutable.ImmutableArray<NetworkPolicyRule> rules, List<SelectorKey> keys, HashSet<SelectorKey> seen)
    {
        foreach (var rule in rules)
        {
            foreach (var peer in rule.Peers)
            {
                if (peer.IPBlock is null)
                {
                    var key = new SelectorKey(peer.NamespaceSelector is null ? policy.Namespace : null, peer.NamespaceSelector, peer.PodSelector);
                    if (seen.Add(key))
                    {
                        keys.Add(key);
                    }
                }
            }
        }
    }

    /// <summary>The sorted identities a peer selector selects. Reads only, once the namespace match and the posting of
    /// the rarest required pod label exist (see <see cref="PrecomputeSelections"/>); builds them otherwise. With
    /// <paramref name="byClass"/> (a cold compile's precomputation, when every identity has its pod-label class) a
    /// namespace-selector peer evaluates its pod selector once per pod-label class.</summary>
    private uint[] ComputeSelection(SelectorKey key, bool byClass = false)
    {
        var podSelector = key.PodSelector;
        if (key.NamespaceSelector is not { } namespaceSelector)
        {
            var result = new List<uint>();
            if (_identitiesByNamespace.TryGetValue(key.Namespace!, out var identities))
            {
                foreach (var info in identities)
                {
                    if (podSelector is null || podSelector.Matches(info.Key.PodLabels))
                    {
                        result.Add(info.Id);
                    }
                }
            }

            var ids = result.ToArray();
            Array.Sort(ids);
            return ids;
        }

        // Identities of the selected namespaces, intersected with the rarest required pod label (sorted merges).
        var match = MatchNamespaces(namespaceSelector);
        var candidates = match.IdentityIds(this);
        int[]? positions = null;
        if (podSelector is { MatchLabels.Count: > 0 })
        {
            var label = RarestPodLabel(podSelector);
            positions = IntersectPositions(candidates, PostingIds(label.Key, label.Value));
        }

        var count = positions?.Length ?? candidates.Length;
        var selected = new List<uint>(count);
        if (podSelector is null || podSelector.IsEmpty)
        {
            for (var i = 0; i < count; i++)
            {
                selected.Add(candidates[positions is null ? i : positions[i]]);
            }

            return selected.ToArray();
        }

        if (byClass)
        {
            var classes = match.PodLabelClasses(this);
            var verdicts = ClassVerdicts.Start(_podLabelClassCount);
            for (var i = 0; i < count; i++)
            {
                var position = positions is null ? i : positions[i];
                var id = candidates[position];
                if (verdicts.Get(classes[position]) is not bool matches)
                {
                    matches = podSelector.Matches(_identityById[id].Key.PodLabels);
                    verdicts.Set(classes[position], matches);
                }

                if (matches)
                {
                    selected.Add(id);
                }
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                var id = candidates[positions is null ? i : positions[i]];
                if (podSelector.Matches(_identityById[id].Key.PodLabels))
                {
                    selected.Add(id);
                }
            }
        }

        return selected.ToArray(); // candidates are sorted, and so is what is kept of them
    }

    private int _podLabelClassCount;

    /// <summary>Positions in <paramref name="a"/> of the values both sorted arrays hold.</summary>
    private static int[] IntersectPositions(uint[] a, uint[] b)
    {
        var result = new List<int>(Math.Min(a.Length, b.Length));
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j])
            {
                result.Add(i);
                i++;
                j++;
            }
            else if (a[i] < b[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return result.ToArray();
    }

    /// <summary>One thread's memo of a pod selector's verdict per pod-label class, reset in O(1) per selector by a generation.</summary>
    private sealed class ClassVerdicts
    {
        [ThreadStatic]
        private static ClassVerdicts? t_current;

        private int[] _stamps = [];
        private int _generation;

        public static ClassVerdicts Start(int classCount)
        {
            var verdicts = t_current ??= new ClassVerdicts();
            if (verdicts._stamps.Length < classCount || verdicts._generation >= int.MaxValue / 2 - 1)
            {
                verdicts._stamps = new int[Math.Max(classCount, verdicts._stamps.Length)];
                verdicts._generation = 0;
            }

            verdicts._generation++;
            return verdicts;
        }

        public bool? Get(int podLabelClass)
        {
            var stamp = _stamps[podLabelClass];
            return stamp >> 1 == _generation ? (stamp & 1) == 1 : null;
        }

        public void Set(int podLabelClass, bool matches) => _stamps[podLabelClass] = (_generation << 1) | (matches ? 1 : 0);
    }

    /// <summary>Runs the body for 0..count-1: in parallel when there is enough work and parallelism is allowed.</summary>
    private void ForEachIndex(int count, Action<int> body)
    {
        if (count < ParallelSelectionThreshold || _parallel.MaxDegreeOfParallelism == 1)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        Parallel.For(0, count, _parallel, body);
    }

    private KeyValuePair<string, string> RarestPodLabel(LabelSelector podSelector) =>
        podSelector.MatchLabels.Items.MinBy(l => _podLabelIndex.TryGetValue((l.Key, l.Value), out var set) ? set.Count : 0);
}
