using System.Collections.Immutable;
using System.Net;

namespace NetPolicy.Compiler.Bpf;

/// <summary>Settings for <see cref="BpfMapRenderer.Render"/>: map capacities, endpoint ids to keep and the node's addresses.</summary>
/// <remarks>Validated when used: <see cref="BpfMapRenderer.Render"/> throws <see cref="ArgumentException"/> for a
/// capacity below 1 or an invalid <see cref="EndpointIds"/> table. The loader creates the maps with these capacities
/// (<c>max_entries</c>), so the renderer and the kernel agree on what fits.</remarks>
public sealed class BpfRenderOptions
{
    /// <summary>The C default of <c>np_ipcache_host</c> max_entries.</summary>
    public const int DefaultMaxIPCacheHostEntries = 262144;

    /// <summary>The C default of <c>np_ipcache_lpm</c> max_entries.</summary>
    public const int DefaultMaxIPCacheLpmEntries = 65536;

    /// <summary>The C default of <c>np_endpoints</c> max_entries.</summary>
    public const int DefaultMaxEndpoints = 65536;

    /// <summary>The C default of <c>np_rulesets</c> max_entries.</summary>
    public const int DefaultMaxRuleSets = 262144;

    /// <summary>The C default of <c>np_policy</c> max_entries.</summary>
    public const int DefaultMaxPolicyEntries = 262144;

    /// <summary>Gets or sets the capacity of <c>np_ipcache_host</c> (exact /32 and /128 entries).</summary>
    /// <value>262144 by default; at least 1.</value>
    public int MaxIPCacheHostEntries { get; set; } = DefaultMaxIPCacheHostEntries;

    /// <summary>Gets or sets the capacity of <c>np_ipcache_lpm</c> (every other prefix).</summary>
    /// <value>65536 by default; at least 1.</value>
    public int MaxIPCacheLpmEntries { get; set; } = DefaultMaxIPCacheLpmEntries;

    /// <summary>Gets or sets the size of the <c>np_endpoints</c> array: endpoint ids run from 1 to this value − 1 (0 is never used).</summary>
    /// <value>65536 by default; at least 1.</value>
    public int MaxEndpoints { get; set; } = DefaultMaxEndpoints;

    /// <summary>Gets or sets the size of the <c>np_rulesets</c> array: every rule-set id must be below it.</summary>
    /// <value>262144 by default (4 MiB of 16-byte slots); at least 1.</value>
    /// <remarks>Rule-set ids are numbered over the whole cluster, stable across incremental compiles and only growing (see
    /// <see cref="Ir.CompiledPolicySet.NextRuleSet"/>); a cold compile numbers them from 1 again. Per-node images
    /// (<see cref="LocalEndpoints"/>) hold few rule sets, but with their cluster-wide ids: a 100k-pod cluster has about
    /// 66,000.</remarks>
    public int MaxRuleSets { get; set; } = DefaultMaxRuleSets;

    /// <summary>Gets or sets the capacity of <c>np_policy</c>.</summary>
    /// <value>262144 by default; at least 1.</value>
    public int MaxPolicyEntries { get; set; } = DefaultMaxPolicyEntries;

    /// <summary>Gets or sets endpoint ids to keep, by pod key (<c>namespace/name</c>), for example
    /// <see cref="BpfMapImages.EndpointIds"/> of the images a running agent loaded.</summary>
    /// <value><see langword="null"/> by default: ids are assigned from 1 in pod-key order. Ids must be at least 1 and distinct.</value>
    /// <remarks>Pods listed here keep their id. Other pods get the lowest free id from 1 up. Ids of listed pods that no
    /// longer exist are not reused in the same render, so a delta never deletes and reprograms one slot at once; they
    /// are free again in the next render (they are not in the new images' <see cref="BpfMapImages.EndpointIds"/>).</remarks>
    public IReadOnlyDictionary<string, uint>? EndpointIds { get; set; }

