using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>The policy IR of a compile: identities, address classes, the ipcache, peer sets, shared rule sets and every endpoint's policy.</summary>
/// <remarks>Immutable, with value equality: two compiles of the same input compare equal. Renderers (BPF map images,
/// nftables, iptables) need nothing else. <see cref="Decide"/> evaluates a flow the way a datapath does — one ipcache
/// lookup per side and a rule-set match — and is checked against the reference evaluator.</remarks>
public sealed class CompiledPolicySet : IEquatable<CompiledPolicySet>
{
    private FrozenDictionary<IPAddress, EndpointPolicy>? _endpointsByAddress;
    private LpmTable? _lpm;

    internal CompiledPolicySet(
        IdentityTable identities,
        ImmutableArray<AddressClass> addressClasses,
        uint nextAddressClass,
        ImmutableSortedDictionary<IPNetwork, IPCacheEntry> ipCache,
        ImmutableSortedDictionary<int, PeerSet> peerSets,
        int nextPeerSet,
        ImmutableSortedDictionary<int, RuleSet> ruleSets,
        int nextRuleSet,
        ImmutableSortedDictionary<string, EndpointPolicy> endpoints)
    {
        Identities = identities;
        AddressClasses = addressClasses;
        NextAddressClass = nextAddressClass;
        IPCache = ipCache;
        PeerSets = peerSets;
        NextPeerSet = nextPeerSet;
        RuleSets = ruleSets;
        NextRuleSet = nextRuleSet;
        Endpoints = endpoints;
    }

    /// <summary>Gets the identity table.</summary>
    public IdentityTable Identities { get; }

    /// <summary>Gets the address classes, sorted by identifier.</summary>
    public ImmutableArray<AddressClass> AddressClasses { get; }

    /// <summary>Gets the next address-class identifier to allocate.</summary>
    public uint NextAddressClass { get; }

    /// <summary>Gets the ipcache: longest-prefix-match entries for every pod IP and every ipBlock boundary, sorted by prefix.</summary>
    public ImmutableSortedDictionary<IPNetwork, IPCacheEntry> IPCache { get; }

    /// <summary>Gets the peer sets by identifier (empty ones included: a selector may select nothing today).</summary>
    public ImmutableSortedDictionary<int, PeerSet> PeerSets { get; }

    /// <summary>Gets the next peer-set identifier to allocate.</summary>
    public int NextPeerSet { get; }

    /// <summary>Gets the rule sets by identifier.</summary>
    public ImmutableSortedDictionary<int, RuleSet> RuleSets { get; }

    /// <summary>Gets the next rule-set identifier to allocate.</summary>
    public int NextRuleSet { get; }

    /// <summary>Gets every endpoint's policy by pod key, sorted.</summary>
    public ImmutableSortedDictionary<string, EndpointPolicy> Endpoints { get; }

    /// <summary>Looks an address up in the ipcache (longest prefix match).</summary>
    /// <param name="address">The address.</param>
    /// <returns>The entry; every address matches at least the family's default route entry.</returns>
    public IPCacheEntry Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _lpm ??= new LpmTable(IPCache.Values);
        return _lpm.Lookup(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>Finds the endpoint owning an address.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The endpoint, or <see langword="null"/>.</returns>
    public EndpointPolicy? FindEndpoint(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _endpointsByAddress ??= Endpoints.Values.SelectMany(e => e.Addresses.Select(a => (a, e))).ToFrozenDictionary(x => x.a, x => x.e);
        return _endpointsByAddress.TryGetValue(address, out var endpoint) ? endpoint : null;
    }

    /// <summary>Decides a flow from the IR alone, as a datapath would: allowed when the source endpoint's egress rule set
    /// (if isolated) matches the destination and the destination endpoint's ingress rule set (if isolated) matches the source.</summary>
    /// <param name="source">The source address.</param>
    /// <param name="destination">The destination address.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns><see langword="true"/> when allowed.</returns>
    public bool Decide(IPAddress source, IPAddress destination, TransportProtocol protocol, int port)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily)
        {
            return false;
        }

