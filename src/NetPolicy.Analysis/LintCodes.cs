namespace NetPolicy.Analysis;

/// <summary>The stable codes of lint findings and diff results. Codes are never renumbered or reused.</summary>
/// <remarks>NP40xx: lint checks (<see cref="PolicyLinter"/>). NP41xx: connection changes (<see cref="ConnectionDiffer"/>), used as
/// SARIF rule identifiers. The compiler's own diagnostics use NP1xxx.</remarks>
public static class LintCodes
{
    /// <summary>A NetworkPolicy's <c>podSelector</c> selects no pod of its namespace: the policy has no effect.</summary>
    public const string PolicySelectsNoPod = "NP4001";

    /// <summary>A <c>from</c>/<c>to</c> peer's pod or namespace selector selects no pod: the peer allows nothing.</summary>
    public const string PeerSelectsNothing = "NP4002";

    /// <summary>A pod is not isolated for a direction although other pods of its namespace are: everything reaches it (or leaves it) that way.</summary>
    public const string PodNotIsolated = "NP4003";

    /// <summary>A pod's egress isolation allows DNS (UDP/53 or TCP/53) to no destination at all: name lookups fail.</summary>
    public const string EgressBlocksDns = "NP4004";

    /// <summary>A rule allows nothing that another rule of the same policy and direction does not already allow.</summary>
    public const string RedundantRule = "NP4005";

    /// <summary>A rule names a port that no pod it could apply to declares (the selected pods for ingress, the peer pods for egress).</summary>
    public const string NamedPortNotFound = "NP4006";

    /// <summary>An ipBlock contains pod addresses of the cluster, so it also matches those pods whatever their labels.</summary>
    public const string IPBlockCoversPods = "NP4007";

    /// <summary>A diff result: a connection that the before set denies is allowed by the after set.</summary>
    public const string ConnectionOpened = "NP4101";

    /// <summary>A diff result: a connection that the before set allows is denied by the after set.</summary>
    public const string ConnectionClosed = "NP4102";

    /// <summary>A diff result: a connection allowed by both sets is allowed by a different rule.</summary>
    public const string ConnectionChanged = "NP4103";
}
