namespace NetPolicy.Compiler.Ir;

/// <summary>The tier a compiled rule belongs to, evaluated in this order.</summary>
/// <remarks>NetworkPolicy v1 only produces <see cref="NetworkPolicy"/> rules. The Admin and Baseline tiers are where
/// ClusterNetworkPolicy (network-policy-api) rules will compile to: Admin rules are evaluated first by
/// <see cref="CompiledRule.Priority"/> (Accept ends evaluation with allow, Deny with deny, Pass skips to the
/// NetworkPolicy tier); then NetworkPolicy (allow-list semantics for isolated pods); then Baseline for pods the
/// NetworkPolicy tier does not isolate.</remarks>
public enum PolicyTier
{
    /// <summary>Cluster administrators' rules, before NetworkPolicy.</summary>
    Admin = 0,

    /// <summary>Namespaced NetworkPolicy v1.</summary>
    NetworkPolicy = 1,

    /// <summary>Cluster defaults, after NetworkPolicy.</summary>
    Baseline = 2,
}
