using System.Collections.Immutable;
using System.Net;

namespace NetPolicy.Analysis;

/// <summary>One side of a connection in a diff: a pod (by <c>namespace/name</c>) or a range of addresses outside the cluster.</summary>
/// <remarks>An address range is a cell of the partition of the address space by every ipBlock of both policy sets:
/// all its addresses (pod IPs aside) are matched by exactly the same ipBlocks, so they are treated alike.</remarks>
public sealed record ConnectionEndpoint
{
    private ConnectionEndpoint()
    {
    }

    /// <summary>Gets the pod, <c>namespace/name</c>, or <see langword="null"/> for an address range.</summary>
    public string? Pod { get; private init; }

    /// <summary>Gets the CIDRs that make up the address range, sorted (empty for a pod).</summary>
    public ImmutableArray<IPNetwork> Cidrs { get; private init; } = [];

    /// <summary>Gets the address a range was evaluated with: its lowest address that is no pod's IP (<see langword="null"/> for a pod).</summary>
    public IPAddress? RepresentativeAddress { get; private init; }

    /// <summary>Gets the display name: the pod key, or the CIDRs of the range (shortened when there are many).</summary>
    public required string Name { get; init; }

    /// <summary>Gets a value indicating whether this is a pod.</summary>
    public bool IsPod => Pod is not null;

    /// <summary>Creates a pod endpoint.</summary>
    /// <param name="pod">The pod key, <c>namespace/name</c>.</param>
    /// <returns>The endpoint.</returns>
    public static ConnectionEndpoint ForPod(string pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return new ConnectionEndpoint { Pod = pod, Name = pod };
    }

    /// <summary>Creates an address-range endpoint.</summary>
    /// <param name="cidrs">The CIDRs of the range, sorted.</param>
    /// <param name="representative">The address the range is evaluated with.</param>
    /// <param name="name">The display name.</param>
    /// <returns>The endpoint.</returns>
    public static ConnectionEndpoint ForRange(IEnumerable<IPNetwork> cidrs, IPAddress representative, string name)
    {
        ArgumentNullException.ThrowIfNull(cidrs);
        ArgumentNullException.ThrowIfNull(representative);
        ArgumentNullException.ThrowIfNull(name);
        return new ConnectionEndpoint { Cidrs = [.. cidrs], RepresentativeAddress = representative, Name = name };
    }

    /// <inheritdoc/>
    public bool Equals(ConnectionEndpoint? other) =>
        other is not null && Pod == other.Pod && Name == other.Name && Cidrs.SequenceEqual(other.Cidrs) && Equals(RepresentativeAddress, other.RepresentativeAddress);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Pod, Name);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
