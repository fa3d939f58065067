using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>One rule of a rule set: a peer set (by identifier), an optional port match, an action and the policy part it came from.</summary>
/// <remarks>Rules refer to peer sets by identifier, as datapaths do (nftables named sets, BPF inner maps): when a pod joins
/// or leaves a selector only the peer set changes, not the rule sets that use it.</remarks>
/// <param name="PeerSet">The peer set identifier (see <see cref="CompiledPolicySet.PeerSets"/>).</param>
/// <param name="Port">The port match, or <see langword="null"/> for every protocol and port.</param>
/// <param name="Action">The action.</param>
/// <param name="Tier">The tier.</param>
/// <param name="Priority">The priority within the tier (lower first); 0 for NetworkPolicy.</param>
/// <param name="Source">The policy, rule, peer and port that produced it.</param>
public sealed record CompiledRule(int PeerSet, PortMatch? Port, PolicyAction Action, PolicyTier Tier, int Priority, RuleReference Source)
{
    /// <summary>Returns whether the rule's port match accepts a protocol and port.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool MatchesPort(TransportProtocol protocol, int port) => Port is not PortMatch p || p.Matches(protocol, port);

    internal int CompareTo(CompiledRule other)
    {
        var c = Tier.CompareTo(other.Tier);
        if (c == 0) { c = Priority.CompareTo(other.Priority); }
        if (c == 0) { c = Source.CompareTo(other.Source); }
        if (c == 0) { c = PeerSet.CompareTo(other.PeerSet); }
        if (c == 0) { c = (Port?.Protocol ?? 0).CompareTo(other.Port?.Protocol ?? 0); }
        if (c == 0) { c = (Port?.First ?? -1).CompareTo(other.Port?.First ?? -1); }
        if (c == 0) { c = (Port?.Last ?? -1).CompareTo(other.Port?.Last ?? -1); }
        return c != 0 ? c : Action.CompareTo(other.Action);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Action} peers #{PeerSet} {(Port?.ToString() ?? "any")} <- {Source}";
}
