namespace NetPolicy.Compiler.Nftables;

/// <summary>A rendered nftables ruleset: one <c>nft -f</c> file that replaces the table <see cref="TableName"/> in one transaction.</summary>
/// <remarks>Compares by value; the same IR and options always give byte-identical <see cref="Text"/>.
/// <see cref="DiffFrom"/> gives a smaller transaction that turns an applied ruleset into this one.</remarks>
public sealed record NftablesRuleset
{
    /// <summary>Gets the name of the <c>inet</c> table the ruleset owns.</summary>
    public required string TableName { get; init; }

    /// <summary>Gets the text for <c>nft -f</c>, with <c>\n</c> line ends.</summary>
    public required string Text { get; init; }

    /// <summary>Computes one <c>nft -f</c> transaction that turns <paramref name="previous"/> (applied) into this ruleset.</summary>
    /// <param name="previous">The ruleset that is applied.</param>
    /// <returns>The delta: element additions and deletions of sets and maps that stay, changed chains flushed and refilled,
    /// new sets, maps and chains, and deleted ones; the whole ruleset when the table name or a set's definition differs.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="previous"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A ruleset is not in the renderer's format.</exception>
    public NftablesRulesetDelta DiffFrom(NftablesRuleset previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return NftablesRulesetDelta.Compute(previous, this);
    }
}
