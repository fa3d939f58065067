namespace NetPolicy.Compiler.Ir;

/// <summary>What a compiled rule does with matching traffic.</summary>
public enum PolicyAction
{
    /// <summary>Allow (NetworkPolicy rules; Accept in ClusterNetworkPolicy).</summary>
    Allow = 0,

    /// <summary>Deny (ClusterNetworkPolicy only).</summary>
    Deny = 1,

    /// <summary>Skip the rest of the tier and continue with the next (ClusterNetworkPolicy Admin tier only).</summary>
    Pass = 2,
}
