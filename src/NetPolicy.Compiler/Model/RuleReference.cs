namespace NetPolicy.Compiler.Model;

/// <summary>Points at the part of a policy that produced an allow: policy, direction, rule, peer and port.</summary>
/// <param name="Policy">The policy key, <c>namespace/name</c>.</param>
/// <param name="Direction">The rule direction.</param>
/// <param name="RuleIndex">The index in <c>spec.ingress</c> or <c>spec.egress</c>.</param>
/// <param name="PeerIndex">The index in <c>from</c>/<c>to</c>, or <see langword="null"/> when the rule has no peers (all peers).</param>
/// <param name="PortIndex">The index in <c>ports</c>, or <see langword="null"/> when the rule has no ports (all ports).</param>
public sealed record RuleReference(string Policy, PolicyDirection Direction, int RuleIndex, int? PeerIndex, int? PortIndex)
{
    /// <summary>Gets the field path of the rule, for example <c>spec.ingress[0]</c>.</summary>
    public string RulePath => $"spec.{(Direction == PolicyDirection.Ingress ? "ingress" : "egress")}[{RuleIndex}]";

    /// <summary>Orders references by policy key, direction, rule, peer and port index.</summary>
    /// <param name="other">The other reference.</param>
    /// <returns>A negative number, zero or a positive number.</returns>
    public int CompareTo(RuleReference? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = ObjectKeyComparer.Instance.Compare(Policy, other.Policy);
        if (c == 0) { c = Direction.CompareTo(other.Direction); }
        if (c == 0) { c = RuleIndex.CompareTo(other.RuleIndex); }
        if (c == 0) { c = (PeerIndex ?? -1).CompareTo(other.PeerIndex ?? -1); }
        if (c == 0) { c = (PortIndex ?? -1).CompareTo(other.PortIndex ?? -1); }
        return c;
    }

    /// <summary>Formats the reference, for example <c>prod/allow-web spec.ingress[0].from[1] ports[0]</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var peerField = Direction == PolicyDirection.Ingress ? "from" : "to";
        var peer = PeerIndex is int p ? $".{peerField}[{p}]" : $" (all {peerField})";
        var port = PortIndex is int q ? $" ports[{q}]" : " (all ports)";
        return $"{Policy} {RulePath}{peer}{port}";
    }
}
