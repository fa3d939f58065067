using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

internal sealed partial class CompilationRun
{
    private Dictionary<string, int>? _policyIndex;
    private Dictionary<PeerSpec, int>? _specReferences;
    private Dictionary<int, List<RuleSetState>>? _ruleSetsByPolicy;

    /// <summary>
    /// Applies one policy change (add, replace or remove) to the retained state without recompiling the cluster: the
    /// policy's rules are compiled again, the rule sets that include it are rebuilt in place, and only the identities its
    /// old or new pod selector matches choose their policies again. Returns <see langword="null"/> when the change needs a
    /// full compile: an egress named port (its resolution is shared between policies) or an ipBlock whose address
    /// classes do not exist yet (the ipcache would be cut differently).
    /// </summary>
    public (CompiledPolicySet PolicySet, CompilationDelta Delta)? TryApplyPolicy(ClusterSnapshot next, NetworkPolicyDefinition? oldPolicy, NetworkPolicyDefinition? newPolicy)
    {
        EnsureSelectorBackReferences();
        if (!CanApplyIncrementally(oldPolicy) || !CanApplyIncrementally(newPolicy) ||
            !ReferenceEquals(next.Namespaces, _snapshot.Namespaces) || !ReferenceEquals(next.Pods, _snapshot.Pods))
        {
            return null;
        }

        var policyNamespace = (oldPolicy ?? newPolicy)!.Namespace;
        if (!_snapshot.Namespaces.ContainsKey(policyNamespace))
        {
            return null;
        }

        _snapshot = next;
        EnsurePolicyIndexes();
        var ruleSetsBefore = _ruleSetOutput;
        var peerSetsBefore = _peerSetOutput;
        var key = (oldPolicy ?? newPolicy)!.Key;

        // 1. Which identities choose their policies again: those the old or the new pod selector matches.
        var affected = new List<IdentityInfo>();
        if (_identitiesByNamespace.TryGetValue(policyNamespace, out var namespaceIdentities))
        {
            foreach (var info in namespaceIdentities)
            {
                if (Selects(oldPolicy, info) || Selects(newPolicy, info))
                {
                    affected.Add(info);
                }
            }
        }

        // 2. The policy's slot: replaced in place, appended, or emptied.
        int index;
        Fragment oldIngress = Fragment.Empty, oldEgress = Fragment.Empty;
        if (oldPolicy is not null)
        {
            index = _policyIndex![key];
            oldIngress = _ingressFragments[index];
            oldEgress = _egressFragments[index];
        }
        else
        {
            index = _policies.Length;
            Array.Resize(ref _policies, index + 1);
            Array.Resize(ref _ingressFragments, index + 1);
            Array.Resize(ref _egressFragments, index + 1);
            _policies[index] = newPolicy!;
            _ingressFragments[index] = Fragment.Empty;
            _egressFragments[index] = Fragment.Empty;
            _policyIndex![key] = index;
            InsertIntoNamespace(index);
        }

        // 3. Rule sets that include the policy stop referring to its old rules' peers.
        var including = _ruleSetsByPolicy!.TryGetValue(index, out var list) ? list.ToList() : [];
        foreach (var state in including)
        {
            Unreference(oldIngress, state);
            Unreference(oldEgress, state);
        }

        // 4. The new rules; peer specifications no rule refers to any more are dropped, new ones get peer sets.
        var newIngress = Fragment.Empty;
        var newEgress = Fragment.Empty;
        if (newPolicy is not null)
        {
            _policies[index] = newPolicy;
            newIngress = newPolicy.AffectsIngress ? CompileDirection(index, PolicyDirection.Ingress) : Fragment.Empty;
            newEgress = newPolicy.AffectsEgress ? CompileDirection(index, PolicyDirection.Egress) : Fragment.Empty;
            ReleaseCompileCaches();
        }
        else
        {
            _policyIndex!.Remove(key);
            _policiesByNamespace![policyNamespace].Remove(index);
        }

        _ingressFragments[index] = newIngress;
        _egressFragments[index] = newEgress;
        var addedPeerSets = new List<int>();
        var removedPeerSets = new List<int>();
        var removedCandidates = new List<int>();
        var orphaned = new List<PeerSpec>();
        var created = new List<PeerSpec>();
        CountReferences(oldIngress, -1, orphaned, created);
        CountReferences(oldEgress, -1, orphaned, created);
        CountReferences(newIngress, 1, orphaned, created);
        CountReferences(newEgress, 1, orphaned, created);
        foreach (var spec in created.Where(s => _specReferences![s] > 0 && s.Current is null).Distinct().OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            _peerSpecs[spec.Key] = spec;
            spec.Current = MakePeerSet(spec);
            _peerSetOutput = _peerSetOutput.Add(spec.Current.Id, spec.Current);
            addedPeerSets.Add(spec.Current.Id);
        }

        // 5. Rule sets that include the policy are rebuilt with its new rules. Those that can never be chosen again are
        //    forgotten below: a removed policy's, and shared ingress rule sets of policy lists that now have named ports
        //    (their pods get rule sets of their own).
        var stale = new List<RuleSetState>();
        foreach (var state in including)
        {
            if (newPolicy is null ||
                (state.NamedPortPod is null && state.Direction == PolicyDirection.Ingress && state.Policies.Indices.Any(i => _ingressFragments[i].HasNamedPorts)))
            {
                stale.Add(state);
                continue;
            }

            state.Current = BuildRuleSet(state.Current.Id, state);
            if (_ruleSetOutput.ContainsKey(state.Current.Id))
            {
                _ruleSetOutput = _ruleSetOutput.SetItem(state.Current.Id, state.Current);
            }
        }

        // 6. Affected endpoints choose their rule sets again.
        var previousEndpoints = _endpoints;
        var changedEndpoints = new List<string>();
        var addedRuleSets = new List<int>();
        foreach (var info in affected)
        {
            info.Selection = null;
            foreach (var pod in info.Pods)
            {
                UnregisterEndpoint(pod.Key);
            }
        }

        foreach (var info in affected)
        {
            foreach (var pod in info.Pods)
            {
                var endpoint = MakeEndpoint(info, pod);
                var previous = previousEndpoints[pod.Key];
                if (previous.Equals(endpoint))
                {
                    continue;
                }

                _endpoints = _endpoints.SetItem(pod.Key, endpoint);
                changedEndpoints.Add(pod.Key);
                foreach (var id in new[] { endpoint.IngressRuleSet, endpoint.EgressRuleSet })
                {
                    if (id is int ruleSetId && !_ruleSetOutput.ContainsKey(ruleSetId))
                    {
                        _ruleSetOutput = _ruleSetOutput.Add(ruleSetId, _ruleSetsById[ruleSetId].Current);
                        addedRuleSets.Add(ruleSetId);
                    }
                }
            }
        }

        foreach (var state in _releasedRuleSets)
        {
            if (state.Endpoints.Count == 0 && _ruleSetOutput.ContainsKey(state.Current.Id))
            {
                _ruleSetOutput = _ruleSetOutput.Remove(state.Current.Id);
                removedCandidates.Add(state.Current.Id);
            }
        }

        _releasedRuleSets.Clear();

        // 7. Stale rule sets are forgotten, so a policy added later under the same name starts afresh.
        foreach (var state in stale)
        {
            if (state.Endpoints.Count != 0)
            {
                throw new InvalidOperationException($"Rule set {state.Current.Id} ({state.MemoKey}) is stale but still used by {state.Endpoints.Count} endpoint(s).");
            }

            _ruleSets.Remove(state.MemoKey);
            _ruleSetsById.Remove(state.Current.Id);
            _ruleSetOutput = _ruleSetOutput.Remove(state.Current.Id);
            if (state.Policies.Shared == state)
            {
                state.Policies.Shared = null;
            }

            foreach (var other in state.Policies.Indices)
            {
                if (_ruleSetsByPolicy.TryGetValue(other, out var others))
                {
                    others.Remove(state);
                }

                Unreference(state.Direction == PolicyDirection.Ingress ? _ingressFragments[other] : _egressFragments[other], state);
            }
        }

        if (newPolicy is null)
        {
            _ruleSetsByPolicy.Remove(index);
            foreach (var (lookup, policyList) in _policyLists.ToList())
            {
                if (policyList.Indices.Contains(index))
                {
                    _policyLists.Remove(lookup);
                }
            }
        }

        foreach (var spec in orphaned.Distinct())
        {
            if (_specReferences![spec] == 0 && spec.Current is not null)
            {
                _specReferences.Remove(spec);
                _peerSpecs.Remove(spec.Key);
                _peerSetOutput = _peerSetOutput.Remove(spec.Current.Id);
                removedPeerSets.Add(spec.Current.Id);
                spec.Current = null;
            }
        }

        // The delta, by comparing what was touched before and after.
        var ruleSetCandidates = including.Select(s => s.Current.Id).Concat(addedRuleSets).Concat(removedCandidates).Distinct().Order().ToList();
        changedEndpoints.Sort(ObjectKeyComparer.Instance);
        var delta = new CompilationDelta
        {
            ChangedEndpoints = [.. changedEndpoints],
            AddedRuleSets = [.. ruleSetCandidates.Where(id => !ruleSetsBefore.ContainsKey(id) && _ruleSetOutput.ContainsKey(id))],
            RemovedRuleSets = [.. ruleSetCandidates.Where(id => ruleSetsBefore.ContainsKey(id) && !_ruleSetOutput.ContainsKey(id))],
            ChangedRuleSets = [.. ruleSetCandidates.Where(id => ruleSetsBefore.TryGetValue(id, out var a) && _ruleSetOutput.TryGetValue(id, out var b) && !a.Equals(b))],
            AddedPeerSets = [.. addedPeerSets.Where(id => !peerSetsBefore.ContainsKey(id)).Order()],
            RemovedPeerSets = [.. removedPeerSets.Where(id => !_peerSetOutput.ContainsKey(id)).Order()],
        };
        return (Output(), delta);
    }

