namespace NetPolicy.Compiler.Nftables;

/// <summary>How the rendered ruleset treats packets of connections that are already established.</summary>
public enum NftablesEnforcementMode
{
    /// <summary>Packets of established or related connections are accepted before any policy: a policy change affects
    /// new connections only (the behaviour of most NetworkPolicy implementations).</summary>
    Conntrack = 0,

    /// <summary>Only reply-direction packets of established or related connections are accepted early; every packet in
    /// the original direction is policed again, so tightening a policy cuts connections it no longer allows.</summary>
    Strict = 1,
}
