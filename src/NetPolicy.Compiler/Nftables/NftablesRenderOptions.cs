namespace NetPolicy.Compiler.Nftables;

/// <summary>Settings of <see cref="NftablesRenderer.Render"/>; validated when used.</summary>
public sealed class NftablesRenderOptions
{
    /// <summary>Gets or sets the name of the <c>inet</c> table the ruleset owns.</summary>
    /// <value>Default <c>netpolicy</c>; 1–64 characters, a letter first, then letters, digits, <c>_</c> or <c>-</c>.</value>
    public string TableName { get; set; } = "netpolicy";

    /// <summary>Gets or sets how packets of established connections are treated.</summary>
    /// <value>Default <see cref="NftablesEnforcementMode.Conntrack"/>.</value>
    public NftablesEnforcementMode Mode { get; set; } = NftablesEnforcementMode.Conntrack;

    /// <summary>Gets or sets the prefix of a kernel log line written for every dropped packet, or <see langword="null"/> for no log.</summary>
    /// <value>Default <see langword="null"/>; at most 100 characters, no double quotes, backslashes or control characters.
    /// The rule-set chain's name is appended to the prefix.</value>
    public string? LogPrefix { get; set; }
}
