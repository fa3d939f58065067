using System.Buffers.Binary;
using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The complete contents of the datapath's policy maps for one compile, ready to load, diff, serialize and inspect.</summary>
/// <remarks>
/// <para><see cref="Maps"/> holds <c>np_ipcache_host</c>, <c>np_ipcache_lpm</c>, <c>np_endpoints</c>,
/// <c>np_rulesets</c> and <c>np_policy</c>, in that order, each sorted by key bytes. The typed views
/// (<see cref="IPCacheHost"/>, ...) decode the same entries in the same order. Integers are little-endian (x86-64,
/// arm64); a big-endian node cannot load these images.</para>
/// <para>Immutable, with value equality: two renders of the same IR with the same options compare equal and
/// serialize to the same bytes (<see cref="WriteJson"/>, <see cref="WriteBinary"/>).</para>
/// </remarks>
public sealed partial class BpfMapImages : IEquatable<BpfMapImages>
{
    private ImmutableArray<KeyValuePair<BpfIPCacheHostKey, BpfIPCacheValue>> _ipCacheHost;
    private ImmutableArray<KeyValuePair<BpfIPCacheLpmKey, BpfIPCacheValue>> _ipCacheLpm;
    private ImmutableArray<KeyValuePair<uint, BpfEndpointValue>> _endpoints;
    private ImmutableArray<KeyValuePair<uint, BpfRuleSetValue>> _ruleSets;
    private ImmutableArray<KeyValuePair<BpfPolicyKey, BpfPolicyValue>> _policy;

    internal BpfMapImages(
        ImmutableArray<BpfMapImage> maps,
        ImmutableSortedDictionary<string, uint> endpointIds,
        ImmutableSortedDictionary<uint, ImmutableArray<RuleReference>> ruleAttribution)
    {
        if (maps.Length != BpfMapDefinition.All.Length || maps.Select(m => m.Definition).Zip(BpfMapDefinition.All).Any(p => p.First != p.Second))
        {
            throw new InvalidOperationException($"BPF map images must hold exactly {string.Join(", ", BpfMapDefinition.All.Select(d => d.Name))} in this order.");
        }

        Maps = maps;
        EndpointIds = endpointIds;
        RuleAttribution = ruleAttribution;
    }

    private delegate T SpanReader<out T>(ReadOnlySpan<byte> source);

    private ImmutableDictionary<uint, int>? _ruleIdUses;

    /// <summary>Counts the policy entries of each rule id (once per image; an incremental render carries the count on).</summary>
    internal ImmutableDictionary<uint, int> RuleIdUses()
    {
        if (_ruleIdUses is null)
        {
            var counts = new Dictionary<uint, int>();
            var policy = Maps[4];
            for (var i = 0; i < policy.Count; i++)
            {
                var ruleId = BpfPolicyValue.ReadFrom(policy.ValueAt(i)).RuleId;
                counts[ruleId] = counts.GetValueOrDefault(ruleId) + 1;
            }

            _ruleIdUses = counts.ToImmutableDictionary();
        }

        return _ruleIdUses;
    }

    internal void SetRuleIdUses(ImmutableDictionary<uint, int> uses) => _ruleIdUses = uses;

    /// <summary>Gets the map images in the order <c>np_ipcache_host</c>, <c>np_ipcache_lpm</c>, <c>np_endpoints</c>,
    /// <c>np_rulesets</c>, <c>np_policy</c>.</summary>
    public ImmutableArray<BpfMapImage> Maps { get; }

    /// <summary>Gets the <c>np_ipcache_host</c> entries, decoded, in key-byte order.</summary>
    public ImmutableArray<KeyValuePair<BpfIPCacheHostKey, BpfIPCacheValue>> IPCacheHost =>
        Decode(ref _ipCacheHost, Maps[0], BpfIPCacheHostKey.ReadFrom, BpfIPCacheValue.ReadFrom);

    /// <summary>Gets the <c>np_ipcache_lpm</c> entries, decoded, in key-byte order.</summary>
    public ImmutableArray<KeyValuePair<BpfIPCacheLpmKey, BpfIPCacheValue>> IPCacheLpm =>
        Decode(ref _ipCacheLpm, Maps[1], BpfIPCacheLpmKey.ReadFrom, BpfIPCacheValue.ReadFrom);

    /// <summary>Gets the programmed <c>np_endpoints</c> slots (endpoint id → value), decoded, in key-byte order; every other slot is zero.</summary>
    public ImmutableArray<KeyValuePair<uint, BpfEndpointValue>> Endpoints =>
        Decode(ref _endpoints, Maps[2], BinaryPrimitives.ReadUInt32LittleEndian, BpfEndpointValue.ReadFrom);