    /// <summary>Gets or sets the pods (keys, <c>namespace/name</c>) that are endpoints of this node's datapath.</summary>
    /// <value><see langword="null"/> by default: every pod of the policy set is an endpoint (a cluster-wide image).</value>
    /// <remarks>A node agent passes the pods scheduled on its node (<see cref="Model.PodEndpoint.NodeName"/>), as Cilium
    /// programs only local endpoints: <c>np_endpoints</c> then holds only these pods, and <c>np_rulesets</c> and
    /// <c>np_policy</c> only the rule sets they use, while the ipcache keeps every pod, since any pod can be a peer. Keys
    /// that are not pods of the policy set are ignored. An incremental render
    /// (<see cref="BpfMapRenderer.RenderChanges"/>) takes the set its previous images were rendered with, grown by the
    /// pods the delta adds or shrunk by those it removes; any other change of the set renders in full.</remarks>
    public IReadOnlySet<string>? LocalEndpoints { get; set; }

    /// <summary>Gets or sets the node's own addresses.</summary>
    /// <value>Empty by default.</value>
    /// <remarks>Each becomes an <c>np_ipcache_host</c> entry with identity <see cref="BpfConstants.IdentityHost"/> and
    /// the address class the compiled ipcache gives the address (so ipBlocks still match it). Ingress from the host is
    /// allowed unless the programs run with <see cref="BpfConstants.ConfigPoliceHost"/>, as kubelet probes need.
    /// IPv4-mapped IPv6 addresses are taken as IPv4.</remarks>
    public ImmutableArray<IPAddress> HostAddresses { get; set; } = [];

    /// <summary>Returns a copy with other endpoint ids to keep.</summary>
    internal BpfRenderOptions WithEndpointIds(IReadOnlyDictionary<string, uint>? endpointIds) => new()
    {
        MaxIPCacheHostEntries = MaxIPCacheHostEntries,
        MaxIPCacheLpmEntries = MaxIPCacheLpmEntries,
        MaxEndpoints = MaxEndpoints,
        MaxRuleSets = MaxRuleSets,
        MaxPolicyEntries = MaxPolicyEntries,
        EndpointIds = endpointIds,
        LocalEndpoints = LocalEndpoints,
        HostAddresses = HostAddresses,
    };

    internal void Validate()
    {
        ValidateAllButEndpointIds();
        ValidateEndpointIds();
    }

    private void ValidateEndpointIds()
    {
        if (EndpointIds is { } ids)
        {
            var owners = new Dictionary<uint, string>();
            foreach (var (pod, id) in ids.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (pod is null)
                {
                    throw new ArgumentException("BpfRenderOptions.EndpointIds has a null pod key.", "options");
                }

                if (id == 0)
                {
                    throw new ArgumentException($"BpfRenderOptions.EndpointIds gives pod {pod} endpoint id 0; ids start at 1 (np_endpoints slot 0 is never used).", "options");
                }

                if (!owners.TryAdd(id, pod))
                {
                    throw new ArgumentException($"BpfRenderOptions.EndpointIds gives endpoint id {id} to both {owners[id]} and {pod}; every pod needs its own id.", "options");
                }
            }
        }
    }

    /// <summary>Validates everything but <see cref="EndpointIds"/>, which an incremental render takes from a previous render.</summary>
    internal void ValidateAllButEndpointIds()
    {
        Check(MaxIPCacheHostEntries, nameof(MaxIPCacheHostEntries));
        Check(MaxIPCacheLpmEntries, nameof(MaxIPCacheLpmEntries));
        Check(MaxEndpoints, nameof(MaxEndpoints));
        Check(MaxRuleSets, nameof(MaxRuleSets));
        Check(MaxPolicyEntries, nameof(MaxPolicyEntries));
        if (HostAddresses.IsDefault)
        {
            throw new ArgumentException("BpfRenderOptions.HostAddresses is a default ImmutableArray; use [] for none.", "options");
        }

        foreach (var address in HostAddresses)
        {
            if (address is null || address.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"BpfRenderOptions.HostAddresses holds '{address?.ToString() ?? "null"}', which is not an IPv4 or IPv6 address.", "options");
            }
        }

        static void Check(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentException($"BpfRenderOptions.{name} is {value}; it must be at least 1.", "options");
            }
        }
    }
}
