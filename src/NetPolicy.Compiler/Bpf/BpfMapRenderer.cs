using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

/// <summary>Renders a <see cref="CompiledPolicySet"/> into the contents of the datapath's maps
/// (<c>bpf-templates/policy_tc.bpf.c</c>): ipcache, endpoints, rule sets and policy entries.</summary>
/// <remarks>
/// <para>Pure and deterministic: the same IR and options give byte-identical images.</para>
/// <list type="bullet">
/// <item><description>Every ipcache entry of the IR goes to <c>np_ipcache_host</c> when it is a /32 or /128, otherwise
/// to <c>np_ipcache_lpm</c> (IPv4 as <c>::ffff:a.b.c.d/(96 + n)</c>); <see cref="BpfRenderOptions.HostAddresses"/>
/// add host entries with identity 1.</description></item>
/// <item><description>Every endpoint gets an id (<see cref="BpfMapImages.EndpointIds"/>) and the slot
/// <c>{identity, ingress rule set or 0, egress rule set or 0, PRESENT | isolation flags}</c>.</description></item>
/// <item><description>Every rule set an endpoint uses gets its slot (flags and per-protocol port-prefix-length masks), and every
/// entry of <see cref="CompiledPolicySet.EntriesOf"/> becomes <c>np_policy</c> keys: the remote is 0 for any peer,
/// the identity or the address class; a port range becomes its aligned blocks (<see cref="BpfPortBlock.Decompose"/>);
/// a rule without ports becomes protocol 0, prefix length 0, port 0.</description></item>
/// <item><description>Each distinct attribution (the sorted rule references of a key) gets a rule id: the 31-bit FNV-1a
/// hash of its text (the references' <see cref="RuleReference.ToString"/> joined by line feeds), moved to the next free
/// number on a collision (attributions in hash, then ordinal text order) and never 0 or an <c>NP_RULE_*</c> special. Ids stay the same across renders
/// while the attribution is unchanged.</description></item>
/// </list>
/// <para>When anything does not fit (<see cref="DiagnosticCodes.BpfMapOverflow"/>,
/// <see cref="DiagnosticCodes.BpfRuleSetIdOutOfRange"/>, <see cref="DiagnosticCodes.BpfEndpointIdOutOfRange"/>,
/// <see cref="DiagnosticCodes.BpfUnsupportedRule"/>) the result has every diagnostic and no images, so an agent never
/// programs a datapath half-way.</para>
/// </remarks>
public static partial class BpfMapRenderer
{
    private const uint MaxRuleId = 0x7FFFFFFF;

