using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

public static partial class BpfMapRenderer
{
    /// <summary>
    /// Renders the map images of a compiled policy set by patching the images of the policy set a delta is relative to:
    /// only the ipcache entries, endpoints and rule sets the delta names are rendered again. The result is byte for
    /// byte what <see cref="Render(CompiledPolicySet, BpfRenderOptions?)"/> gives with the endpoint ids of
    /// <paramref name="previous"/>; where a patch could not be exact (a rule id hash collision next to a change, an
    /// ipcache prefix that is not a host address, other map sizes, an error to report) the whole set is rendered instead.
    /// </summary>
    /// <param name="policySet">The compiled policy set, as <see cref="PolicyCompilerSession"/> returns it.</param>
    /// <param name="delta">What changed since the policy set <paramref name="previous"/> was rendered from (<see cref="CompilationResult.Delta"/>).</param>
    /// <param name="previous">The images rendered from the previous policy set, with the same options.</param>
    /// <param name="options">The options <paramref name="previous"/> was rendered with; <see cref="BpfRenderOptions.EndpointIds"/>
    /// must be <see langword="null"/> or <paramref name="previous"/>'s, whose ids are kept.</param>
    /// <returns>The images, or error diagnostics and no images.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid or name other endpoint ids.</exception>
    /// <example>
    /// <code>
    /// CompilationResult next = session.SetPolicy(policy);
    /// BpfMapImages images = BpfMapRenderer.RenderChanges(next.PolicySet!, next.Delta!, applied).ThrowIfErrors();
    /// datapath.Apply(images); // writes only the entries that differ
    /// </code>
    /// </example>
    public static BpfRenderResult RenderChanges(CompiledPolicySet policySet, CompilationDelta delta, BpfMapImages previous, BpfRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policySet);
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(previous);
        options ??= new BpfRenderOptions();
        if (options.EndpointIds is not null && !ReferenceEquals(options.EndpointIds, previous.EndpointIds))
        {
            throw new ArgumentException("BpfRenderOptions.EndpointIds must be null (or the previous images' EndpointIds) for an incremental render: the previous images' ids are kept.", nameof(options));
        }

