using System.Collections.Immutable;

namespace NetPolicy.Compiler.Model;

/// <summary>One ingress or egress rule: traffic matching any peer and any port is allowed.</summary>
/// <remarks>Empty <see cref="Peers"/> (the field missing or <c>[]</c>) matches every peer, in and outside the cluster;
/// empty <see cref="Ports"/> matches every port and protocol.</remarks>
public sealed record NetworkPolicyRule
{
    /// <summary>Gets the peers (<c>from</c> for ingress, <c>to</c> for egress).</summary>
    public ImmutableArray<NetworkPolicyPeer> Peers { get; init; } = [];

    /// <summary>Gets the ports.</summary>
    public ImmutableArray<NetworkPolicyPort> Ports { get; init; } = [];

    /// <inheritdoc/>
    public bool Equals(NetworkPolicyRule? other) =>
        other is not null && Peers.SequenceEqual(other.Peers) && Ports.SequenceEqual(other.Ports);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Peers.Length, Ports.Length);
}
