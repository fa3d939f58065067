using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

internal sealed partial class CompilationRun
{
    /// <summary>
    /// Applies one pod change (add, update or remove) to the retained state without recompiling: the pod's identity
    /// joins or leaves the selectors that match it, the rule sets built from those selectors are rebuilt in place, the
    /// pod's endpoint and ipcache entries are replaced. Returns <see langword="null"/> when the change needs a full
    /// compile (the pod takes part in per-pod address groups, or an address of it is also an ipBlock boundary).
    /// </summary>
    public (CompiledPolicySet PolicySet, CompilationDelta Delta)? TryApplyPod(ClusterSnapshot next, PodEndpoint? oldPod, PodEndpoint? newPod)
    {
        EnsureSelectorBackReferences();
        if (!CanApplyIncrementally(next, oldPod) || !CanApplyIncrementally(next, newPod) || !PlanNamedPorts(oldPod, newPod, out var namedPortPlan))
        {
            return null;
        }

        _snapshot = next;
        var ruleSetsBefore = _ruleSetOutput;
        var peerSetsBefore = _peerSetOutput;
        var dirtySpecs = new HashSet<PeerSpec>();
        var addedIdentities = new List<uint>();
        var removedIdentities = new List<uint>();
        var key = (oldPod ?? newPod)!.Key;

        // 1. Leave the old identity (removed below once the new pod is in, so a pod that keeps its labels keeps its identity).
        IdentityInfo? oldInfo = null;
        if (oldPod is not null)
        {
            oldInfo = _identities[new IdentityKey(oldPod.Namespace, _snapshot.Namespaces[oldPod.Namespace].Labels, oldPod.Labels)];
            oldInfo.Pods.RemoveAll(p => p.Key == key);
            UnregisterEndpoint(key);
        }

        // 2. Join the new identity.
        IdentityInfo? newInfo = null;
        if (newPod is not null)
        {
            var before = _identities.Count;
            newInfo = IdentityFor(newPod, allocate: true);
            if (_identities.Count > before)
            {
                JoinSelectors(newInfo, dirtySpecs);
                _identitiesById = _identitiesById.Add(newInfo.Id, NewSecurityIdentity(newInfo));
                _identitiesByKey = _identitiesByKey.Add(newInfo.Key, newInfo.Id);
                addedIdentities.Add(newInfo.Id);
            }

            newInfo.Pods.Add(newPod);
        }

        if (oldInfo is { Pods.Count: 0 })
        {
            RemoveIdentity(oldInfo, dirtySpecs);
            removedIdentities.Add(oldInfo.Id);
        }

        // 2b. Identities that resolve an egress named port to another port (or stop or start resolving it) move between
        //     the slot's per-port peer sets.
        foreach (var (slot, isNew, from, to) in namedPortPlan)
        {
            var id = isNew ? newInfo!.Id : _identitiesByKeyBefore!.Value;
            if (from is int f)
            {
                var spec = slot.ByPort[f];
                var index = spec.Identities.BinarySearch(id);
                if (index >= 0)
                {
                    spec.Identities = spec.Identities.RemoveAt(index);
                    dirtySpecs.Add(spec);
                }
            }

            if (to is int t)
            {
                var spec = slot.ByPort[t];
                var index = spec.Identities.BinarySearch(id);
                if (index < 0)
                {
                    spec.Identities = spec.Identities.Insert(~index, id);
                    dirtySpecs.Add(spec);
                }
            }
        }

        // 3. Peer sets of dirty selectors change in place; rule sets refer to them by identifier and stay as they are,
        //    but their effective entries change, so they are reported.
        var changedPeerSets = new List<int>();
        var changedRuleSetIds = new List<int>();
        foreach (var spec in dirtySpecs)
        {
            if (spec.Current is null)
            {
                continue; // a selector that only scopes egress named ports has no peer set of its own
            }

            spec.Current = MakePeerSet(spec);
            _peerSetOutput = _peerSetOutput.SetItem(spec.Current.Id, spec.Current);
            changedPeerSets.Add(spec.Current.Id);
            foreach (var state in spec.RuleSets)
            {
                changedRuleSetIds.Add(state.Current.Id);
            }
        }

        // 4. The endpoint.
        var addedRuleSets = new List<int>();
        var removedRuleSets = new List<int>();
        foreach (var state in _releasedRuleSets)
        {
            if (state.Endpoints.Count == 0 && _ruleSetOutput.ContainsKey(state.Current.Id))
            {
                _ruleSetOutput = _ruleSetOutput.Remove(state.Current.Id);
                removedRuleSets.Add(state.Current.Id);
            }
        }

        _releasedRuleSets.Clear();
        var previousEndpoint = _endpoints.TryGetValue(key, out var existing) ? existing : null;
        EndpointPolicy? endpoint = null;
        if (newPod is not null)
        {
            var knownRuleSets = _ruleSets.Count;
            endpoint = MakeEndpoint(newInfo!, newPod);
            foreach (var id in new[] { endpoint.IngressRuleSet, endpoint.EgressRuleSet })
            {
                if (id is int ruleSetId && !_ruleSetOutput.ContainsKey(ruleSetId))
                {
                    var state = _ruleSetsById[ruleSetId];
                    _ruleSetOutput = _ruleSetOutput.Add(ruleSetId, state.Current);
                    addedRuleSets.Add(ruleSetId);
                }
            }

            if (previousEndpoint is not null && previousEndpoint.Equals(endpoint))
            {
                endpoint = previousEndpoint;
            }

            _endpoints = _endpoints.SetItem(key, endpoint);
        }
        else
        {
            _endpoints = _endpoints.Remove(key);
        }

        // 5. The ipcache entries of the pod's addresses.
        var upserts = new List<IPCacheEntry>();
        var removedPrefixes = new List<IPNetwork>();
        foreach (var address in oldPod?.Addresses ?? [])
        {
            if (newPod is null || !newPod.Addresses.Contains(address))
            {
                _ipCache = _ipCache.Remove(HostPrefix(address));
                removedPrefixes.Add(HostPrefix(address));
            }
        }

        foreach (var address in newPod?.Addresses ?? [])
        {
            var entry = new IPCacheEntry(HostPrefix(address), newInfo!.Id, BoundaryClassOf(address));
            if (!_ipCache.TryGetValue(entry.Prefix, out var current) || current != entry)
            {
                _ipCache = _ipCache.SetItem(entry.Prefix, entry);
                upserts.Add(entry);
            }
        }

        // Classify every touched rule set and peer set by comparing before and after.
        changedPeerSets = [.. changedPeerSets.Distinct().Order().Where(id => !peerSetsBefore[id].Equals(_peerSetOutput[id]))];
        var changedPeerSetIds = changedPeerSets.ToHashSet();
        var ruleSetCandidates = changedRuleSetIds.Concat(addedRuleSets).Concat(removedRuleSets).Distinct().Order().ToList();
        addedRuleSets = [.. ruleSetCandidates.Where(id => !ruleSetsBefore.ContainsKey(id) && _ruleSetOutput.ContainsKey(id))];
        removedRuleSets = [.. ruleSetCandidates.Where(id => ruleSetsBefore.ContainsKey(id) && !_ruleSetOutput.ContainsKey(id))];
        changedRuleSetIds = [.. ruleSetCandidates.Where(id => ruleSetsBefore.TryGetValue(id, out var a) && _ruleSetOutput.TryGetValue(id, out var b) &&
            (!a.Equals(b) || b.Rules.Any(r => changedPeerSetIds.Contains(r.PeerSet))))];

        var delta = new CompilationDelta
        {
            AddedEndpoints = previousEndpoint is null && endpoint is not null ? [key] : [],
            RemovedEndpoints = previousEndpoint is not null && endpoint is null ? [key] : [],
            ChangedEndpoints = previousEndpoint is not null && endpoint is not null && !ReferenceEquals(previousEndpoint, endpoint) ? [key] : [],
            AddedIdentities = [.. addedIdentities],
            RemovedIdentities = [.. removedIdentities],
            AddedRuleSets = [.. addedRuleSets],
            ChangedRuleSets = [.. changedRuleSetIds],
            RemovedRuleSets = [.. removedRuleSets],
            ChangedPeerSets = [.. changedPeerSets],
            UpsertedIPCacheEntries = [.. upserts],
            RemovedIPCachePrefixes = [.. removedPrefixes],
        };
        return (Output(), delta);
    }

