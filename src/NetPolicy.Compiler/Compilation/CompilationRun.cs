using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

/// <summary>One compile: identities, peer selection, address classes, rule sets and endpoints.</summary>
internal sealed partial class CompilationRun
{
    private readonly ClusterSnapshot _snapshot;
    private readonly CompiledPolicySet? _previous;
    private readonly ILogger _logger;

    // Identities.
    private readonly Dictionary<IdentityKey, IdentityInfo> _identities = [];
    private readonly Dictionary<string, List<IdentityInfo>> _identitiesByNamespace = new(StringComparer.Ordinal);
    private List<IdentityInfo> _allIdentities = [];
    private IdentityTable _identityTable = IdentityTable.Reserved;
    private Dictionary<(string Key, string Value), List<IdentityInfo>>? _podLabelIndex;
    private Dictionary<(string Key, string Value), List<NamespaceDefinition>>? _namespaceLabelIndex;

    // Peer selection.
    private readonly Dictionary<SelectorKey, uint[]> _selectorCache = [];
    private readonly Dictionary<LabelSelector, List<NamespaceDefinition>> _namespaceSelectorCache = [];

    // Policies.
    private NetworkPolicyDefinition[] _policies = [];
    private Fragment[] _ingressFragments = [];
    private Fragment[] _egressFragments = [];

    // Address groups and classes.
    private readonly Dictionary<string, int> _groupIndex = new(StringComparer.Ordinal);
    private readonly List<string> _groupKeys = [];
    private readonly List<IPBlock?> _groupBlocks = [];
    private readonly List<PodEndpoint?> _groupPods = [];
    private Dictionary<int, uint[]> _classesByGroup = [];
    private ImmutableArray<AddressClass> _addressClasses = [];
    private uint _nextAddressClass;
    private ImmutableArray<IPCacheEntry> _ipCache = [];

    // Peer sets and rule sets.
    private readonly Dictionary<string, PeerSet> _peerSetsByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerSpec, PeerSet> _peerSetsBySpec = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, int> _previousPeerSetIds = new(StringComparer.Ordinal);
    private int _nextPeerSet;
    private readonly Dictionary<string, RuleSet> _ruleSetsByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RuleSet> _ruleSetsByMemo = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _previousRuleSetIds = new(StringComparer.Ordinal);
    private int _nextRuleSet;

    public CompilationRun(ClusterSnapshot snapshot, CompiledPolicySet? previous, ILogger logger)
    {
        _snapshot = snapshot;
        _previous = previous;
        _logger = logger;
        if (previous is not null)
        {
            foreach (var peerSet in previous.PeerSets)
            {
                _previousPeerSetIds[peerSet.ContentKey] = peerSet.Id;
            }

            foreach (var ruleSet in previous.RuleSets.Values)
            {
                _previousRuleSetIds[ruleSet.ContentKey] = ruleSet.Id;
            }
        }

        _nextPeerSet = previous?.NextPeerSet ?? 1;
        _nextRuleSet = previous?.NextRuleSet ?? 1;
        _nextAddressClass = previous?.NextAddressClass ?? ReservedIdentities.FirstAddressClass;
    }

    public CompiledPolicySet Run()
    {
        BuildIdentities();
        CompilePolicies();
        BuildAddressClasses();
        var endpoints = BuildEndpoints();

        var ruleSets = ImmutableSortedDictionary.CreateRange(_ruleSetsByContent.Values.Select(r => KeyValuePair.Create(r.Id, r)));
        var peerSets = _peerSetsByContent.Values.Where(p => !p.IsEmpty).OrderBy(p => p.Id).ToImmutableArray();
        return new CompiledPolicySet(
            _identityTable,
            _addressClasses,
            _nextAddressClass,
            _ipCache,
            peerSets,
            _nextPeerSet,
            ruleSets,
            _nextRuleSet,
            endpoints);
    }

    // ---------------------------------------------------------------- identities