    private static bool Selects(NetworkPolicyDefinition? policy, IdentityInfo info) =>
        policy is not null && (policy.AffectsIngress || policy.AffectsEgress) && policy.PodSelector.Matches(info.Key.PodLabels);

    private bool CanApplyIncrementally(NetworkPolicyDefinition? policy)
    {
        if (policy is null)
        {
            return true;
        }

        foreach (var rule in policy.Egress)
        {
            foreach (var port in rule.Ports)
            {
                if (port.PortName is not null)
                {
                    return false; // egress named ports resolve through slots shared with other policies
                }
            }
        }

        foreach (var rule in policy.Ingress.Concat(policy.Egress))
        {
            foreach (var peer in rule.Peers)
            {
                if (peer.IPBlock is { } block && !_groupIndex.ContainsKey(block.Key))
                {
                    return false; // a new ipBlock cuts the address space into new classes
                }
            }
        }

        return true;
    }

    /// <summary>Builds, on the first policy change, the indexes a full compile does not need: policy by key, rule sets by
    /// policy and references per peer specification. Rule sets created later register themselves in <see cref="RuleSetFor"/>.</summary>
    private void EnsurePolicyIndexes()
    {
        if (_policyIndex is not null)
        {
            return;
        }

        EnsurePoliciesByNamespace();
        _policyIndex = new(StringComparer.Ordinal);
        for (var i = 0; i < _policies.Length; i++)
        {
            _policyIndex[_policies[i].Key] = i;
        }

        _ruleSetsByPolicy = [];
        foreach (var state in _ruleSets.Values)
        {
            RegisterRuleSet(state);
        }

        _specReferences = [];
        foreach (var fragment in _ingressFragments.Concat(_egressFragments))
        {
            foreach (var rule in fragment.Rules)
            {
                _specReferences[rule.Peer] = _specReferences.GetValueOrDefault(rule.Peer) + 1;
            }
        }
    }