    private static readonly Comparer<(string, string)> s_ordinalPairs = Comparer<(string, string)>.Create(static (a, b) =>
    {
        var c = string.CompareOrdinal(a.Item1, b.Item1);
        return c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2);
    });

    /// <summary>Renders the map images of a compiled policy set.</summary>
    /// <param name="policySet">The compiled policy set.</param>
    /// <param name="options">Capacities, endpoint ids to keep and node addresses; <see langword="null"/> for the defaults.</param>
    /// <returns>The images, or error diagnostics and no images.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="policySet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid (a capacity below 1, endpoint id 0 or one id given to two pods).</exception>
    /// <example>
    /// <code>
    /// var result = BpfMapRenderer.Render(compilation.PolicySet!, new BpfRenderOptions { EndpointIds = current?.EndpointIds });
    /// if (result.Images is { } images)
    /// {
    ///     var delta = current is null ? null : images.DiffFrom(current);
    /// }
    /// </code>
    /// </example>
    public static BpfRenderResult Render(CompiledPolicySet policySet, BpfRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policySet);
        options ??= new BpfRenderOptions();
        options.Validate();
        var diagnostics = ImmutableArray.CreateBuilder<PolicyDiagnostic>();

        // ipcache
        var host = new Dictionary<BpfAddress, BpfIPCacheValue>();
        var lpm = new List<KeyValuePair<BpfIPCacheLpmKey, BpfIPCacheValue>>();
        foreach (var entry in policySet.IPCache.Values)
        {
            var value = new BpfIPCacheValue(entry.Identity, entry.AddressClass);
            var fullLength = entry.Prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (entry.Prefix.PrefixLength == fullLength)
            {
                host[BpfAddress.FromIPAddress(entry.Prefix.BaseAddress)] = value;
            }
            else
            {
                lpm.Add(KeyValuePair.Create(BpfIPCacheLpmKey.FromNetwork(entry.Prefix), value));
            }
        }

        foreach (var address in HostAddresses(policySet, options, diagnostics))
        {
            host[BpfAddress.FromIPAddress(address)] = new BpfIPCacheValue(BpfConstants.IdentityHost, policySet.Lookup(address).AddressClass);
        }

        CheckCapacity(diagnostics, BpfConstants.IPCacheHostMapName, host.Count, options.MaxIPCacheHostEntries, nameof(BpfRenderOptions.MaxIPCacheHostEntries));
        CheckCapacity(diagnostics, BpfConstants.IPCacheLpmMapName, lpm.Count, options.MaxIPCacheLpmEntries, nameof(BpfRenderOptions.MaxIPCacheLpmEntries));

        // endpoints
        var (programmed, programmedCount) = ProgrammedEndpoints(policySet, options);
        var endpointIds = AssignEndpointIds(programmed.Select(e => e.Pod), options.EndpointIds);
        if (programmedCount >= options.MaxEndpoints)
        {
            var hint = options.LocalEndpoints is null ? ", or render only the node's own pods (BpfRenderOptions.LocalEndpoints)." : ".";
            diagnostics.Add(Error(
                DiagnosticCodes.BpfMapOverflow,
                $"{BpfConstants.EndpointsMapName} needs {programmedCount} endpoint slots but holds {options.MaxEndpoints - 1} " +
                $"(slot 0 is never used); raise BpfRenderOptions.MaxEndpoints to at least {programmedCount + 1}{hint}"));
        }
        else
        {
            var outOfRange = endpointIds.Where(p => p.Value >= (uint)options.MaxEndpoints).OrderBy(p => p.Value).ToList();
            if (outOfRange.Count == 1)
            {
                var (pod, id) = outOfRange[0];
                diagnostics.Add(Error(
                    DiagnosticCodes.BpfEndpointIdOutOfRange,
                    $"endpoint id {id} has no {BpfConstants.EndpointsMapName} slot: ids must be below BpfRenderOptions.MaxEndpoints ({options.MaxEndpoints}); " +
                    $"raise MaxEndpoints to at least {(ulong)id + 1}, or leave the pod out of BpfRenderOptions.EndpointIds so it gets a lower id.",
                    "Pod",
                    pod));
            }
            else if (outOfRange.Count > 1)
            {
                // One diagnostic for all of them: a table grown past the map would otherwise give one line per pod.
                var last = outOfRange[^1].Value;
                diagnostics.Add(Error(
                    DiagnosticCodes.BpfEndpointIdOutOfRange,
                    $"{outOfRange.Count} endpoint ids ({outOfRange[0].Value}-{last}, of {Sample(outOfRange.Select(p => p.Key))}) have no {BpfConstants.EndpointsMapName} slot: " +
                    $"ids must be below BpfRenderOptions.MaxEndpoints ({options.MaxEndpoints}); raise MaxEndpoints to at least {(ulong)last + 1}, " +
                    "or leave those pods out of BpfRenderOptions.EndpointIds so they get lower ids."));
            }
        }

        // rule sets and policy entries
        var usedRuleSets = new SortedDictionary<int, int>();
        foreach (var endpoint in programmed)
        {
            foreach (var id in new[] { endpoint.IngressRuleSet, endpoint.EgressRuleSet })
            {
                if (id is int ruleSet)
                {
                    usedRuleSets[ruleSet] = usedRuleSets.GetValueOrDefault(ruleSet) + 1;
                }
            }
        }

        var ruleSets = new List<KeyValuePair<uint, BpfRuleSetValue>>(usedRuleSets.Count);
        var policy = new List<KeyValuePair<BpfPolicyKey, PolicyKeyState>>();
        var policyCount = 0L;
        var unsupported = new SortedDictionary<(string Reason, string Reference), RuleReference>(s_ordinalPairs);
        var flattener = new Flattener(policySet, unsupported);
        var ruleSetsOutOfRange = new List<(RuleSet RuleSet, int Users)>();
        foreach (var (id, users) in usedRuleSets)
        {
            var ruleSet = policySet.RuleSets[id];
            if (id < 0 || id >= options.MaxRuleSets)
            {
                ruleSetsOutOfRange.Add((ruleSet, users));
            }

            // Once np_policy overflows, only count: the diagnostic says how many entries are needed, and nothing is kept.
            var (value, keys, count) = flattener.Flatten(ruleSet, countOnly: policyCount > options.MaxPolicyEntries);
            ruleSets.Add(KeyValuePair.Create((uint)id, value));
            policyCount += count;
            if (keys is not null && policyCount <= options.MaxPolicyEntries)
            {
                policy.AddRange(keys);
            }
            else
            {
                policy.Clear();
            }
        }

        if (ruleSetsOutOfRange.Count == 1)
        {
            var (ruleSet, users) = ruleSetsOutOfRange[0];
            diagnostics.Add(Error(
                DiagnosticCodes.BpfRuleSetIdOutOfRange,
                $"rule set {ruleSet.Id} ({(ruleSet.Direction == PolicyDirection.Ingress ? "ingress" : "egress")}, used by {users} endpoint(s)) has no {BpfConstants.RuleSetsMapName} slot: " +
                $"ids must be below BpfRenderOptions.MaxRuleSets ({options.MaxRuleSets}); raise MaxRuleSets to at least {(long)ruleSet.Id + 1}, " +
                "or compile without a previous result so rule sets are numbered from 1 again."));
        }
        else if (ruleSetsOutOfRange.Count > 1)
        {
            var (first, last) = (ruleSetsOutOfRange[0].RuleSet.Id, ruleSetsOutOfRange[^1].RuleSet.Id);
            diagnostics.Add(Error(
                DiagnosticCodes.BpfRuleSetIdOutOfRange,
                $"{ruleSetsOutOfRange.Count} rule sets ({first}-{last}, used by {ruleSetsOutOfRange.Sum(r => r.Users)} endpoint(s)) have no {BpfConstants.RuleSetsMapName} slot: " +
                $"ids must be below BpfRenderOptions.MaxRuleSets ({options.MaxRuleSets}); raise MaxRuleSets to at least {(long)last + 1}, " +
                "or compile without a previous result so rule sets are numbered from 1 again."));
        }

        foreach (var ((reason, _), reference) in unsupported)
        {
            diagnostics.Add(Error(DiagnosticCodes.BpfUnsupportedRule, $"{reference} cannot be rendered into BPF maps: {reason}.", "NetworkPolicy", reference.Policy, reference.RulePath));
        }

        CheckCapacity(diagnostics, BpfConstants.PolicyMapName, policyCount, options.MaxPolicyEntries, nameof(BpfRenderOptions.MaxPolicyEntries));
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            return new BpfRenderResult(null, diagnostics.ToImmutable());
        }

        var ruleIds = AssignRuleIds(flattener.Attributions, policy.Select(p => p.Value.Attribution));
        var images = new BpfMapImages(
            [
                Build(BpfMapDefinition.IPCacheHost, options.MaxIPCacheHostEntries, host, static (k, s) => k.CopyTo(s), static (v, s) => v.WriteTo(s)),
                Build(BpfMapDefinition.IPCacheLpm, options.MaxIPCacheLpmEntries, lpm, static (k, s) => k.WriteTo(s), static (v, s) => v.WriteTo(s)),
                Build(
                    BpfMapDefinition.Endpoints,
                    options.MaxEndpoints,
                    programmed.Select(e => KeyValuePair.Create(endpointIds[e.Pod], EndpointValue(e))),
                    static (k, s) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(s, k),
                    static (v, s) => v.WriteTo(s)),
                Build(BpfMapDefinition.RuleSets, options.MaxRuleSets, ruleSets, static (k, s) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(s, k), static (v, s) => v.WriteTo(s)),
                Build(
                    BpfMapDefinition.Policy,
                    options.MaxPolicyEntries,
                    policy.Select(p => KeyValuePair.Create(p.Key, new BpfPolicyValue(ruleIds[p.Value.Attribution], BpfConstants.ActionAllow, (byte)PolicyTier.NetworkPolicy, p.Value.Priority))),
                    static (k, s) => k.WriteTo(s),
                    static (v, s) => v.WriteTo(s)),
            ],
            endpointIds,
            ruleIds.Select((ruleId, index) => (RuleId: ruleId, Index: index)).Where(x => x.RuleId != 0)
                .ToImmutableSortedDictionary(x => x.RuleId, x => flattener.Attributions[x.Index]));
        return new BpfRenderResult(images, diagnostics.ToImmutable());
    }

    /// <summary>The node's addresses, normalised and in order, with a warning for each that is also a pod's IP.</summary>
    private static List<IPAddress> HostAddresses(CompiledPolicySet policySet, BpfRenderOptions options, ImmutableArray<PolicyDiagnostic>.Builder diagnostics)
    {
        var hostAddresses = options.HostAddresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Distinct().Order(IPAddressComparer.Instance).ToList();
        foreach (var address in hostAddresses)
        {
            if (policySet.FindEndpoint(address) is { } pod)
            {
                diagnostics.Add(new PolicyDiagnostic
                {
                    Code = DiagnosticCodes.BpfHostAddressIsPodAddress,
                    Severity = DiagnosticSeverity.Warning,
                    ObjectKind = "Pod",
                    ObjectName = pod.Pod,
                    Message = $"node address {address} is also this pod's IP; np_ipcache_host maps it to the host identity ({BpfConstants.IdentityHost}), " +
                        $"so policies see that address as the node, not as the pod's identity {pod.Identity}.",
                });
            }
        }

        return hostAddresses;
    }

    /// <summary>Computes the rule id of an attribution text as the renderer does before collisions are resolved: the
    /// 32-bit FNV-1a hash of its UTF-8 bytes, masked to 31 bits, with 0 taken as 1.</summary>
    internal static uint HashAttribution(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        hash &= MaxRuleId;
        return hash == 0 ? 1 : hash;
    }

    /// <summary>Formats an attribution canonically: each reference's text, joined by line feeds.</summary>
    internal static string AttributionText(ImmutableArray<RuleReference> attribution) => string.Join('\n', attribution.Select(r => r.ToString()));

    private static string? UnsupportedReason(PolicyAction action, PolicyTier tier, int priority)
    {
        if (action != PolicyAction.Allow)
        {
            return $"its action is {action}, and the BPF datapath can only allow (np_policy_value.action is NP_ACTION_ALLOW)";
        }

        if (tier != PolicyTier.NetworkPolicy)
        {
            return $"it is in the {tier} tier, and the BPF datapath evaluates only the NetworkPolicy tier";
        }

        return priority is < 0 or > ushort.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"its priority {priority} does not fit np_policy_value.priority (0-65535)")
            : null;
    }

    /// <summary>The endpoints the images program, in pod-key order: every endpoint of the policy set, or those
    /// <see cref="BpfRenderOptions.LocalEndpoints"/> names.</summary>
    private static (IEnumerable<EndpointPolicy> Endpoints, int Count) ProgrammedEndpoints(CompiledPolicySet policySet, BpfRenderOptions options)
    {
        if (options.LocalEndpoints is not { } local)
        {
            return (policySet.Endpoints.Values, policySet.Endpoints.Count);
        }

        var endpoints = new List<EndpointPolicy>();
        if (local.Count < policySet.Endpoints.Count)
        {
            foreach (var pod in local)
            {
                if (policySet.Endpoints.TryGetValue(pod, out var endpoint))
                {
                    endpoints.Add(endpoint);
                }
            }

            endpoints.Sort(static (a, b) => ObjectKeyComparer.Instance.Compare(a.Pod, b.Pod));
        }
        else
        {
            endpoints.AddRange(policySet.Endpoints.Values.Where(e => local.Contains(e.Pod)));
        }

        return (endpoints, endpoints.Count);
    }

    private static ImmutableSortedDictionary<string, uint> AssignEndpointIds(IEnumerable<string> pods, IReadOnlyDictionary<string, uint>? kept)
    {
        var ids = ImmutableSortedDictionary.CreateBuilder<string, uint>(ObjectKeyComparer.Instance);
        var taken = new HashSet<uint>();
        if (kept is not null)
        {
            // Ids of pods that are gone stay taken for this render: a delta never frees and reprograms one slot at once.
            taken.UnionWith(kept.Values);
            foreach (var pod in pods)
            {
                if (kept.TryGetValue(pod, out var id))
                {
                    ids.Add(pod, id);
                }
            }
        }

        var next = 1u;
        foreach (var pod in pods)
        {
            if (ids.ContainsKey(pod))
            {
                continue;
            }

            while (taken.Contains(next))
            {
                next++;
            }

            ids.Add(pod, next);
            taken.Add(next);
            next++;
        }

        return ids.ToImmutable();
    }

    /// <summary>Gives every attribution the keys use a rule id; returns rule id by attribution index (0 for unused ones).</summary>
    private static uint[] AssignRuleIds(List<ImmutableArray<RuleReference>> attributions, IEnumerable<int> used)
    {
        var ids = new uint[attributions.Count];
        var ordered = used.Distinct()
            .Select(i => (Index: i, Text: AttributionText(attributions[i])))
            .Select(x => (x.Index, x.Text, Hash: HashAttribution(x.Text)))
            .OrderBy(x => x.Hash).ThenBy(x => x.Text, StringComparer.Ordinal);
        var taken = new HashSet<uint>();
        foreach (var (index, _, hash) in ordered)
        {
            var id = hash;
            while (!taken.Add(id))
            {
                id = id == MaxRuleId ? 1 : id + 1;
            }

            ids[index] = id;
        }

        return ids;
    }

    private static BpfEndpointValue EndpointValue(EndpointPolicy endpoint)
    {
        var flags = BpfConstants.EndpointPresent;
        if (endpoint.IngressRuleSet is not null)
        {
            flags |= BpfConstants.EndpointIngressIsolated;
        }

        if (endpoint.EgressRuleSet is not null)
        {
            flags |= BpfConstants.EndpointEgressIsolated;
        }

        return new BpfEndpointValue(endpoint.Identity, (uint)(endpoint.IngressRuleSet ?? 0), (uint)(endpoint.EgressRuleSet ?? 0), flags);
    }

    private static BpfMapImage Build<TKey, TValue>(
        BpfMapDefinition definition, int maxEntries, IEnumerable<KeyValuePair<TKey, TValue>> entries, SpanWriter<TKey> writeKey, SpanWriter<TValue> writeValue)
    {
        var list = entries as ICollection<KeyValuePair<TKey, TValue>> ?? [.. entries];
        var size = definition.RecordSize;
        var records = new byte[list.Count * size];
        var offset = 0;
        foreach (var (key, value) in list)
        {
            writeKey(key, records.AsSpan(offset, definition.KeySize));
            writeValue(value, records.AsSpan(offset + definition.KeySize, definition.ValueSize));
            offset += size;
        }

        return BpfMapImage.FromUnsorted(definition, maxEntries, records);
    }

    private static void CheckCapacity(ImmutableArray<PolicyDiagnostic>.Builder diagnostics, string map, long count, int capacity, string option)
    {
        if (count > capacity)
        {
            diagnostics.Add(Error(
                DiagnosticCodes.BpfMapOverflow,
                $"{map} needs {count} entries but holds {capacity}; raise BpfRenderOptions.{option} to at least {count} (the loader creates the map with that max_entries)."));
        }
    }

    /// <summary>Names the first three items and how many more there are.</summary>
    private static string Sample(IEnumerable<string> items)
    {
        var list = items.ToList();
        return string.Join(", ", list.Take(3)) + (list.Count > 3 ? $" and {list.Count - 3} more" : string.Empty);
    }

    private static PolicyDiagnostic Error(string code, string message, string? kind = null, string? name = null, string? field = null) => new()
    {
        Code = code,
        Severity = DiagnosticSeverity.Error,
        Message = message,
        ObjectKind = kind,
        ObjectName = name,
        FieldPath = field,
    };

    private delegate void SpanWriter<in T>(T item, Span<byte> destination);

    private readonly record struct PolicyKeyState(int Attribution, ushort Priority);

    /// <summary>Flattens rule sets into policy keys, as <see cref="CompiledPolicySet.EntriesOf"/> flattens them into
    /// entries, with attributions interned: keys share one list per distinct attribution.</summary>
    private sealed class Flattener(CompiledPolicySet policySet, SortedDictionary<(string, string), RuleReference> unsupported)
    {
        private static readonly Comparer<RuleReference> s_referenceOrder = Comparer<RuleReference>.Create(static (a, b) => a.CompareTo(b));

        private readonly Dictionary<ImmutableArray<RuleReference>, int> _interned = new(AttributionComparer.Instance);
        private readonly Dictionary<RuleReference, int> _singles = [];
        private readonly Dictionary<(int, int), int> _merges = [];
        private readonly Dictionary<PortMatch, ImmutableArray<BpfPortBlock>> _blocks = [];
        private readonly HashSet<BpfPolicyKey> _counted = [];

        /// <summary>Gets the distinct attributions, by index.</summary>
        public List<ImmutableArray<RuleReference>> Attributions { get; } = [];

        /// <summary>Flattens a rule set; with <paramref name="countOnly"/>, only counts its distinct keys (and still reports unsupported rules).</summary>
        public (BpfRuleSetValue Value, Dictionary<BpfPolicyKey, PolicyKeyState>? Keys, int Count) Flatten(RuleSet ruleSet, bool countOnly)
        {
            _counted.Clear();
            var flags = BpfConstants.RuleSetPresent;
            uint tcp = 0, udp = 0, sctp = 0;
            var id = (uint)ruleSet.Id;
            var direction = ruleSet.Direction == PolicyDirection.Ingress ? BpfConstants.DirectionIngress : BpfConstants.DirectionEgress;
            var keys = new Dictionary<BpfPolicyKey, PolicyKeyState>();
            foreach (var rule in ruleSet.Rules)
            {
                if (UnsupportedReason(rule.Action, rule.Tier, rule.Priority) is { } reason)
                {
                    unsupported.TryAdd((reason, rule.Source.ToString()), rule.Source);
                    continue;
                }

                var peers = policySet.PeerSets[rule.PeerSet];
                if (peers.IsEmpty)
                {
                    continue;
                }

                var attribution = countOnly ? -1 : Single(rule.Source);
                var priority = (ushort)rule.Priority;
                if (peers.IsAny)
                {
                    flags |= BpfConstants.RuleSetRemoteAny;
                    AddRemote(BpfConstants.RemoteAny);
                    continue;
                }

                if (!peers.Identities.IsEmpty)
                {
                    flags |= BpfConstants.RuleSetRemoteIdentity;
                }

                if (!peers.AddressClasses.IsEmpty)
                {
                    flags |= BpfConstants.RuleSetRemoteClass;
                }

                foreach (var remote in peers.Identities)
                {
                    AddRemote(remote);
                }

                foreach (var remote in peers.AddressClasses)
                {
                    AddRemote(remote);
                }

                void AddRemote(uint remote)
                {
                    if (rule.Port is not PortMatch port)
                    {
                        flags |= BpfConstants.RuleSetAnyProtocol;
                        Add(new BpfPolicyKey(id, remote, 0, BpfConstants.ProtocolAny, 0, direction), attribution, priority);
                        return;
                    }

                    var protocol = (byte)port.Protocol;
                    foreach (var block in Blocks(port))
                    {
                        var bit = 1u << block.PrefixLength;
                        switch (port.Protocol)
                        {
                            case TransportProtocol.Tcp: tcp |= bit; break;
                            case TransportProtocol.Udp: udp |= bit; break;
                            default: sctp |= bit; break;
                        }

                        Add(new BpfPolicyKey(id, remote, block.Port, protocol, block.PrefixLength, direction), attribution, priority);
                    }
                }
            }

            return countOnly ? (new BpfRuleSetValue(flags, tcp, udp, sctp), null, _counted.Count) : (new BpfRuleSetValue(flags, tcp, udp, sctp), keys, keys.Count);

            void Add(BpfPolicyKey key, int attribution, ushort priority)
            {
                if (countOnly)
                {
                    _counted.Add(key);
                    return;
                }

                ref var state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(keys, key, out var exists);
                state = exists
                    ? new PolicyKeyState(Merge(state.Attribution, attribution), Math.Min(state.Priority, priority)) // one port block of two ranges
                    : new PolicyKeyState(attribution, priority);
            }
        }

        private ImmutableArray<BpfPortBlock> Blocks(PortMatch port)
        {
            if (!_blocks.TryGetValue(port, out var blocks))
            {
                blocks = BpfPortBlock.Decompose(port.First, port.Last);
                _blocks.Add(port, blocks);
            }

            return blocks;
        }

        private int Single(RuleReference reference)
        {
            if (!_singles.TryGetValue(reference, out var index))
            {
                index = Intern([reference]);
                _singles.Add(reference, index);
            }

            return index;
        }

        private int Merge(int a, int b)
        {
            if (a == b)
            {
                return a;
            }

            var pair = a < b ? (a, b) : (b, a);
            if (!_merges.TryGetValue(pair, out var index))
            {
                index = Intern([.. Attributions[a].Concat(Attributions[b]).Distinct().Order(s_referenceOrder)]);
                _merges.Add(pair, index);
            }

            return index;
        }

        private int Intern(ImmutableArray<RuleReference> attribution)
        {
            if (!_interned.TryGetValue(attribution, out var index))
            {
                index = Attributions.Count;
                Attributions.Add(attribution);
                _interned.Add(attribution, index);
            }

            return index;
        }
    }

    /// <summary>Compares attributions by content.</summary>
    internal sealed class AttributionComparer : IEqualityComparer<ImmutableArray<RuleReference>>
    {
        public static AttributionComparer Instance { get; } = new();

        public bool Equals(ImmutableArray<RuleReference> x, ImmutableArray<RuleReference> y) => x.SequenceEqual(y);

        public int GetHashCode(ImmutableArray<RuleReference> obj)
        {
            var hash = new HashCode();
            foreach (var reference in obj)
            {
                hash.Add(reference);
            }

            return hash.ToHashCode();
        }
    }
}
