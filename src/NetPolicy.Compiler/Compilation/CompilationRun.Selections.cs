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

        foreach (var key in keys)
        {
            if (key.NamespaceSelector is { } namespaceSelector)
            {
                MatchNamespaces(namespaceSelector).IdentityIds(this);
                if (key.PodSelector is { MatchLabels.Count: > 0 } podSelector)
                {
                    var label = RarestPodLabel(podSelector);
                    PostingIds(label.Key, label.Value);
                }
            }
        }

        var results = new uint[keys.Count][];
        ForEachIndex(keys.Count, i => results[i] = ComputeSelection(keys[i]));
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
    /// the rarest required pod label exist (see <see cref="PrecomputeSelections"/>); builds them otherwise.</summary>
    private uint[] ComputeSelection(SelectorKey key)
    {
        var podSelector = key.PodSelector;
        var result = new List<uint>();
        if (key.NamespaceSelector is not { } namespaceSelector)
        {
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
        }
        else
        {
            // Identities of the selected namespaces, intersected with the rarest required pod label (sorted merges).
            var candidates = MatchNamespaces(namespaceSelector).IdentityIds(this);
            if (podSelector is { MatchLabels.Count: > 0 })
            {
                var label = RarestPodLabel(podSelector);
                candidates = Intersect(candidates, PostingIds(label.Key, label.Value));
            }

            if (podSelector is null || podSelector.IsEmpty)
            {
                return candidates;
            }

            result.Capacity = candidates.Length;
            foreach (var id in candidates)
            {
                if (podSelector.Matches(_identityById[id].Key.PodLabels))
                {
                    result.Add(id);
                }
            }
        }

        var ids = result.ToArray();
        Array.Sort(ids);
        return ids;
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
