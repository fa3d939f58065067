namespace NetPolicy.Compiler.Nftables;

/// <summary>A rendered nftables ruleset: one <c>nft -f</c> file that replaces the table <see cref="TableName"/> in one transaction.</summary>
/// <remarks>Compares by value; the same IR and options always give byte-identical <see cref="Text"/>.</remarks>
public sealed record NftablesRuleset
{
    /// <summary>Gets the name of the <c>inet</c> table the ruleset owns.</summary>
    public required string TableName { get; init; }

    /// <summary>Gets the text for <c>nft -f</c>, with <c>\n</c> line ends.</summary>
    public required string Text { get; init; }
}