    private readonly List<RuleSetState> _releasedRuleSets = [];

    private bool CanApplyIncrementally(ClusterSnapshot next, PodEndpoint? pod)
    {
        if (pod is null)
        {
            return true;
        }

        if (!next.Namespaces.TryGetValue(pod.Namespace, out var ns) || !ReferenceEquals(ns, _snapshot.Namespaces.GetValueOrDefault(pod.Namespace)))
        {
            return false; // namespace created, removed or relabelled: every identity of it changes
        }

        if (_groupIndex.ContainsKey("pod:" + pod.Key))
        {
            return false; // the pod has an address group of its own (egress named ports)
        }

        foreach (var port in pod.NamedPorts)
        {
            if (_blockNamedPorts.Contains((port.Name, port.Protocol)))
            {
                return false; // egress named ports through ipBlocks resolve per pod address
            }
        }

        foreach (var address in pod.Addresses)
        {
            if (_boundaryPrefixes.Contains(HostPrefix(address)))
            {
                return false; // the address is an ipBlock boundary too
            }
        }

        return true;
    }

    private void RemoveIdentity(IdentityInfo info, HashSet<PeerSpec> dirty)
    {
        _identities.Remove(info.Key);
        _identityById.Remove(info.Id);
        _identitiesByNamespace[info.Key.Namespace].Remove(info);
        foreach (var label in info.Key.PodLabels.Items)
        {
            _podLabelIndex[(label.Key, label.Value)].Remove(info);
        }

        foreach (var selector in info.Selectors)
        {
            var index = selector.Ids.BinarySearch(info.Id);
            if (index >= 0)
            {
                selector.Ids = selector.Ids.RemoveAt(index);
                dirty.Add(selector.Peer);
            }
        }

        _identitiesById = _identitiesById.Remove(info.Id);
        _identitiesByKey = _identitiesByKey.Remove(info.Key);
    }