    /// <summary>Gets the programmed <c>np_rulesets</c> slots (rule-set id → value), decoded, in key-byte order; every other slot is zero.</summary>
    public ImmutableArray<KeyValuePair<uint, BpfRuleSetValue>> RuleSets =>
        Decode(ref _ruleSets, Maps[3], BinaryPrimitives.ReadUInt32LittleEndian, BpfRuleSetValue.ReadFrom);

    /// <summary>Gets the <c>np_policy</c> entries, decoded, in key-byte order.</summary>
    public ImmutableArray<KeyValuePair<BpfPolicyKey, BpfPolicyValue>> Policy =>
        Decode(ref _policy, Maps[4], BpfPolicyKey.ReadFrom, BpfPolicyValue.ReadFrom);

    /// <summary>Gets the endpoint id of every pod (<c>namespace/name</c>): its <c>np_endpoints</c> slot and the
    /// <see cref="BpfConfig.Endpoint"/> its programs are loaded with.</summary>
    /// <remarks>Pass it as <see cref="BpfRenderOptions.EndpointIds"/> to the next render so pods keep their slots.</remarks>
    public ImmutableSortedDictionary<string, uint> EndpointIds { get; }

    /// <summary>Gets the policy parts behind every rule id of <c>np_policy</c> (and so of events and conntrack entries).</summary>
    public ImmutableSortedDictionary<uint, ImmutableArray<RuleReference>> RuleAttribution { get; }

    /// <summary>Gets the image of a map by name.</summary>
    /// <param name="name">A map name, for example <see cref="BpfConstants.PolicyMapName"/>.</param>
    /// <returns>The image.</returns>
    /// <exception cref="ArgumentException">The images hold no map of that name.</exception>
    public BpfMapImage GetMap(string name)
    {
        foreach (var map in Maps)
        {
            if (string.Equals(map.Name, name, StringComparison.Ordinal))
            {
                return map;
            }
        }

        throw new ArgumentException($"The BPF map images hold no map '{name}'; they hold {string.Join(", ", Maps.Select(m => m.Name))}.", nameof(name));
    }

    /// <summary>Computes the changes that turn <paramref name="previous"/> (the maps as loaded) into these images.</summary>
    /// <param name="previous">The images the maps hold now.</param>
    /// <returns>The delta; empty when nothing changed.</returns>
    /// <remarks>See <see cref="BpfMapDelta"/> for the order in which to apply the changes.</remarks>
    /// <exception cref="ArgumentException">A map's definition or capacity differs: such maps must be created anew
    /// and filled from these images; a delta cannot resize them.</exception>
    public BpfMapDelta DiffFrom(BpfMapImages previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return BpfMapDelta.Compute(previous, this);
    }

    /// <inheritdoc/>
    public bool Equals(BpfMapImages? other) =>
        other is not null && (ReferenceEquals(this, other) ||
        (Maps.SequenceEqual(other.Maps) &&
         EndpointIds.Count == other.EndpointIds.Count && EndpointIds.Zip(other.EndpointIds).All(p => p.First.Key == p.Second.Key && p.First.Value == p.Second.Value) &&
         RuleAttribution.Count == other.RuleAttribution.Count &&
         RuleAttribution.Zip(other.RuleAttribution).All(p => p.First.Key == p.Second.Key && p.First.Value.SequenceEqual(p.Second.Value))));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BpfMapImages);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Maps[0].Count, Maps[2].Count, Maps[4].Count, EndpointIds.Count);

    /// <summary>Formats the entry counts, for example <c>ipcache 7 host + 2 lpm, 5 endpoints, 3 rule sets, 12 policy entries, 4 rule ids</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"ipcache {Maps[0].Count} host + {Maps[1].Count} lpm, {Maps[2].Count} endpoints, {Maps[3].Count} rule sets, {Maps[4].Count} policy entries, {RuleAttribution.Count} rule ids";

    private static ImmutableArray<KeyValuePair<TKey, TValue>> Decode<TKey, TValue>(
        ref ImmutableArray<KeyValuePair<TKey, TValue>> cache, BpfMapImage map, SpanReader<TKey> readKey, SpanReader<TValue> readValue)
    {
        if (cache.IsDefault)
        {
            var builder = ImmutableArray.CreateBuilder<KeyValuePair<TKey, TValue>>(map.Count);
            for (var i = 0; i < map.Count; i++)
            {
                builder.Add(KeyValuePair.Create(readKey(map.KeyAt(i)), readValue(map.ValueAt(i))));
            }

            cache = builder.MoveToImmutable();
        }

        return cache;
    }
}