        options.ValidateAllButEndpointIds();
        var full = options.WithEndpointIds(previous.EndpointIds);
        return TryPatch(policySet, delta, previous, full) ?? Render(policySet, full);
    }

    private static BpfRenderResult? TryPatch(CompiledPolicySet policySet, CompilationDelta delta, BpfMapImages previous, BpfRenderOptions options)
    {
        var maps = previous.Maps;
        if (maps[0].MaxEntries != options.MaxIPCacheHostEntries || maps[1].MaxEntries != options.MaxIPCacheLpmEntries ||
            maps[2].MaxEntries != options.MaxEndpoints || maps[3].MaxEntries != options.MaxRuleSets || maps[4].MaxEntries != options.MaxPolicyEntries)
        {
            return null;
        }

        var diagnostics = ImmutableArray.CreateBuilder<PolicyDiagnostic>();
        var hostAddresses = HostAddresses(policySet, options, diagnostics).Select(BpfAddress.FromIPAddress).ToHashSet();

        // ipcache: host entries only (a prefix change can move the address class of the node's addresses).
        var hostRemovals = new List<(int Start, int End)>();
        var hostKey = new byte[BpfIPCacheHostKey.Size];
        var hostUpserts = new List<KeyValuePair<BpfAddress, BpfIPCacheValue>>();
        foreach (var prefix in delta.RemovedIPCachePrefixes)
        {
            if (!IsHostPrefix(prefix) || hostAddresses.Contains(BpfAddress.FromIPAddress(prefix.BaseAddress)))
            {
                return null;
            }

            BpfAddress.FromIPAddress(prefix.BaseAddress).CopyTo(hostKey);
            hostRemovals.Add(maps[0].RangeWithPrefix(hostKey));
        }

        foreach (var entry in delta.UpsertedIPCacheEntries)
        {
            var address = BpfAddress.FromIPAddress(entry.Prefix.BaseAddress);
            if (!IsHostPrefix(entry.Prefix) || hostAddresses.Contains(address))
            {
                return null;
            }

            hostUpserts.Add(KeyValuePair.Create(address, new BpfIPCacheValue(entry.Identity, entry.AddressClass)));
        }

        var host = maps[0].Patch(
            hostRemovals,
            Build(BpfMapDefinition.IPCacheHost, options.MaxIPCacheHostEntries, hostUpserts, static (k, s) => k.CopyTo(s), static (v, s) => v.WriteTo(s)));
        if (host.Count > options.MaxIPCacheHostEntries)
        {
            return null;
        }

        // endpoints: removed pods free nothing in this render (as in a full render with kept ids); new pods get the
        // lowest ids no previous pod had. With LocalEndpoints, only local pods are endpoints.
        var local = options.LocalEndpoints;
        var (programmed, programmedCount) = ProgrammedEndpoints(policySet, options);
        if (programmedCount >= options.MaxEndpoints)
        {
            return null;
        }

        var endpointIds = previous.EndpointIds;
        var endpointRemovals = new List<(int Start, int End)>();
        foreach (var pod in delta.RemovedEndpoints)
        {
            if (endpointIds.TryGetValue(pod, out var id))
            {
                endpointRemovals.Add(maps[2].RangeWithPrefix(EndpointKey(id)));
                endpointIds = endpointIds.Remove(pod);
            }
        }

        if (!delta.AddedEndpoints.IsEmpty)
        {
            var taken = previous.EndpointIds.Values.ToHashSet();
            var next = 1u;
            foreach (var pod in delta.AddedEndpoints.Order(ObjectKeyComparer.Instance))
            {
                if (endpointIds.ContainsKey(pod) || (local is not null && !local.Contains(pod)))
                {
                    continue;
                }

                while (taken.Contains(next))
                {
                    next++;
                }

                if (next >= (uint)options.MaxEndpoints)
                {
                    return null;
                }

                endpointIds = endpointIds.Add(pod, next);
                taken.Add(next);
                next++;
            }
        }

        if (local is not null && (endpointIds.Count != programmedCount || !programmed.All(e => endpointIds.ContainsKey(e.Pod))))
        {
            return null; // the local set changed other than by the pods the delta adds or removes
        }

        var endpointUpserts = new List<KeyValuePair<uint, BpfEndpointValue>>();
        foreach (var pod in delta.AddedEndpoints.Concat(delta.ChangedEndpoints))
        {
            if (endpointIds.TryGetValue(pod, out var id))
            {
                endpointUpserts.Add(KeyValuePair.Create(id, EndpointValue(policySet.Endpoints[pod])));
            }
        }

        var endpoints = maps[2].Patch(
            endpointRemovals,
            Build(BpfMapDefinition.Endpoints, options.MaxEndpoints, endpointUpserts, static (k, s) => BinaryPrimitives.WriteUInt32LittleEndian(s, k), static (v, s) => v.WriteTo(s)));

        // rule sets: a compiled policy set holds exactly the rule sets its endpoints use, so what the delta names (and the
        // rule sets of the endpoints it names) is all that can start or stop being used. Those used and new or changed
        // are flattened again; the entries of those and of rule sets no longer used are dropped.
        var candidates = new HashSet<int>(delta.AddedRuleSets.Concat(delta.ChangedRuleSets).Concat(delta.RemovedRuleSets));
        foreach (var pod in delta.AddedEndpoints.Concat(delta.ChangedEndpoints))
        {
            if (endpointIds.ContainsKey(pod))
            {
                AddRuleSets(candidates, EndpointValue(policySet.Endpoints[pod]));
            }
        }

        // With LocalEndpoints a rule set is in the images only while a local endpoint uses it.
        HashSet<int>? usedLocally = null;
        if (local is not null)
        {
            usedLocally = [];
            foreach (var endpoint in programmed)
            {
                AddRuleSets(usedLocally, EndpointValue(endpoint));
            }
        }

        foreach (var pod in delta.ChangedEndpoints.Concat(delta.RemovedEndpoints))
        {
            if (previous.EndpointIds.TryGetValue(pod, out var id) && maps[2].TryGetValue(EndpointKey(id), out var value))
            {
                AddRuleSets(candidates, BpfEndpointValue.ReadFrom(value.Span));
            }
        }

        var dirty = new SortedSet<int>();
        var dropped = new HashSet<uint>();
        foreach (var id in candidates)
        {
            var used = usedLocally?.Contains(id) ?? policySet.RuleSets.ContainsKey(id);
            var had = id > 0 && maps[3].IndexOf(EndpointKey((uint)id)) >= 0;
            if (used && (!had || delta.AddedRuleSets.Contains(id) || delta.ChangedRuleSets.Contains(id)))
            {
                dirty.Add(id);
            }

            if (had && (!used || dirty.Contains(id)))
            {
                dropped.Add((uint)id);
            }
        }

        var unsupported = new SortedDictionary<(string Reason, string Reference), RuleReference>(s_ordinalPairs);
        var flattener = new Flattener(policySet, unsupported);
        var ruleSetUpserts = new List<KeyValuePair<uint, BpfRuleSetValue>>(dirty.Count);
        var policyUpserts = new List<KeyValuePair<BpfPolicyKey, PolicyKeyState>>();
        foreach (var id in dirty)
        {
            if (id < 0 || id >= options.MaxRuleSets)
            {
                return null;
            }

            var (value, keys, _) = flattener.Flatten(policySet.RuleSets[id], countOnly: false);
            ruleSetUpserts.Add(KeyValuePair.Create((uint)id, value));
            policyUpserts.AddRange(keys!);
        }

        if (unsupported.Count > 0)
        {
            return null;
        }

        // rule ids: an attribution the previous images have keeps its id; a new one gets its hash when no attribution had
        // that id (no collision probes past a free id, so the full render gives it the same). Anything else renders in full.
        var ruleIds = new uint[flattener.Attributions.Count];
        var newRuleIds = new Dictionary<uint, int>();
        foreach (var index in policyUpserts.Select(p => p.Value.Attribution).Distinct())
        {
            var attribution = flattener.Attributions[index];
            var hash = HashAttribution(AttributionText(attribution));
            if (previous.RuleAttribution.TryGetValue(hash, out var existing))
            {
                if (!existing.SequenceEqual(attribution))
                {
                    return null;
                }
            }
            else if (previous.RuleAttribution.ContainsKey(hash) || !newRuleIds.TryAdd(hash, index))
            {
                return null;
            }

            ruleIds[index] = hash;
        }

        var droppedRuleSets = dropped.Select(id => maps[3].RangeWithPrefix(EndpointKey(id))).ToList();
        var droppedPolicy = dropped.Select(id => maps[4].RangeWithPrefix(EndpointKey(id))).ToList();
        var ruleSets = maps[3].Patch(
            droppedRuleSets,
            Build(BpfMapDefinition.RuleSets, options.MaxRuleSets, ruleSetUpserts, static (k, s) => BinaryPrimitives.WriteUInt32LittleEndian(s, k), static (v, s) => v.WriteTo(s)));
        var policy = maps[4].Patch(
            droppedPolicy,
            Build(
                BpfMapDefinition.Policy,
                options.MaxPolicyEntries,
                policyUpserts.Select(p => KeyValuePair.Create(p.Key, new BpfPolicyValue(ruleIds[p.Value.Attribution], BpfConstants.ActionAllow, (byte)PolicyTier.NetworkPolicy, p.Value.Priority))),
                static (k, s) => k.WriteTo(s),
                static (v, s) => v.WriteTo(s)));
        if (policy.Count > options.MaxPolicyEntries)
        {
            return null;
        }

        // The attribution table holds exactly the rule ids the policy entries use, counted per image (the count is carried
        // from image to image and changed by the dropped and the new entries only).
        var uses = previous.RuleIdUses();
        var maybeUnused = new HashSet<uint>();
        foreach (var (start, end) in droppedPolicy)
        {
            for (var i = start; i < end; i++)
            {
                var ruleId = BpfPolicyValue.ReadFrom(maps[4].ValueAt(i)).RuleId;
                var count = uses[ruleId] - 1;
                uses = count == 0 ? uses.Remove(ruleId) : uses.SetItem(ruleId, count);
                maybeUnused.Add(ruleId);
            }
        }

        foreach (var (_, state) in policyUpserts)
        {
            var ruleId = ruleIds[state.Attribution];
            uses = uses.SetItem(ruleId, uses.GetValueOrDefault(ruleId) + 1);
        }

        maybeUnused.RemoveWhere(uses.ContainsKey);

        // An id that is no longer used frees its slot without moving another only when the next id is free too (no
        // collision probed past it).
        foreach (var id in maybeUnused)
        {
            var next = id == MaxRuleId ? 1 : id + 1;
            if ((previous.RuleAttribution.ContainsKey(next) && !maybeUnused.Contains(next)) || newRuleIds.ContainsKey(next))
            {
                return null;
            }
        }

        var attributions = previous.RuleAttribution.RemoveRange(maybeUnused).ToBuilder();
        foreach (var (id, index) in newRuleIds)
        {
            attributions[id] = flattener.Attributions[index];
        }

        var images = new BpfMapImages([host, maps[1], endpoints, ruleSets, policy], endpointIds, attributions.ToImmutable());
        images.SetRuleIdUses(uses);
        return new BpfRenderResult(images, diagnostics.ToImmutable());
    }

    private static void AddRuleSets(HashSet<int> ids, BpfEndpointValue value)
    {
        if ((value.Flags & BpfConstants.EndpointIngressIsolated) != 0)
        {
            ids.Add((int)value.IngressRuleSet);
        }

        if ((value.Flags & BpfConstants.EndpointEgressIsolated) != 0)
        {
            ids.Add((int)value.EgressRuleSet);
        }
    }

    private static byte[] EndpointKey(uint id)
    {
        var key = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(key, id);
        return key;
    }

    private static bool IsHostPrefix(IPNetwork prefix) =>
        prefix.PrefixLength == (prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
}
