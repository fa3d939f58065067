using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

/// <summary>
/// One compile: identities, peer selection, address classes, rule sets and endpoints. The run keeps its indexes so that
/// <c>PolicyCompilerSession</c> can apply a pod change in place (see <c>CompilationRun.Incremental.cs</c>).
/// </summary>
internal sealed partial class CompilationRun
{
    private readonly ILogger _logger;
    private readonly ParallelOptions _parallel;
    private ClusterSnapshot _snapshot;
    private readonly CompiledPolicySet? _previous;

    // Identities.
    private readonly Dictionary<IdentityKey, IdentityInfo> _identities = [];
    private readonly Dictionary<uint, IdentityInfo> _identityById = [];
    private readonly Dictionary<string, HashSet<IdentityInfo>> _identitiesByNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string Value), HashSet<IdentityInfo>> _podLabelIndex = [];
    private Dictionary<(string Key, string Value), List<NamespaceDefinition>>? _namespaceLabelIndex;
    private ImmutableSortedDictionary<uint, SecurityIdentity> _identitiesById = ImmutableSortedDictionary<uint, SecurityIdentity>.Empty;
    private ImmutableDictionary<IdentityKey, uint> _identitiesByKey = ImmutableDictionary<IdentityKey, uint>.Empty;
    private uint _nextIdentity;

    // Peer selection: one state per distinct (namespace scope, namespace selector, pod selector).
    private readonly Dictionary<SelectorKey, SelectorState> _selectors = [];
    private readonly Dictionary<LabelSelector, NamespaceMatch> _namespaceSelectorCache = [];

    // Policies.
    private NetworkPolicyDefinition[] _policies = [];
    private Fragment[] _ingressFragments = [];
    private Fragment[] _egressFragments = [];

    // Address groups and classes.
    private readonly Dictionary<string, int> _groupIndex = new(StringComparer.Ordinal);
    private readonly List<string> _groupKeys = [];
    private readonly List<IPBlock?> _groupBlocks = [];
    private readonly List<PodEndpoint?> _groupPods = [];

    // Peer sets: one per peer specification, identifiers stable by specification key.
    private readonly Dictionary<string, PeerSpec> _peerSpecs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _previousPeerSetIds = new(StringComparer.Ordinal);
    private int _nextPeerSet;

    // Rule sets: one per composition (direction, policies, named-port signature), identifiers stable by that key.
    private readonly Dictionary<string, RuleSetState> _ruleSets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _previousRuleSetIds = new(StringComparer.Ordinal);
    private int _nextRuleSet;

    // Output.
    private ImmutableSortedDictionary<string, EndpointPolicy> _endpoints = ImmutableSortedDictionary.Create<string, EndpointPolicy>(ObjectKeyComparer.Instance);
    private ImmutableSortedDictionary<int, RuleSet> _ruleSetOutput = ImmutableSortedDictionary<int, RuleSet>.Empty;
    private ImmutableSortedDictionary<int, PeerSet> _peerSetOutput = ImmutableSortedDictionary<int, PeerSet>.Empty;

    public CompilationRun(ClusterSnapshot snapshot, CompiledPolicySet? previous, ILogger logger, int maxDegreeOfParallelism = -1)
    {
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        _snapshot = snapshot;
        _previous = previous;
        _logger = logger;
        if (previous is not null)
        {
            foreach (var peerSet in previous.PeerSets.Values)
            {
                _previousPeerSetIds[peerSet.SpecKey] = peerSet.Id;
            }

            foreach (var ruleSet in previous.RuleSets.Values)
            {
                _previousRuleSetIds[ruleSet.MemoKey] = ruleSet.Id;
            }
        }

        _nextPeerSet = previous?.NextPeerSet ?? 1;
        _nextRuleSet = previous?.NextRuleSet ?? 1;
        _nextAddressClass = previous?.NextAddressClass ?? ReservedIdentities.FirstAddressClass;
    }

    public ClusterSnapshot Snapshot => _snapshot;

    public CompiledPolicySet Run()
    {
        _backReferencesPending = true;
        BuildIdentities();
        PrecomputeSelections();
        CompilePolicies();
        _precomputedSelections = null;
        _postingIds = null;
        _allIdentityIds = null;
        foreach (var match in _namespaceSelectorCache.Values)
        {
            match.ReleaseIdentityIds();
        }

        BuildAddressClasses();
        BuildPeerSets();
        BuildEndpoints();
        return Output();
    }

    private CompiledPolicySet Output() => new(
        new IdentityTable(_identitiesById, _identitiesByKey, _nextIdentity),
        _addressClasses,
        _nextAddressClass,
        _ipCache,
        _peerSetOutput,
        _nextPeerSet,
        _ruleSetOutput,
        _nextRuleSet,
        _endpoints);

    // ---------------------------------------------------------------- identities

    private void BuildIdentities()
    {
        // Pods come in (namespace, name) order: look each namespace up once.
        NamespaceDefinition? ns = null;
        foreach (var pod in _snapshot.Pods.Values)
        {
            if (ns is null || !string.Equals(ns.Name, pod.Namespace, StringComparison.Ordinal))
            {
                ns = _snapshot.Namespaces[pod.Namespace];
            }

            IdentityFor(pod, ns, allocate: false).Pods.Add(pod);
        }

        var previous = _previous?.Identities ?? IdentityTable.Reserved;
        _nextIdentity = Math.Max(previous.NextIdentity, ReservedIdentities.FirstPodIdentity);
        var fresh = new List<IdentityInfo>();
        foreach (var info in _identities.Values)
        {
            if (previous.ByKey.TryGetValue(info.Key, out var id))
            {
                info.Id = id;
            }
            else
            {
                fresh.Add(info);
            }
        }

        fresh.Sort(static (a, b) => IdentityInfo.CompareCanonical(a, b));
        foreach (var info in fresh)
        {
            info.Id = AllocateIdentity();
        }

        // The three indexes are independent of each other: fill them in parallel.
        var infos = _identities.Values.ToArray();
        Parallel.Invoke(
            _parallel,
            () =>
            {
                foreach (var info in infos)
                {
                    _identityById[info.Id] = info;
                }
            },
            () =>
            {
                var byId = ImmutableSortedDictionary.CreateBuilder<uint, SecurityIdentity>();
                byId.Add(ReservedIdentities.Host, IdentityTable.Reserved.ById[ReservedIdentities.Host]);
                byId.Add(ReservedIdentities.World, IdentityTable.Reserved.ById[ReservedIdentities.World]);
                foreach (var info in infos)
                {
                    byId.Add(info.Id, previous.ById.TryGetValue(info.Id, out var existing) ? existing : NewSecurityIdentity(info));
                }

                _identitiesById = byId.ToImmutable();
            },
            () =>
            {
                var byKey = ImmutableDictionary.CreateBuilder<IdentityKey, uint>();
                foreach (var info in infos)
                {
                    byKey.Add(info.Key, info.Id);
                }

                _identitiesByKey = byKey.ToImmutable();
            });
    }

    private static SecurityIdentity NewSecurityIdentity(IdentityInfo info) =>
        new(info.Id, info.Key.Namespace, info.Key.NamespaceLabels, info.Key.PodLabels);

    private uint AllocateIdentity()
    {
        if (_nextIdentity > ReservedIdentities.LastPodIdentity)
        {
            throw new InvalidOperationException("The pod identity space (256 to 2^24-1) is exhausted; compile without the previous table to renumber.");
        }

        return _nextIdentity++;
    }

    /// <summary>Finds or creates the identity of a pod's label set and registers it in the indexes (not in selectors).</summary>
    private IdentityInfo IdentityFor(PodEndpoint pod, bool allocate) => IdentityFor(pod, _snapshot.Namespaces[pod.Namespace], allocate);

    private IdentityInfo IdentityFor(PodEndpoint pod, NamespaceDefinition ns, bool allocate)
    {
        var key = new IdentityKey(pod.Namespace, ns.Labels, pod.Labels);
        if (_identities.TryGetValue(key, out var info))
        {
            return info;
        }

        info = new IdentityInfo(key);
        if (allocate)
        {
            info.Id = AllocateIdentity();
            _identityById[info.Id] = info;
        }

        _identities[key] = info;
        AddToList(_identitiesByNamespace, pod.Namespace, info);
        foreach (var label in pod.Labels.Items)
        {
            AddToList(_podLabelIndex, (label.Key, label.Value), info);
        }

        return info;
    }

    private static void AddToList<TKey>(Dictionary<TKey, HashSet<IdentityInfo>> index, TKey key, IdentityInfo info)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            list = [];
            index[key] = list;
        }

        list.Add(info);
    }

    // ---------------------------------------------------------------- peer selection

    private SelectorState Selector(string policyNamespace, NetworkPolicyPeer peer)
    {
        var key = new SelectorKey(peer.NamespaceSelector is null ? policyNamespace : null, peer.NamespaceSelector, peer.PodSelector);
        if (_selectors.TryGetValue(key, out var state))
        {
            return state;
        }

        var ids = _precomputedSelections is not null && _precomputedSelections.Remove(key, out var precomputed)
            ? precomputed
            : ComputeSelection(key);
        state = new SelectorState(key, ids);
        _selectors[key] = state;
        IndexSelector(state);
        if (!_backReferencesPending)
        {
            foreach (var id in state.Ids)
            {
                _identityById[id].Selectors.Add(state);
            }
        }

        return state;
    }

    // A cold compile leaves the identity → selector back-references (which only in-place updates follow) to the first
    // in-place update: a compile that is never updated does not pay for them.
    private bool _backReferencesPending;

    /// <summary>Builds what in-place updates need and a one-off compile does not (a session calls it after compiling).</summary>
    public void PrepareForUpdates() => EnsureSelectorBackReferences();

    /// <summary>Fills <see cref="IdentityInfo.Selectors"/> for the selectors of the cold compile, in creation order (the
    /// order in which <see cref="Selector"/> would have added them).</summary>
    private void EnsureSelectorBackReferences()
    {
        if (!_backReferencesPending)
        {
            return;
        }

        _backReferencesPending = false;
        foreach (var state in _selectors.Values)
        {
            foreach (var id in state.Ids)
            {
                _identityById[id].Selectors.Add(state);
            }
        }
    }

    // Selectors indexed by a label every identity they select must carry, so a new identity is matched against few.
    private readonly Dictionary<(string Key, string Value), List<SelectorState>> _selectorsByPodLabel = [];
    private readonly Dictionary<string, List<SelectorState>> _selectorsByNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string Value), List<SelectorState>> _selectorsByNamespaceLabel = [];
    private readonly List<SelectorState> _unindexedSelectors = [];

    private void IndexSelector(SelectorState state)
    {
        var key = state.Key;
        if (key.Namespace is not null)
        {
            // Same-namespace peers: a namespace holds few identities, so the namespace is the most selective key.
            AddSelector(_selectorsByNamespace, key.Namespace, state);
        }
        else if (key.PodSelector is { MatchLabels.Count: > 0 } podSelector)
        {
            // Index under the rarest required label, so a new identity meets few candidates.
            var label = podSelector.MatchLabels.Items.MinBy(l => _podLabelIndex.TryGetValue((l.Key, l.Value), out var set) ? set.Count : 0);
            AddSelector(_selectorsByPodLabel, (label.Key, label.Value), state);
        }
        else if (key.NamespaceSelector is { MatchLabels.Count: > 0 } nsSelector)
        {
            var label = nsSelector.MatchLabels.Items.MinBy(l => _namespaceLabelIndex is not null && _namespaceLabelIndex.TryGetValue((l.Key, l.Value), out var list) ? list.Count : 0);
            AddSelector(_selectorsByNamespaceLabel, (label.Key, label.Value), state);
        }
        else
        {
            _unindexedSelectors.Add(state);
        }
    }

    private static void AddSelector<TKey>(Dictionary<TKey, List<SelectorState>> index, TKey key, SelectorState state)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            list = [];
            index[key] = list;
        }

        list.Add(state);
    }

    /// <summary>Every selector that could select the identity (a superset; callers check <see cref="SelectorKey.Matches"/>).</summary>
    private IEnumerable<SelectorState> CandidateSelectors(IdentityKey identity)
    {
        foreach (var label in identity.PodLabels.Items)
        {
            if (_selectorsByPodLabel.TryGetValue((label.Key, label.Value), out var list))
            {
                foreach (var s in list) { yield return s; }
            }
        }

        if (_selectorsByNamespace.TryGetValue(identity.Namespace, out var byNamespace))
        {
            foreach (var s in byNamespace) { yield return s; }
        }

        foreach (var label in identity.NamespaceLabels.Items)
        {
            if (_selectorsByNamespaceLabel.TryGetValue((label.Key, label.Value), out var list))
            {
                foreach (var s in list) { yield return s; }
            }
        }

        foreach (var s in _unindexedSelectors)
        {
            yield return s;
        }
    }

    // Sorted identity numbers per pod label; used only while policies compile (incremental updates do not maintain it).
    private Dictionary<(string Key, string Value), uint[]>? _postingIds;

    private uint[] PostingIds(string key, string value)
    {
        _postingIds ??= [];
        if (!_postingIds.TryGetValue((key, value), out var ids))
        {
            ids = _podLabelIndex.TryGetValue((key, value), out var set) ? [.. set.Select(i => i.Id)] : [];
            Array.Sort(ids);
            _postingIds[(key, value)] = ids;
        }

        return ids;
    }

    private NamespaceMatch MatchNamespaces(LabelSelector selector)
    {
        if (_namespaceSelectorCache.TryGetValue(selector, out var cached))
        {
            return cached;
        }

        IEnumerable<NamespaceDefinition> candidates = _snapshot.Namespaces.Values;
        if (selector.MatchLabels.Count > 0)
        {
            if (_namespaceLabelIndex is null)
            {
                _namespaceLabelIndex = [];
                foreach (var ns in _snapshot.Namespaces.Values)
                {
                    foreach (var label in ns.Labels.Items)
                    {
                        if (!_namespaceLabelIndex.TryGetValue((label.Key, label.Value), out var list))
                        {
                            list = [];
                            _namespaceLabelIndex[(label.Key, label.Value)] = list;
                        }

                        list.Add(ns);
                    }
                }
            }

            List<NamespaceDefinition>? best = null;
            foreach (var label in selector.MatchLabels.Items)
            {
                if (!_namespaceLabelIndex.TryGetValue((label.Key, label.Value), out var list))
                {
                    best = [];
                    break;
                }

                if (best is null || list.Count < best.Count)
                {
                    best = list;
                }
            }

            candidates = best!;
        }

        var result = new NamespaceMatch();
        foreach (var ns in candidates)
        {
            if (selector.Matches(ns.Labels))
            {
                result.Namespaces.Add(ns);
                result.IdentityCount += _identitiesByNamespace.TryGetValue(ns.Name, out var identities) ? identities.Count : 0;
            }
        }

        _namespaceSelectorCache[selector] = result;
        return result;
    }

    private sealed class NamespaceMatch
    {
        private uint[]? _identityIds;
        private int[]? _podLabelClasses;

        public List<NamespaceDefinition> Namespaces { get; } = [];

        public int IdentityCount { get; set; }

        /// <summary>The sorted identities of the matched namespaces (built once per namespace selector while policies compile).</summary>
        public uint[] IdentityIds(CompilationRun run)
        {
            if (_identityIds is null)
            {
                var ids = new List<uint>(IdentityCount);
                foreach (var ns in Namespaces)
                {
                    if (run._identitiesByNamespace.TryGetValue(ns.Name, out var identities))
                    {
                        ids.AddRange(identities.Select(i => i.Id));
                    }
                }

                ids.Sort();
                _identityIds = [.. ids];
            }

            return _identityIds;
        }

        /// <summary>The pod-label class (<see cref="IdentityInfo.PodLabelClass"/>) of each identity of <see cref="IdentityIds"/>,
        /// position for position. Only while a cold compile selects peers: every identity has its class then.</summary>
        public int[] PodLabelClasses(CompilationRun run)
        {
            if (_podLabelClasses is null)
            {
                var ids = IdentityIds(run);
                var classes = new int[ids.Length];
                for (var i = 0; i < ids.Length; i++)
                {
                    classes[i] = run._identityById[ids[i]].PodLabelClass;
                }

                _podLabelClasses = classes;
            }

            return _podLabelClasses;
        }

        public void ReleaseIdentityIds()
        {
            _identityIds = null;
            _podLabelClasses = null;
        }
    }

    // ---------------------------------------------------------------- policies → fragments

    private void CompilePolicies()
    {
        _policies = [.. _snapshot.Policies.Values];
        _ingressFragments = new Fragment[_policies.Length];
        _egressFragments = new Fragment[_policies.Length];
        for (var i = 0; i < _policies.Length; i++)
        {
            var policy = _policies[i];
            _ingressFragments[i] = policy.AffectsIngress ? CompileDirection(i, PolicyDirection.Ingress) : Fragment.Empty;
            _egressFragments[i] = policy.AffectsEgress ? CompileDirection(i, PolicyDirection.Egress) : Fragment.Empty;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.PolicyCompiled(policy.Key, _ingressFragments[i].Rules.Count + _egressFragments[i].Rules.Count);
            }
        }
    }

    private Fragment CompileDirection(int policyIndex, PolicyDirection direction)
    {
        var policy = _policies[policyIndex];
        var rules = policy.RulesFor(direction);
        var fragment = new Fragment();
        for (var r = 0; r < rules.Length; r++)
        {
            var rule = rules[r];
            var peerCount = Math.Max(rule.Peers.Length, 1);
            var portCount = Math.Max(rule.Ports.Length, 1);
            for (var i = 0; i < peerCount; i++)
            {
                var peer = rule.Peers.IsEmpty ? null : rule.Peers[i];
                PeerSpec? peerSpec = null;
                for (var j = 0; j < portCount; j++)
                {
                    var port = rule.Ports.IsEmpty ? null : rule.Ports[j];
                    var source = new RuleReference(policy.Key, direction, r, rule.Peers.IsEmpty ? null : i, rule.Ports.IsEmpty ? null : j);
                    if (port?.PortName is { } name && direction == PolicyDirection.Egress)
                    {
                        ResolveEgressNamedPort(policy, peer, name, port.Protocol, source, fragment);
                        continue;
                    }

                    peerSpec ??= ToPeerSpec(policy, peer);
                    if (port?.PortName is { } ingressName)
                    {
                        fragment.Rules.Add(new ProtoRule(peerSpec, null, ingressName, port.Protocol, source));
                        fragment.HasNamedPorts = true;
                    }
                    else
                    {
                        fragment.Rules.Add(new ProtoRule(peerSpec, ToPortMatch(port), null, default, source));
                    }
                }
            }
        }

        return fragment;
    }

    private static PortMatch? ToPortMatch(NetworkPolicyPort? port)
    {
        if (port is null)
        {
            return null;
        }

        return port.Port is int first
            ? new PortMatch(port.Protocol, first, port.EndPort ?? first)
            : new PortMatch(port.Protocol, 0, 65535);
    }

    private PeerSpec ToPeerSpec(NetworkPolicyDefinition policy, NetworkPolicyPeer? peer)
    {
        if (peer is null)
        {
            return Spec("*", static _ => new AnyPeer("*"));
        }

        if (peer.IPBlock is { } block)
        {
            var group = BlockGroup(block);
            return Spec("block:" + block.Key, key => new AddressPeer(key, [group]));
        }

        var selector = Selector(policy.Namespace, peer);
        return Spec(selector.Key.Text, _ => selector.Peer);
    }

    private PeerSpec Spec(string key, Func<string, PeerSpec> create)
    {
        if (!_peerSpecs.TryGetValue(key, out var spec))
        {
            spec = create(key);
            _peerSpecs[key] = spec;
        }

        return spec;
    }

    /// <summary>Egress named ports resolve against the destination pod. Identities whose pods all resolve the name to
    /// one port get identity entries; pods of an identity whose pods disagree get entries of their own address group,
    /// and so do pods matched through an ipBlock.</summary>
    private void ResolveEgressNamedPort(NetworkPolicyDefinition policy, NetworkPolicyPeer? peer, string name, TransportProtocol protocol, RuleReference source, Fragment fragment)
    {
        if (peer?.IPBlock is { } block)
        {
            _blockNamedPorts.Add((name, protocol));
            var blockGroup = BlockGroup(block);
            foreach (var pod in _snapshot.Pods.Values)
            {
                if (pod.AddressOf(block.Cidr.BaseAddress.AddressFamily) is { } address && block.Contains(address) &&
                    pod.ResolveNamedPort(name, protocol) is int port)
                {
                    var podGroup = PodGroup(pod);
                    var spec = Spec($"block:{block.Key}&pod:{pod.Key}", key => new AddressPeer(key, [blockGroup, podGroup]));
                    fragment.Rules.Add(new ProtoRule(spec, new PortMatch(protocol, port, port), null, default, source));
                }
            }

            return;
        }

        var scope = peer is null ? null : Selector(policy.Namespace, peer);
        var scopeKey = scope?.Key.Text ?? "*";
        IEnumerable<uint> identities = scope is null ? (_allIdentityIds ??= [.. _identityById.Keys.Order()]) : scope.Ids;
        if (!_namedPortSlots.TryGetValue((scopeKey, name, protocol), out var slot))
        {
            slot = new NamedPortSlot(scope, name, protocol);
            _namedPortSlots[(scopeKey, name, protocol)] = slot;
        }
        else
        {
            // The same scope, name and protocol in another rule: the resolution is the same; only the source differs.
            foreach (var (resolvedSpec, resolvedPort) in slot.Resolved)
            {
                fragment.Rules.Add(new ProtoRule(resolvedSpec, new PortMatch(protocol, resolvedPort, resolvedPort), null, default, source));
            }

            return;
        }

        var byPort = new SortedDictionary<int, List<uint>>();
        foreach (var id in identities)
        {
            var pods = _identityById[id].Pods;
            int? uniform = pods[0].ResolveNamedPort(name, protocol);
            var mixed = false;
            for (var p = 1; p < pods.Count && !mixed; p++)
            {
                mixed = pods[p].ResolveNamedPort(name, protocol) != uniform;
            }

            if (!mixed)
            {
                if (uniform is int port)
                {
                    if (!byPort.TryGetValue(port, out var list))
                    {
                        list = [];
                        byPort[port] = list;
                    }

                    list.Add(id);
                }

                continue;
            }

            foreach (var pod in pods)
            {
                if (pod.ResolveNamedPort(name, protocol) is int port)
                {
                    var podGroup = PodGroup(pod);
                    var spec = Spec("pod:" + pod.Key, key => new AddressPeer(key, [podGroup]));
                    slot.Resolved.Add((spec, port));
                    fragment.Rules.Add(new ProtoRule(spec, new PortMatch(protocol, port, port), null, default, source));
                }
            }
        }

        foreach (var (port, ids) in byPort)
        {
            var key = $"{scopeKey}#{name}/{(int)protocol}={port}";
            var spec = Spec(key, k => new FixedIdentityPeer(k, [.. ids]));
            slot.ByPort[port] = (FixedIdentityPeer)spec;
            slot.Resolved.Add((spec, port));
            fragment.Rules.Add(new ProtoRule(spec, new PortMatch(protocol, port, port), null, default, source));
        }
    }

    private uint[]? _allIdentityIds;

    private int BlockGroup(IPBlock block) => Group(block.Key, block, null);

    private int PodGroup(PodEndpoint pod) => Group("pod:" + pod.Key, null, pod);

    private int Group(string key, IPBlock? block, PodEndpoint? pod)
    {
        if (!_groupIndex.TryGetValue(key, out var index))
        {
            index = _groupKeys.Count;
            _groupIndex[key] = index;
            _groupKeys.Add(key);
            _groupBlocks.Add(block);
            _groupPods.Add(pod);
        }

        return index;
    }

    // ---------------------------------------------------------------- peer sets

    private void BuildPeerSets()
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<int, PeerSet>();
        foreach (var spec in _peerSpecs.Values.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            spec.Current = MakePeerSet(spec);
            builder.Add(spec.Current.Id, spec.Current);
        }

        _peerSetOutput = builder.ToImmutable();
    }

    private PeerSet MakePeerSet(PeerSpec spec)
    {
        var id = spec.Current?.Id ?? (_previousPeerSetIds.TryGetValue(spec.Key, out var old) ? old : _nextPeerSet++);
        return spec switch
        {
            AnyPeer => new PeerSet(id, true, [], [], spec.Key),
            SelectorPeer s => new PeerSet(id, false, s.Selector.Ids, [], spec.Key),
            FixedIdentityPeer f => new PeerSet(id, false, f.Identities, [], spec.Key),
            AddressPeer a => new PeerSet(id, false, [], ClassesFor(a.Groups), spec.Key),
            _ => throw new InvalidOperationException("Unknown peer specification."),
        };
    }

    // ---------------------------------------------------------------- endpoints and rule sets

    private void BuildEndpoints()
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, EndpointPolicy>(ObjectKeyComparer.Instance);
        var previousEndpoints = _previous?.Endpoints;
        var infos = _identities.Values.ToArray();
        if (infos.Length >= ParallelSelectionThreshold)
        {
            // Which policies select each identity is independent of every other identity: match in parallel, then
            // choose policy lists and rule sets in identity order (their numbers depend on it).
            EnsurePoliciesByNamespace();
            var matches = new (List<int>? Ingress, List<int>? Egress)[infos.Length];
            ForEachIndex(infos.Length, i => matches[i] = infos[i].Selection is null ? MatchPolicies(infos[i]) : default);
            for (var i = 0; i < infos.Length; i++)
            {
                infos[i].Selection ??= MakeSelection(matches[i].Ingress, matches[i].Egress);
            }
        }

        _deferredRuleSets = [];
        _namedPortRuleSets = new(NamedPortListComparer.Instance);
        foreach (var info in infos)
        {
            foreach (var pod in info.Pods)
            {
                var endpoint = MakeEndpoint(info, pod);
                if (previousEndpoints is not null && previousEndpoints.TryGetValue(pod.Key, out var old) && old.Equals(endpoint))
                {
                    endpoint = old;
                }

                builder.Add(pod.Key, endpoint);
            }
        }

        // Every rule set's rules depend only on the compiled policies and peer sets: build them in parallel.
        var deferred = _deferredRuleSets;
        _deferredRuleSets = null;
        _namedPortRuleSets = null;
        ForEachIndex(deferred.Count, i => deferred[i].Current = BuildRules(deferred[i].Id, deferred[i]));

        _endpoints = builder.ToImmutable();
        var ruleSets = ImmutableSortedDictionary.CreateBuilder<int, RuleSet>();
        foreach (var state in _ruleSets.Values)
        {
            ruleSets.Add(state.Current.Id, state.Current);
        }

        _ruleSetOutput = ruleSets.ToImmutable();
    }

    private EndpointPolicy MakeEndpoint(IdentityInfo info, PodEndpoint pod)
    {
        var selection = SelectionOf(info);
        var key = pod.Key;

        // Without named ingress ports every pod of a policy list shares one rule set: remember it on the list.
        var ingress = selection.Ingress is null ? null
            : selection.IngressNamed ? RuleSetFor(selection.Ingress, PolicyDirection.Ingress, pod)
            : selection.Ingress.Shared ??= RuleSetFor(selection.Ingress, PolicyDirection.Ingress, null);
        var egress = selection.Egress is null ? null : selection.Egress.Shared ??= RuleSetFor(selection.Egress, PolicyDirection.Egress, null);
        ingress?.Endpoints.Add(key);
        egress?.Endpoints.Add(key);
        _endpointRuleSets[key] = (ingress, egress);
        return new EndpointPolicy
        {
            Pod = key,
            Identity = info.Id,
            Addresses = pod.Addresses,
            IngressRuleSet = ingress?.Id,
            EgressRuleSet = egress?.Id,
            IngressPolicies = selection.IngressNames,
            EgressPolicies = selection.EgressNames,
        };
    }

    private Dictionary<string, List<int>>? _policiesByNamespace;
    private readonly Dictionary<int[], PolicyList> _policyLists = new(IndicesComparer.Instance);

    /// <summary>Which policies of the pod's namespace select the identity, per direction (cached per identity).</summary>
    private Selection SelectionOf(IdentityInfo info)
    {
        if (info.Selection is { } cached)
        {
            return cached;
        }

        EnsurePoliciesByNamespace();
        var (ingress, egress) = MatchPolicies(info);
        return info.Selection = MakeSelection(ingress, egress);
    }

    private Selection MakeSelection(List<int>? ingress, List<int>? egress)
    {
        var ingressList = ingress is null ? null : PolicyListFor('I', ingress);
        var egressList = egress is null ? null : PolicyListFor('E', egress);
        var selection = new Selection(
            ingressList,
            egressList,
            ingressList?.Names ?? [],
            egressList?.Names ?? [],
            ingress?.Any(i => _ingressFragments[i].HasNamedPorts) ?? false);
        return selection;
    }

    /// <summary>The policies of the identity's namespace that select it, per direction, in policy order. Reads only, once
    /// <see cref="EnsurePoliciesByNamespace"/> has run.</summary>
    private (List<int>? Ingress, List<int>? Egress) MatchPolicies(IdentityInfo info)
    {
        List<int>? ingress = null, egress = null;
        if (_policiesByNamespace!.TryGetValue(info.Key.Namespace, out var candidates))
        {
            foreach (var index in candidates)
            {
                var policy = _policies[index];
                if ((policy.AffectsIngress || policy.AffectsEgress) && policy.PodSelector.Matches(info.Key.PodLabels))
                {
                    if (policy.AffectsIngress)
                    {
                        (ingress ??= []).Add(index);
                    }

                    if (policy.AffectsEgress)
                    {
                        (egress ??= []).Add(index);
                    }
                }
            }
        }

        return (ingress, egress);
    }

    private void EnsurePoliciesByNamespace()
    {
        if (_policiesByNamespace is not null)
        {
            return;
        }

        _policiesByNamespace = new(StringComparer.Ordinal);
        for (var i = 0; i < _policies.Length; i++)
        {
            if (!_policiesByNamespace.TryGetValue(_policies[i].Namespace, out var list))
            {
                list = [];
                _policiesByNamespace[_policies[i].Namespace] = list;
            }

            list.Add(i);
        }
    }

    private PolicyList PolicyListFor(char direction, List<int> indices)
    {
        // Look up by direction and policy indices without allocating; the key by policy names, which stays stable across
        // compiles, is built once per list.
        var length = indices.Count + 1;
        var buffer = length <= 128 ? stackalloc int[length] : new int[length];
        buffer[0] = direction;
        CollectionsMarshal.AsSpan(indices).CopyTo(buffer[1..]);
        var lookup = _policyLists.GetAlternateLookup<ReadOnlySpan<int>>();
        if (!lookup.TryGetValue(buffer, out var list))
        {
            var sb = new StringBuilder();
            sb.Append(direction);
            foreach (var i in indices)
            {
                sb.Append('|').Append(_policies[i].Key);
            }

            list = new PolicyList(sb.ToString(), [.. indices], [.. indices.Select(i => _policies[i].Key)]);
            _policyLists[buffer.ToArray()] = list;
        }

        return list;
    }

    /// <summary>Compares policy-list lookup keys (the direction, then the policy indices) by content, also as spans.</summary>
    private sealed class IndicesComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static IndicesComparer Instance { get; } = new();

        public bool Equals(int[]? x, int[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj) => GetHashCode((ReadOnlySpan<int>)obj);

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }

    private static string NamedPortKey(PodEndpoint pod)
    {
        var sb = new StringBuilder();
        foreach (var port in pod.NamedPorts)
        {
            sb.Append(port.Name).Append('/').Append((int)port.Protocol).Append('=').Append(port.Port).Append(';');
        }

        return sb.ToString();
    }

    private RuleSetState RuleSetFor(PolicyList policies, PolicyDirection direction, PodEndpoint? namedPortPod)
    {
        // Cold compile: pods of one workload share their named ports; find their rule set without building its key.
        if (namedPortPod is not null && _namedPortRuleSets is not null &&
            _namedPortRuleSets.TryGetValue((policies, namedPortPod.NamedPorts), out var known))
        {
            return known;
        }

        var state = RuleSetForKey(policies, direction, namedPortPod);
        if (namedPortPod is not null && _namedPortRuleSets is not null)
        {
            _namedPortRuleSets[(policies, namedPortPod.NamedPorts)] = state;
        }

        return state;
    }

    private RuleSetState RuleSetForKey(PolicyList policies, PolicyDirection direction, PodEndpoint? namedPortPod)
    {
        var memoKey = namedPortPod is null ? policies.Key : policies.Key + "|ports:" + NamedPortKey(namedPortPod);
        if (_ruleSets.TryGetValue(memoKey, out var state))
        {
            return state;
        }

        var id = _previousRuleSetIds.TryGetValue(memoKey, out var old) ? old : _nextRuleSet++;
        state = new RuleSetState(memoKey, direction, policies, namedPortPod) { Id = id };
        if (_deferredRuleSets is not null)
        {
            // Cold compile: peers are registered now, in creation order; the rules are built later, in parallel.
            RegisterPeers(state);
            _deferredRuleSets.Add(state);
        }
        else
        {
            state.Current = BuildRuleSet(id, state);
        }

        _ruleSets[memoKey] = state;
        _ruleSetsById[id] = state;
        RegisterRuleSet(state);

        return state;
    }

    private readonly Dictionary<string, (RuleSetState? Ingress, RuleSetState? Egress)> _endpointRuleSets = new(StringComparer.Ordinal);
    private readonly Dictionary<int, RuleSetState> _ruleSetsById = [];

    // Rule sets created during a cold BuildEndpoints, whose rules are built after every endpoint has chosen its own.
    private List<RuleSetState>? _deferredRuleSets;

    // During a cold BuildEndpoints only: named-port rule sets by policy list and the pod's named ports (by content).
    private Dictionary<(PolicyList Policies, ImmutableArray<NamedPort> Ports), RuleSetState>? _namedPortRuleSets;

    private sealed class NamedPortListComparer : IEqualityComparer<(PolicyList Policies, ImmutableArray<NamedPort> Ports)>
    {
        public static NamedPortListComparer Instance { get; } = new();

        public bool Equals((PolicyList Policies, ImmutableArray<NamedPort> Ports) x, (PolicyList Policies, ImmutableArray<NamedPort> Ports) y) =>
            ReferenceEquals(x.Policies, y.Policies) && x.Ports.AsSpan().SequenceEqual(y.Ports.AsSpan());

        public int GetHashCode((PolicyList Policies, ImmutableArray<NamedPort> Ports) obj)
        {
            var hash = new HashCode();
            hash.Add(RuntimeHelpers.GetHashCode(obj.Policies));
            foreach (var port in obj.Ports)
            {
                hash.Add(port);
            }

            return hash.ToHashCode();
        }
    }

    private RuleSet BuildRuleSet(int id, RuleSetState state)
    {
        RegisterPeers(state);
        return BuildRules(id, state);
    }

    /// <summary>Records the rule set on every peer specification its rules use (incremental updates follow these links).</summary>
    private void RegisterPeers(RuleSetState state)
    {
        var fragments = state.Direction == PolicyDirection.Ingress ? _ingressFragments : _egressFragments;
        foreach (var index in state.Policies.Indices)
        {
            foreach (var proto in fragments[index].Rules)
            {
                proto.Peer.RuleSets.Add(state);
            }
        }
    }

    /// <summary>The rule set's rules, sorted. Reads only: safe to run for many rule sets in parallel.</summary>
    private RuleSet BuildRules(int id, RuleSetState state)
    {
        var fragments = state.Direction == PolicyDirection.Ingress ? _ingressFragments : _egressFragments;
        var count = 0;
        foreach (var index in state.Policies.Indices)
        {
            count += fragments[index].Rules.Count;
        }

        var rules = new List<CompiledRule>(count);
        foreach (var index in state.Policies.Indices)
        {
            foreach (var proto in fragments[index].Rules)
            {
                var match = proto.Port;
                if (proto.IngressPortName is { } name)
                {
                    if (state.NamedPortPod!.ResolveNamedPort(name, proto.Protocol) is not int resolved)
                    {
                        continue;
                    }

                    match = new PortMatch(proto.Protocol, resolved, resolved);
                }

                rules.Add(new CompiledRule(proto.Peer.Current!.Id, match, PolicyAction.Allow, PolicyTier.NetworkPolicy, 0, proto.Source));
            }
        }

        rules.Sort(static (a, b) => a.CompareTo(b));
        return new RuleSet(id, state.Direction, [.. rules], state.MemoKey);
    }

    private ImmutableArray<uint> ClassesFor(int[] groups)
    {
        IEnumerable<uint>? result = null;
        foreach (var group in groups)
        {
            var classes = _classesByGroup.TryGetValue(group, out var c) ? c : [];
            result = result is null ? classes : result.Intersect(classes);
        }

        return [.. (result ?? []).Order()];
    }

    private sealed class IdentityInfo(IdentityKey key)
    {
        public IdentityKey Key { get; } = key;

        public uint Id { get; set; }

        public List<PodEndpoint> Pods { get; } = [];

        public List<SelectorState> Selectors { get; } = [];

        public Selection? Selection { get; set; }

        /// <summary>The number shared by every identity with equal pod labels (a cold compile's peer selection evaluates a
        /// pod selector once per class); -1 outside that.</summary>
        public int PodLabelClass { get; set; } = -1;

        /// <summary>The canonical order of new label sets: namespace, then namespace labels, then pod labels, each as
        /// ordinal text (the order of the joined text <c>namespace\u0001nsLabels\u0001podLabels</c>, without building it).</summary>
        public static int CompareCanonical(IdentityInfo a, IdentityInfo b)
        {
            var c = string.CompareOrdinal(a.Key.Namespace, b.Key.Namespace);
            if (c != 0)
            {
                return c;
            }

            c = string.CompareOrdinal(a.Key.NamespaceLabels.ToString(), b.Key.NamespaceLabels.ToString());
            return c != 0 ? c : string.CompareOrdinal(a.Key.PodLabels.ToString(), b.Key.PodLabels.ToString());
        }

        // Identity, not content, is what sets of these objects compare; a stored number hashes faster than the runtime's
        // object hash code (which these hot sets otherwise pay for on every insert).
        public override int GetHashCode() => _hash;

        private readonly int _hash = NextHash();
    }

    private static int s_hashes;

    private static int NextHash() => Interlocked.Increment(ref s_hashes);

    private sealed record Selection(PolicyList? Ingress, PolicyList? Egress, ImmutableArray<string> IngressNames, ImmutableArray<string> EgressNames, bool IngressNamed);

    private sealed record PolicyList(string Key, int[] Indices, ImmutableArray<string> Names)
    {
        /// <summary>The rule set every pod selected by exactly these policies shares (when no named ingress port is involved).</summary>
        public RuleSetState? Shared { get; set; }
    }

    private sealed class RuleSetState(string memoKey, PolicyDirection direction, PolicyList policies, PodEndpoint? namedPortPod)
    {
        public string MemoKey { get; } = memoKey;

        public PolicyDirection Direction { get; } = direction;

        public PolicyList Policies { get; } = policies;

        public PodEndpoint? NamedPortPod { get; } = namedPortPod;

        /// <summary>Gets the rule-set number (that of <see cref="Current"/>, known before its rules are built).</summary>
        public required int Id { get; init; }

        public RuleSet Current { get; set; } = null!;

        public HashSet<string> Endpoints { get; } = new(StringComparer.Ordinal);

        public override int GetHashCode() => _hash;

        private readonly int _hash = NextHash();
    }

    private sealed class SelectorKey(string? @namespace, LabelSelector? namespaceSelector, LabelSelector? podSelector) : IEquatable<SelectorKey>
    {
        public string? Namespace { get; } = @namespace;

        public LabelSelector? NamespaceSelector { get; } = namespaceSelector;

        public LabelSelector? PodSelector { get; } = podSelector;

        public string Text { get; } = (@namespace is null ? "nsSelector:" + namespaceSelector : "ns:" + @namespace) + ";pods:" + (podSelector?.ToString() ?? "*");

        /// <summary>Returns whether an identity is selected: namespace scope, then pod selector.</summary>
        public bool Matches(IdentityKey identity) =>
            (Namespace is not null ? string.Equals(Namespace, identity.Namespace, StringComparison.Ordinal) : NamespaceSelector!.Matches(identity.NamespaceLabels)) &&
            (PodSelector is null || PodSelector.Matches(identity.PodLabels));

        public bool Equals(SelectorKey? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

        public override bool Equals(object? obj) => Equals(obj as SelectorKey);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);
    }

    private sealed class SelectorState
    {
        public SelectorState(SelectorKey key, uint[] ids)
        {
            Key = key;
            Ids = ImmutableCollectionsMarshal.AsImmutableArray(ids);
            Peer = new SelectorPeer(key.Text, this);
        }

        public SelectorKey Key { get; }

        public ImmutableArray<uint> Ids { get; set; }

        public SelectorPeer Peer { get; }

        public override int GetHashCode() => _hash;

        private readonly int _hash = NextHash();
    }

    private sealed class Fragment
    {
        public static Fragment Empty { get; } = new();

        public List<ProtoRule> Rules { get; } = [];

        public bool HasNamedPorts { get; set; }
    }

    private sealed record ProtoRule(PeerSpec Peer, PortMatch? Port, string? IngressPortName, TransportProtocol Protocol, RuleReference Source);

    private abstract class PeerSpec(string key)
    {
        public string Key { get; } = key;

        public HashSet<RuleSetState> RuleSets { get; } = [];

        public PeerSet? Current { get; set; }

        public override int GetHashCode() => _hash;

        private readonly int _hash = NextHash();
    }

    private sealed class AnyPeer(string key) : PeerSpec(key);

    private sealed class SelectorPeer(string key, SelectorState selector) : PeerSpec(key)
    {
        public SelectorState Selector { get; } = selector;
    }

    private sealed class FixedIdentityPeer(string key, ImmutableArray<uint> identities) : PeerSpec(key)
    {
        public ImmutableArray<uint> Identities { get; set; } = identities;
    }

    /// <summary>An egress named port resolved over a scope (a selector, or every identity): the identities that resolve
    /// it uniformly, by port. Kept so a pod change can move its identity between ports without a recompile.</summary>
    private sealed class NamedPortSlot(SelectorState? scope, string name, TransportProtocol protocol)
    {
        public SelectorState? Scope { get; } = scope;

        public string Name { get; } = name;

        public TransportProtocol Protocol { get; } = protocol;

        public Dictionary<int, FixedIdentityPeer> ByPort { get; } = [];

        /// <summary>The peers and ports the first rule with this scope, name and protocol resolved to, in rule order.</summary>
        public List<(PeerSpec Spec, int Port)> Resolved { get; } = [];
    }

    private readonly Dictionary<(string Scope, string Name, TransportProtocol Protocol), NamedPortSlot> _namedPortSlots = [];
    private readonly HashSet<(string Name, TransportProtocol Protocol)> _blockNamedPorts = [];

    private sealed class AddressPeer(string key, int[] groups) : PeerSpec(key)
    {
        public int[] Groups { get; } = groups;
    }
}
