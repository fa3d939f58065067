namespace NetPolicy.Compiler.Model;

/// <summary>One <c>from</c>/<c>to</c> entry: pods by selectors (ANDed), or an <see cref="Model.IPBlock"/>.</summary>
/// <remarks>A peer with only <see cref="PodSelector"/> selects pods in the policy's own namespace; with only
/// <see cref="NamespaceSelector"/> every pod in the selected namespaces; with both, the selected pods of the selected
/// namespaces. Selector peers never match addresses outside the cluster; ipBlock peers match any address, pod IPs included.</remarks>
public sealed record NetworkPolicyPeer
{
    /// <summary>Gets the pod selector, or <see langword="null"/> when not specified.</summary>
    public LabelSelector? PodSelector { get; init; }

    /// <summary>Gets the namespace selector, or <see langword="null"/> when not specified.</summary>
    public LabelSelector? NamespaceSelector { get; init; }

    /// <summary>Gets the ipBlock, or <see langword="null"/> when not specified.</summary>
    public IPBlock? IPBlock { get; init; }

    /// <summary>Formats the peer for explanations.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        if (IPBlock is not null)
        {
            return "ipBlock " + IPBlock.Key;
        }

        var parts = new List<string>(2);
        if (NamespaceSelector is not null)
        {
            parts.Add("namespaceSelector " + NamespaceSelector);
        }

        if (PodSelector is not null)
        {
            parts.Add("podSelector " + PodSelector);
        }

        return string.Join(" and ", parts);
    }
}