        var srcEndpoint = FindEndpoint(source);
        var dstEndpoint = FindEndpoint(destination);
        if (srcEndpoint is not null && ReferenceEquals(srcEndpoint, dstEndpoint))
        {
            return true;
        }

        var srcEntry = Lookup(source);
        var dstEntry = Lookup(destination);
        if (srcEndpoint?.EgressRuleSet is int egress && RuleSets[egress].Match(PeerSets, dstEntry.Identity, dstEntry.AddressClass, protocol, port) is null)
        {
            return false;
        }

        return dstEndpoint?.IngressRuleSet is not int ingress || RuleSets[ingress].Match(PeerSets, srcEntry.Identity, srcEntry.AddressClass, protocol, port) is not null;
    }

    /// <summary>Flattens a rule set into entries: one per (peer kind, identity or class, port match, action), with the
    /// attributions of every rule that produced it merged, sorted by tier, priority, peer kind, peer, protocol and port.</summary>
    /// <param name="ruleSet">A rule set of this compile.</param>
    /// <returns>The entries; this is the shape of a policy-map key.</returns>
    public ImmutableArray<PolicyEntry> EntriesOf(RuleSet ruleSet)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        var merged = new Dictionary<(PolicyTier, int, PeerKind, uint, PortMatch?, PolicyAction), SortedSet<RuleReference>>();
        void Add(PeerKind kind, uint peer, CompiledRule rule)
        {
            var key = (rule.Tier, rule.Priority, kind, peer, rule.Port, rule.Action);
            if (!merged.TryGetValue(key, out var refs))
            {
                refs = new SortedSet<RuleReference>(Comparer<RuleReference>.Create(static (a, b) => a.CompareTo(b)));
                merged[key] = refs;
            }

            refs.Add(rule.Source);
        }

        foreach (var rule in ruleSet.Rules)
        {
            var peers = PeerSets[rule.PeerSet];
            if (peers.IsAny)
            {
                Add(PeerKind.Any, 0, rule);
                continue;
            }

            foreach (var id in peers.Identities)
            {
                Add(PeerKind.Identity, id, rule);
            }

            foreach (var c in peers.AddressClasses)
            {
                Add(PeerKind.AddressClass, c, rule);
            }
        }

        return [.. merged
            .OrderBy(m => m.Key.Item1).ThenBy(m => m.Key.Item2).ThenBy(m => m.Key.Item3).ThenBy(m => m.Key.Item4)
            .ThenBy(m => m.Key.Item5?.Protocol ?? 0).ThenBy(m => m.Key.Item5?.First ?? -1).ThenBy(m => m.Key.Item5?.Last ?? -1).ThenBy(m => m.Key.Item6)
            .Select(m => new PolicyEntry
            {
                Tier = m.Key.Item1,
                Priority = m.Key.Item2,
                Kind = m.Key.Item3,
                Peer = m.Key.Item4,
                Port = m.Key.Item5,
                Action = m.Key.Item6,
                Attribution = [.. m.Value],
            })];
    }

    /// <summary>Computes what changed from an earlier compile to this one.</summary>
    /// <param name="previous">The earlier compile.</param>
    /// <returns>The delta.</returns>
    public CompilationDelta DiffFrom(CompiledPolicySet previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        var added = new List<string>();
        var changed = new List<string>();
        foreach (var (key, endpoint) in Endpoints)
        {
            if (!previous.Endpoints.TryGetValue(key, out var old))
            {
                added.Add(key);
            }
            else if (!ReferenceEquals(old, endpoint) && !old.Equals(endpoint))
            {
                changed.Add(key);
            }
        }

        var removed = previous.Endpoints.Keys.Where(k => !Endpoints.ContainsKey(k)).ToImmutableArray();
        var oldCache = previous.IPCache;
        var newCache = IPCache;
        var previousPeers = previous.PeerSets;
        var currentPeers = PeerSets;
        return new CompilationDelta
        {
            AddedEndpoints = [.. added],
            RemovedEndpoints = removed,
            ChangedEndpoints = [.. changed],
            AddedIdentities = [.. Identities.ById.Keys.Where(k => !previous.Identities.ById.ContainsKey(k))],
            RemovedIdentities = [.. previous.Identities.ById.Keys.Where(k => !Identities.ById.ContainsKey(k))],
            AddedRuleSets = [.. RuleSets.Keys.Where(k => !previous.RuleSets.ContainsKey(k))],
            ChangedRuleSets = [.. RuleSets.Where(r => previous.RuleSets.TryGetValue(r.Key, out var old) &&
                (!old.Equals(r.Value) || r.Value.Rules.Any(rule => !previous.PeerSets.TryGetValue(rule.PeerSet, out var before) || !before.Equals(PeerSets[rule.PeerSet])))).Select(r => r.Key)],
            RemovedRuleSets = [.. previous.RuleSets.Keys.Where(k => !RuleSets.ContainsKey(k))],
            AddedPeerSets = [.. PeerSets.Keys.Where(k => !previousPeers.ContainsKey(k))],
            ChangedPeerSets = [.. PeerSets.Where(p => previousPeers.TryGetValue(p.Key, out var old) && !old.Equals(p.Value)).Select(p => p.Key)],
            RemovedPeerSets = [.. previous.PeerSets.Keys.Where(k => !currentPeers.ContainsKey(k))],
            UpsertedIPCacheEntries = [.. IPCache.Values.Where(e => !oldCache.TryGetValue(e.Prefix, out var o) || o != e)],
            RemovedIPCachePrefixes = [.. previous.IPCache.Keys.Where(k => !newCache.ContainsKey(k))],
        };
    }

    /// <inheritdoc/>
    public bool Equals(CompiledPolicySet? other) =>
        other is not null &&
        Identities.Equals(other.Identities) &&
        NextAddressClass == other.NextAddressClass && NextPeerSet == other.NextPeerSet && NextRuleSet == other.NextRuleSet &&
        AddressClasses.SequenceEqual(other.AddressClasses) &&
        IPCache.Count == other.IPCache.Count && IPCache.Values.SequenceEqual(other.IPCache.Values) &&
        PeerSets.Count == other.PeerSets.Count && PeerSets.Values.SequenceEqual(other.PeerSets.Values) &&
        RuleSets.Count == other.RuleSets.Count && RuleSets.Values.SequenceEqual(other.RuleSets.Values) &&
        Endpoints.Count == other.Endpoints.Count && Endpoints.Values.SequenceEqual(other.Endpoints.Values);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CompiledPolicySet);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Identities.Count, IPCache.Count, RuleSets.Count, Endpoints.Count);

    private sealed class LpmTable
    {
        private readonly (int Length, Dictionary<UInt128, IPCacheEntry> Entries)[] _v4;
        private readonly (int Length, Dictionary<UInt128, IPCacheEntry> Entries)[] _v6;

        public LpmTable(IEnumerable<IPCacheEntry> entries)
        {
            _v4 = Build(entries.Where(e => e.Prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork));
            _v6 = Build(entries.Where(e => e.Prefix.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6));
        }

        public IPCacheEntry Lookup(IPAddress address)
        {
            var v4 = address.AddressFamily == AddressFamily.InterNetwork;
            var value = IPAddressBits.ToUInt128(address);
            foreach (var (length, entries) in v4 ? _v4 : _v6)
            {
                if (entries.TryGetValue(IPAddressBits.Mask(value, length, v4 ? 32 : 128), out var entry))
                {
                    return entry;
                }
            }

            return new IPCacheEntry(new IPNetwork(v4 ? IPAddress.Any : IPAddress.IPv6Any, 0), ReservedIdentities.World, ReservedIdentities.FirstAddressClass);
        }

        private static (int, Dictionary<UInt128, IPCacheEntry>)[] Build(IEnumerable<IPCacheEntry> entries) =>
            [.. entries.GroupBy(e => e.Prefix.PrefixLength).OrderByDescending(g => g.Key)
                .Select(g => (g.Key, g.ToDictionary(e => IPAddressBits.ToUInt128(e.Prefix.BaseAddress))))];
    }
}
