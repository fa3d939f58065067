namespace NetPolicy.Compiler.Iptables;

/// <summary>The iptables artifacts of one compiled policy set: an <c>ipset restore</c> file and one
/// <c>iptables-restore --noflush</c> file per address family.</summary>
/// <remarks>
/// Every chain is named <c>NP-…</c> and every set <c>NP-…</c>; the rule files declare each of our chains with a
/// <c>:</c> line, so a <c>--noflush</c> restore flushes and replaces those chains only. The hooks
/// <c>-A FORWARD -j NP-FORWARD</c> and <c>-A OUTPUT -j NP-OUTPUT</c> are not in the files: the applier inserts them
/// idempotently. <see cref="DiffFrom"/> gives the commands that turn an applied ruleset into this one.
/// </remarks>
/// <param name="IpsetRestore">Gets the text for <c>ipset restore</c>: creates every set (if missing) and replaces its members through a temporary set and <c>swap</c>.</param>
/// <param name="IPv4Rules">Gets the text for <c>iptables-restore --noflush</c>.</param>
/// <param name="IPv6Rules">Gets the text for <c>ip6tables-restore --noflush</c>.</param>
public sealed record IptablesRuleset(string IpsetRestore, string IPv4Rules, string IPv6Rules)
{
    /// <summary>The prefix of every chain and set name the renderer writes.</summary>
    public const string NamePrefix = "NP-";

    /// <summary>The name of the dispatch chain hooked from <c>FORWARD</c>.</summary>
    public const string ForwardChain = "NP-FORWARD";

    /// <summary>The name of the chain hooked from <c>OUTPUT</c>: packets the node itself sends to pods.</summary>
    public const string OutputChain = "NP-OUTPUT";

    /// <summary>The name of the chain both <see cref="ForwardChain"/> and <see cref="OutputChain"/> jump to for the
    /// receiving pod: fail closed, the host-address exemption and the ingress dispatch.</summary>
    public const string ToPodChain = "NP-TO-POD";

    /// <summary>The longest chain name iptables accepts.</summary>
    public const int MaxChainNameLength = 28;

    /// <summary>The longest set name ipset accepts.</summary>
    public const int MaxSetNameLength = 31;

    /// <summary>The most ports (a range counts as two) one <c>-m multiport</c> match takes.</summary>
    public const int MaxMultiportSlots = 15;

    /// <summary>Computes the commands that turn <paramref name="previous"/> (applied) into this ruleset.</summary>
    /// <param name="previous">The ruleset that is applied.</param>
    /// <returns>The delta: new sets, member additions and deletions of changed sets, the changed, new and deleted chains
    /// per family, and the sets to destroy once no rule refers to them.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="previous"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A ruleset is not in the renderer's format.</exception>
    public IptablesRulesetDelta DiffFrom(IptablesRuleset previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return IptablesRulesetDelta.Compute(previous, this);
    }
}