    private void JoinSelectors(IdentityInfo info, HashSet<PeerSpec> dirty)
    {
        foreach (var selector in CandidateSelectors(info.Key))
        {
            if (selector.Key.Matches(info.Key))
            {
                var index = selector.Ids.BinarySearch(info.Id);
                if (index < 0)
                {
                    selector.Ids = selector.Ids.Insert(~index, info.Id);
                    info.Selectors.Add(selector);
                    dirty.Add(selector.Peer);
                }
            }
        }
    }

    private void UnregisterEndpoint(string key)
    {
        if (_endpointRuleSets.Remove(key, out var states))
        {
            foreach (var state in new[] { states.Ingress, states.Egress })
            {
                if (state is not null && state.Endpoints.Remove(key))
                {
                    _releasedRuleSets.Add(state);
                }
            }
        }
    }

    private uint? _identitiesByKeyBefore;

    /// <summary>Works out, before anything changes, how the old and the new identity move between the per-port peer sets of
    /// egress named ports. Fails (so the caller recompiles) when an identity's pods would disagree on a port, or when an
    /// identity resolves a name to a port no rule has yet.</summary>
    private bool PlanNamedPorts(PodEndpoint? oldPod, PodEndpoint? newPod, out List<(NamedPortSlot Slot, bool IsNew, int? From, int? To)> plan)
    {
        plan = [];
        _identitiesByKeyBefore = null;
        if (_namedPortSlots.Count == 0)
        {
            return true;
        }

        var key = (oldPod ?? newPod)!.Key;
        IdentityKey? oldKey = oldPod is null ? null : new IdentityKey(oldPod.Namespace, _snapshot.Namespaces[oldPod.Namespace].Labels, oldPod.Labels);
        IdentityKey? newKey = newPod is null ? null : new IdentityKey(newPod.Namespace, _snapshot.Namespaces[newPod.Namespace].Labels, newPod.Labels);
        foreach (var (identityKey, isNew) in new[] { (oldKey, false), (newKey, true) })
        {
            if (identityKey is not IdentityKey k || (!isNew && newKey is IdentityKey nk && nk.Equals(k)))
            {
                continue; // the old identity is the new one: planned once, as the new one
            }

            var before = _identities.TryGetValue(k, out var info) ? info.Pods : [];
            var after = before.Where(p => p.Key != key).ToList();
            if (newKey is IdentityKey n && n.Equals(k))
            {
                after.Add(newPod!);
            }

            var names = before.Concat(after).SelectMany(p => p.NamedPorts).Select(p => (p.Name, p.Protocol)).ToHashSet();
            if (names.Count == 0)
            {
                continue;
            }

            if (!isNew)
            {
                _identitiesByKeyBefore = info!.Id;
            }

            foreach (var slot in _namedPortSlots.Values)
            {
                if (!names.Contains((slot.Name, slot.Protocol)) || (slot.Scope is not null && !slot.Scope.Key.Matches(k)))
                {
                    continue;
                }

                if (!TryResolve(before, slot, out var from) || !TryResolve(after, slot, out var to))
                {
                    return false; // pods of one identity disagree: per-pod address groups are needed
                }

                if (from == to)
                {
                    continue;
                }

                if (to is int port && !slot.ByPort.ContainsKey(port))
                {
                    return false; // a port no rule has yet: the policy's rules change
                }

                plan.Add((slot, isNew, from, to));
            }
        }

        return true;
    }

    private static bool TryResolve(List<PodEndpoint> pods, NamedPortSlot slot, out int? port)
    {
        port = null;
        for (var i = 0; i < pods.Count; i++)
        {
            var resolved = pods[i].ResolveNamedPort(slot.Name, slot.Protocol);
            if (i == 0)
            {
                port = resolved;
            }
            else if (resolved != port)
            {
                return false;
            }
        }

        return true;
    }
}
