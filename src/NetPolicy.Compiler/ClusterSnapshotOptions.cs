using System.Net;

namespace NetPolicy.Compiler;

/// <summary>Settings for <see cref="ClusterSnapshot.Create(IEnumerable{k8s.Models.V1NetworkPolicy}, IEnumerable{k8s.Models.V1Pod}, IEnumerable{k8s.Models.V1Namespace}, ClusterSnapshotOptions?)"/>.</summary>
public sealed class ClusterSnapshotOptions
{
    /// <summary>Gets or sets where each input object came from, keyed by object reference, so diagnostics carry file:line.</summary>
    /// <value>Empty by default.</value>
    public IReadOnlyDictionary<object, ObjectSource>? Sources { get; set; }

    /// <summary>Gets or sets what happens to invalid objects.</summary>
    /// <value><see cref="InvalidObjectHandling.Fail"/> by default.</value>
    public InvalidObjectHandling InvalidObjects { get; set; } = InvalidObjectHandling.Fail;

    /// <summary>Gets or sets the IPv4 pool for pods without <c>status.podIPs</c>.</summary>
    /// <value><c>198.18.0.0/15</c> by default (RFC 2544 benchmarking space, never routed).</value>
    /// <remarks>Pods without any address in status are sorted by (namespace, name) and take addresses in order starting
    /// at the pool's 256th address (the first 256 are left to nodes and gateways), skipping addresses that pods
    /// declare in status. Pods with status IPs keep exactly those (a single-stack IPv6 pod gets no IPv4 address).
    /// <see langword="null"/> assigns none.</remarks>
    public IPNetwork? IPv4AddressPool { get; set; } = IPNetwork.Parse("198.18.0.0/15");

    /// <summary>Gets or sets the IPv6 pool for pods without status IPs, assigned as for <see cref="IPv4AddressPool"/>.</summary>
    /// <value><see langword="null"/> by default (single-stack IPv4); for example <c>fd00:198::/64</c> for dual stack.</value>
    public IPNetwork? IPv6AddressPool { get; set; }
}