    private void BuildIdentities()
    {
        var namespaces = _snapshot.Namespaces;
        foreach (var pod in _snapshot.Pods.Values)
        {
            var ns = namespaces[pod.Namespace];
            var key = new IdentityKey(pod.Namespace, ns.Labels, pod.Labels);
            if (!_identities.TryGetValue(key, out var info))
            {
                info = new IdentityInfo(key);
                _identities[key] = info;
                if (!_identitiesByNamespace.TryGetValue(pod.Namespace, out var list))
                {
                    list = [];
                    _identitiesByNamespace[pod.Namespace] = list;
                }

                list.Add(info);
            }

            info.Pods.Add(pod);
        }

        var previous = _previous?.Identities ?? IdentityTable.Reserved;
        var next = Math.Max(previous.NextIdentity, ReservedIdentities.FirstPodIdentity);
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

        fresh.Sort(static (a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        foreach (var info in fresh)
        {
            if (next > ReservedIdentities.LastPodIdentity)
            {
                throw new InvalidOperationException("The pod identity space (256 to 2^24-1) is exhausted; compile without the previous table to renumber.");
            }

            info.Id = next++;
        }

        _allIdentities = [.. _identities.Values.OrderBy(i => i.Id)];
        var byId = ImmutableSortedDictionary.CreateBuilder<uint, SecurityIdentity>();
        byId.Add(ReservedIdentities.Host, IdentityTable.Reserved.ById[ReservedIdentities.Host]);
        byId.Add(ReservedIdentities.World, IdentityTable.Reserved.ById[ReservedIdentities.World]);
        var byKey = ImmutableDictionary.CreateBuilder<IdentityKey, uint>();
        foreach (var info in _allIdentities)
        {
            var old = previous.ById.TryGetValue(info.Id, out var existing) ? existing : null;
            byId.Add(info.Id, old ?? new SecurityIdentity(info.Id, info.Key.Namespace, info.Key.NamespaceLabels, info.Key.PodLabels));
            byKey.Add(info.Key, info.Id);
        }

        _identityTable = new IdentityTable(byId.ToImmutable(), byKey.ToImmutable(), next);
    }

    // ---------------------------------------------------------------- peer selection

    private uint[] SelectIdentities(string policyNamespace, NetworkPolicyPeer peer)
    {
        var key = new SelectorKey(peer.NamespaceSelector is null ? policyNamespace : null, peer.NamespaceSelector, peer.PodSelector);
        if (_selectorCache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var result = new List<uint>();
        var podSelector = peer.PodSelector;
        if (peer.NamespaceSelector is null)
        {
            AddMatching(policyNamespace, podSelector, result);
        }
        else
        {
            var namespaces = MatchNamespaces(peer.NamespaceSelector);
            if (podSelector is { MatchLabels.Count: > 0 } && namespaces.Count > 8)
            {
                // Many namespaces and a selective pod selector: walk the pod-label index instead of every namespace.
                var nsNames = new HashSet<string>(namespaces.Select(n => n.Name), StringComparer.Ordinal);
                foreach (var info in SmallestPosting(podSelector.MatchLabels))
                {
                    if (nsNames.Contains(info.Key.Namespace) && podSelector.Matches(info.Key.PodLabels))
                    {
                        result.Add(info.Id);
                    }
                }
            }
            else
            {
                foreach (var ns in namespaces)
                {
                    AddMatching(ns.Name, podSelector, result);
                }
            }
        }

        result.Sort();
        var array = result.ToArray();
        _selectorCache[key] = array;
        return array;
    }

    private void AddMatching(string ns, LabelSelector? podSelector, List<uint> result)
    {
        if (!_identitiesByNamespace.TryGetValue(ns, out var identities))
        {
            return;
        }

        foreach (var info in identities)
        {
            if (podSelector is null || podSelector.Matches(info.Key.PodLabels))
            {
                result.Add(info.Id);
            }
        }
    }

    private List<IdentityInfo> SmallestPosting(LabelSet matchLabels)
    {
        if (_podLabelIndex is null)
        {
            _podLabelIndex = [];
            foreach (var info in _allIdentities)
            {
                foreach (var label in info.Key.PodLabels.Items)
                {
                    var k = (label.Key, label.Value);
                    if (!_podLabelIndex.TryGetValue(k, out var list))
                    {
                        list = [];
                        _podLabelIndex[k] = list;
                    }

                    list.Add(info);
                }
            }
        }

        List<IdentityInfo>? best = null;
        foreach (var label in matchLabels.Items)
        {
            if (!_podLabelIndex.TryGetValue((label.Key, label.Value), out var list))
            {
                return [];
            }

            if (best is null || list.Count < best.Count)
            {
                best = list;
            }
        }

        return best ?? [];
    }

    private List<NamespaceDefinition> MatchNamespaces(LabelSelector selector)
    {
        if (_namespaceSelectorCache.TryGetValue(selector, out var cached))
        {
            return cached;
        }

        var result = new List<NamespaceDefinition>();
        if (selector.MatchLabels.Count > 0)
        {
            if (_namespaceLabelIndex is null)
            {
                _namespaceLabelIndex = [];
                foreach (var ns in _snapshot.Namespaces.Values)
                {
                    foreach (var label in ns.Labels.Items)
                    {
                        var k = (label.Key, label.Value);
                        if (!_namespaceLabelIndex.TryGetValue(k, out var list))
                        {
                            list = [];
                            _namespaceLabelIndex[k] = list;
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

            foreach (var ns in best!)
            {
                if (selector.Matches(ns.Labels))
                {
                    result.Add(ns);
                }
            }
        }
        else
        {
            foreach (var ns in _snapshot.Namespaces.Values)
            {
                if (selector.Matches(ns.Labels))
                {
                    result.Add(ns);
                }
            }
        }

        _namespaceSelectorCache[selector] = result;
        return result;
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
            _ingressFragments[i] = policy.AffectsIngress ? CompileDirection(policy, PolicyDirection.Ingress) : Fragment.Empty;
            _egressFragments[i] = policy.AffectsEgress ? CompileDirection(policy, PolicyDirection.Egress) : Fragment.Empty;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.PolicyCompiled(policy.Key, _ingressFragments[i].Rules.Count + _egressFragments[i].Rules.Count);
            }
        }
    }

    private Fragment CompileDirection(NetworkPolicyDefinition policy, PolicyDirection direction)
    {
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
                    if (peerSpec is IdentityPeer { Identities.Length: 0 })
                    {
                        continue;
                    }

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
            return AnyPeer.Instance;
        }

        if (peer.IPBlock is { } block)
        {
            var group = BlockGroup(block);
            if (!_blockPeers.TryGetValue(group, out var blockPeer))
            {
                blockPeer = new AddressPeer([group]);
                _blockPeers[group] = blockPeer;
            }

            return blockPeer;
        }

        var identities = SelectIdentities(policy.Namespace, peer);
        if (!_identityPeers.TryGetValue(identities, out var identityPeer))
        {
            identityPeer = new IdentityPeer(identities);
            _identityPeers[identities] = identityPeer;
        }

        return identityPeer;
    }

    private readonly Dictionary<int, AddressPeer> _blockPeers = [];
    private readonly Dictionary<uint[], IdentityPeer> _identityPeers = new(ReferenceEqualityComparer.Instance);

    /// <summary>Egress named ports resolve against the destination pod. Identities whose pods all resolve the name to
    /// one port get identity entries; pods of an identity whose pods disagree get entries of their own address group,
    /// and so do pods matched through an ipBlock.</summary>
    private void ResolveEgressNamedPort(NetworkPolicyDefinition policy, NetworkPolicyPeer? peer, string name, TransportProtocol protocol, RuleReference source, Fragment fragment)
    {
        if (peer?.IPBlock is { } block)
        {
            var blockGroup = BlockGroup(block);
            foreach (var pod in _snapshot.Pods.Values)
            {
                if (pod.AddressOf(block.Cidr.BaseAddress.AddressFamily) is { } address && block.Contains(address) &&
                    pod.ResolveNamedPort(name, protocol) is int port)
                {
                    fragment.Rules.Add(new ProtoRule(new AddressPeer([blockGroup, PodGroup(pod)]), new PortMatch(protocol, port, port), null, default, source));
                }
            }

            return;
        }

        IEnumerable<uint> identities = peer is null ? _allIdentities.Select(i => i.Id) : SelectIdentities(policy.Namespace, peer);
        var byPort = new SortedDictionary<int, List<uint>>();
        foreach (var id in identities)
        {
            var info = _identityById ??= _allIdentities.ToDictionary(i => i.Id);
            var pods = info[id].Pods;
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
                    fragment.Rules.Add(new ProtoRule(new AddressPeer([PodGroup(pod)]), new PortMatch(protocol, port, port), null, default, source));
                }
            }
        }

        foreach (var (port, ids) in byPort)
        {
            fragment.Rules.Add(new ProtoRule(new IdentityPeer([.. ids]), new PortMatch(protocol, port, port), null, default, source));
        }
    }

    private Dictionary<uint, IdentityInfo>? _identityById;

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

    // ---------------------------------------------------------------- endpoints and rule sets

    private ImmutableSortedDictionary<string, EndpointPolicy> BuildEndpoints()
    {
        var policiesByNamespace = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < _policies.Length; i++)
        {
            if (!policiesByNamespace.TryGetValue(_policies[i].Namespace, out var list))
            {
                list = [];
                policiesByNamespace[_policies[i].Namespace] = list;
            }

            list.Add(i);
        }

        var policyNameLists = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        var builder = ImmutableSortedDictionary.CreateBuilder<string, EndpointPolicy>(ObjectKeyComparer.Instance);
        var previousEndpoints = _previous?.Endpoints;
        foreach (var info in _allIdentities)
        {
            var ingress = new List<int>();
            var egress = new List<int>();
            if (policiesByNamespace.TryGetValue(info.Key.Namespace, out var candidates))
            {
                foreach (var index in candidates)
                {
                    var policy = _policies[index];
                    if ((policy.AffectsIngress || policy.AffectsEgress) && policy.PodSelector.Matches(info.Key.PodLabels))
                    {
                        if (policy.AffectsIngress)
                        {
                            ingress.Add(index);
                        }

                        if (policy.AffectsEgress)
                        {
                            egress.Add(index);
                        }
                    }
                }
            }

            var ingressKey = ingress.Count == 0 ? null : "I" + string.Join(',', ingress);
            var egressKey = egress.Count == 0 ? null : "E" + string.Join(',', egress);
            var ingressNamed = ingress.Any(i => _ingressFragments[i].HasNamedPorts);
            var ingressNames = ingressKey is null ? [] : PolicyNames(policyNameLists, ingressKey, ingress);
            var egressNames = egressKey is null ? [] : PolicyNames(policyNameLists, egressKey, egress);
            var egressRuleSet = egressKey is null ? null : RuleSetFor(egressKey, PolicyDirection.Egress, egress, null);
            RuleSet? sharedIngress = ingressKey is null || ingressNamed ? null : RuleSetFor(ingressKey, PolicyDirection.Ingress, ingress, null);
            foreach (var pod in info.Pods)
            {
                var ingressRuleSet = ingressKey is null ? null : sharedIngress ?? RuleSetFor(ingressKey + "|" + NamedPortKey(pod), PolicyDirection.Ingress, ingress, pod);
                var endpoint = new EndpointPolicy
                {
                    Pod = pod.Key,
                    Identity = info.Id,
                    Addresses = pod.Addresses,
                    IngressRuleSet = ingressRuleSet?.Id,
                    EgressRuleSet = egressRuleSet?.Id,
                    IngressPolicies = ingressNames,
                    EgressPolicies = egressNames,
                };

                // Keep the previous instance when nothing changed, so diffs and caches can compare references.
                if (previousEndpoints is not null && previousEndpoints.TryGetValue(pod.Key, out var old) && old.Equals(endpoint))
                {
                    endpoint = old;
                }

                builder.Add(pod.Key, endpoint);
            }
        }

        return builder.ToImmutable();
    }

    private ImmutableArray<string> PolicyNames(Dictionary<string, ImmutableArray<string>> cache, string key, List<int> indices)
    {
        var k = key[1..];
        if (!cache.TryGetValue(k, out var names))
        {
            names = [.. indices.Select(i => _policies[i].Key)];
            cache[k] = names;
        }

        return names;
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

    private RuleSet RuleSetFor(string memoKey, PolicyDirection direction, List<int> policyIndices, PodEndpoint? pod)
    {
        if (_ruleSetsByMemo.TryGetValue(memoKey, out var cached))
        {
            return cached;
        }

        var fragments = direction == PolicyDirection.Ingress ? _ingressFragments : _egressFragments;
        var rules = new List<CompiledRule>();
        foreach (var index in policyIndices)
        {
            foreach (var proto in fragments[index].Rules)
            {
                var peers = ToPeerSet(proto.Peer);
                if (peers.IsEmpty)
                {
                    continue;
                }

                PortMatch? match = proto.Port;
                if (proto.IngressPortName is { } name)
                {
                    if (pod!.ResolveNamedPort(name, proto.Protocol) is not int resolved)
                    {
                        continue;
                    }

                    match = new PortMatch(proto.Protocol, resolved, resolved);
                }

                rules.Add(new CompiledRule(peers, match, PolicyAction.Allow, PolicyTier.NetworkPolicy, 0, proto.Source));
            }
        }

        rules.Sort(static (a, b) => a.CompareTo(b));
        var sb = new StringBuilder();
        sb.Append(direction == PolicyDirection.Ingress ? 'I' : 'E');
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            sb.Append('|').Append(rule.Peers.Id).Append(':').Append(rule.Port?.ToString() ?? "*").Append(':').Append(rule.Source);
        }

        var content = sb.ToString();
        if (!_ruleSetsByContent.TryGetValue(content, out var ruleSet))
        {
            var id = _previousRuleSetIds.TryGetValue(content, out var old) ? old : _nextRuleSet++;
            ruleSet = new RuleSet(id, direction, [.. rules], content);
            _ruleSetsByContent[content] = ruleSet;
        }

        _ruleSetsByMemo[memoKey] = ruleSet;
        return ruleSet;
    }

    private PeerSet ToPeerSet(PeerSpec spec)
    {
        if (_peerSetsBySpec.TryGetValue(spec, out var cached))
        {
            return cached;
        }

        var (isAny, identities, classes) = spec switch
        {
            AnyPeer => (true, ImmutableArray<uint>.Empty, ImmutableArray<uint>.Empty),
            IdentityPeer p => (false, ImmutableArray.Create(p.Identities), ImmutableArray<uint>.Empty),
            AddressPeer a => (false, ImmutableArray<uint>.Empty, ClassesFor(a.Groups)),
            _ => throw new InvalidOperationException("Unknown peer specification."),
        };

        var content = PeerSet.BuildKey(isAny, identities, classes);
        if (!_peerSetsByContent.TryGetValue(content, out var peerSet))
        {
            var empty = !isAny && identities.IsEmpty && classes.IsEmpty;
            var id = empty ? 0 : _previousPeerSetIds.TryGetValue(content, out var old) ? old : _nextPeerSet++;
            peerSet = new PeerSet(id, isAny, identities, classes);
            _peerSetsByContent[content] = peerSet;
        }

        _peerSetsBySpec[spec] = peerSet;
        return peerSet;
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

        public string SortKey { get; } = key.Namespace + "\u0001" + key.NamespaceLabels + "\u0001" + key.PodLabels;
    }

    private readonly record struct SelectorKey(string? Namespace, LabelSelector? NamespaceSelector, LabelSelector? PodSelector);

    private sealed class Fragment
    {
        public static Fragment Empty { get; } = new();

        public List<ProtoRule> Rules { get; } = [];

        public bool HasNamedPorts { get; set; }
    }

    private sealed record ProtoRule(PeerSpec Peer, PortMatch? Port, string? IngressPortName, TransportProtocol Protocol, RuleReference Source);

    private abstract class PeerSpec;

    private sealed class AnyPeer : PeerSpec
    {
        public static AnyPeer Instance { get; } = new();
    }

    private sealed class IdentityPeer(uint[] identities) : PeerSpec
    {
        public uint[] Identities { get; } = identities;
    }

    private sealed class AddressPeer(int[] groups) : PeerSpec
    {
        public int[] Groups { get; } = groups;
    }
}
