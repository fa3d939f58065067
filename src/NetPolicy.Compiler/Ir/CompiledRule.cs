using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>One rule of a rule set: peers, an optional port match, an action and the policy part it came from.</summary>
/// <param name="Peers">The peers.</param>
/// <param name="Port">The port match, or <see langword="null"/> for every protocol and port.</param>
/// <param name="Action">The action.</param>
/// <param name="Tier">The tier.</param>
/// <param name="Priority">The priority within the tier (lower first); 0 for NetworkPolicy.</param>
/// <param name="Source">The policy, rule, peer and port that produced it.</param>
public sealed record CompiledRule(PeerSet Peers, PortMatch? Port, PolicyAction Action, PolicyTier Tier, int Priority, RuleReference Source)
{
    /// <summary>Returns whether the rule matches a remote peer, protocol and port.</summary>
    /// <param name="identity">The remote identity.</param>
    /// <param name="addressClass">The remote address class.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(uint identity, uint addressClass, TransportProtocol protocol, int port) =>
        (Port is not PortMatch p || p.Matches(protocol, port)) && Peers.Matches(identity, addressClass);

    internal int CompareTo(CompiledRule other)
    {
        var c = Tier.CompareTo(other.Tier);
        if (c == 0) { c = Priority.CompareTo(other.Priority); }
        if (c == 0) { c = Source.CompareTo(other.Source); }
        if (c == 0) { c = Peers.Id.CompareTo(other.Peers.Id); }
        if (c == 0) { c = (Port?.Protocol ?? 0).CompareTo(other.Port?.Protocol ?? 0); }
        if (c == 0) { c = (Port?.First ?? -1).CompareTo(other.Port?.First ?? -1); }
        if (c == 0) { c = (Port?.Last ?? -1).CompareTo(other.Port?.Last ?? -1); }
        return c != 0 ? c : Action.CompareTo(other.Action);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Action} peers {Peers.Id} {(Port?.ToString() ?? "any")} <- {Source}";
}
