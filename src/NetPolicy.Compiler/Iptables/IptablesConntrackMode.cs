namespace NetPolicy.Compiler.Iptables;

/// <summary>Says which packets of tracked connections the iptables rules accept before policy is evaluated.</summary>
public enum IptablesConntrackMode
{
    /// <summary>Every packet of an established or related connection is accepted early; a policy change affects new connections only.</summary>
    Conntrack = 0,

    /// <summary>Only reply-direction packets of established or related connections are accepted early; packets in the
    /// original direction are checked against the current policy, so a tightening cuts established connections.</summary>
    Strict = 1,
}