    private void RegisterRuleSet(RuleSetState state)
    {
        if (_ruleSetsByPolicy is null)
        {
            return;
        }

        foreach (var index in state.Policies.Indices)
        {
            if (!_ruleSetsByPolicy.TryGetValue(index, out var list))
            {
                list = [];
                _ruleSetsByPolicy[index] = list;
            }

            list.Add(state);
        }
    }

    private void InsertIntoNamespace(int index)
    {
        var policy = _policies[index];
        if (!_policiesByNamespace!.TryGetValue(policy.Namespace, out var list))
        {
            list = [];
            _policiesByNamespace[policy.Namespace] = list;
        }

        // Keep the snapshot's order (by key), so policy lists, and the rule set keys made from them, are the ones a full
        // compile makes.
        var comparer = _snapshot.Policies.KeyComparer;
        var position = 0;
        while (position < list.Count && comparer.Compare(_policies[list[position]].Key, policy.Key) < 0)
        {
            position++;
        }

        list.Insert(position, index);
    }

    private static void Unreference(Fragment fragment, RuleSetState state)
    {
        foreach (var rule in fragment.Rules)
        {
            rule.Peer.RuleSets.Remove(state);
        }
    }

    private void CountReferences(Fragment fragment, int change, List<PeerSpec> orphaned, List<PeerSpec> created)
    {
        var references = _specReferences!;
        foreach (var rule in fragment.Rules)
        {
            references[rule.Peer] = references.GetValueOrDefault(rule.Peer) + change;
            (change < 0 ? orphaned : created).Add(rule.Peer);
        }
    }

    /// <summary>Drops the indexes only a compile of policies uses (incremental pod changes do not maintain them).</summary>
    private void ReleaseCompileCaches()
    {
        _postingIds = null;
        _allIdentityIds = null;
        foreach (var match in _namespaceSelectorCache.Values)
        {
            match.ReleaseIdentityIds();
        }
    }
}
