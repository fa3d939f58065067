using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>One flattened allow-set entry: (peer identity or address class, protocol, port range), with every policy part that produced it.</summary>
/// <remarks>This is the shape of a policy-map key: renderers turn each entry into one map entry, rule or set element.</remarks>
public sealed record PolicyEntry
{
    /// <summary>Gets what <see cref="Peer"/> holds.</summary>
    public required PeerKind Kind { get; init; }

    /// <summary>Gets the identity or address class; 0 for <see cref="PeerKind.Any"/>.</summary>
    public required uint Peer { get; init; }

    /// <summary>Gets the port match, or <see langword="null"/> for every protocol and port.</summary>
    public PortMatch? Port { get; init; }

    /// <summary>Gets the action.</summary>
    public PolicyAction Action { get; init; }

    /// <summary>Gets the tier.</summary>
    public PolicyTier Tier { get; init; } = PolicyTier.NetworkPolicy;

    /// <summary>Gets the priority within the tier.</summary>
    public int Priority { get; init; }

    /// <summary>Gets the policy parts that produced this entry, sorted.</summary>
    public ImmutableArray<RuleReference> Attribution { get; init; } = [];

    /// <inheritdoc/>
    public bool Equals(PolicyEntry? other) =>
        other is not null && Kind == other.Kind && Peer == other.Peer && Port == other.Port && Action == other.Action &&
        Tier == other.Tier && Priority == other.Priority && Attribution.SequenceEqual(other.Attribution);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Peer, Port, Action, Tier, Priority);
}
