namespace NetPolicy.Compiler.Iptables;

/// <summary>The iptables artifacts of one compiled policy set: an <c>ipset restore</c> file and one
/// <c>iptables-restore --noflush</c> file per address family.</summary>
/// <remarks>
/// Every chain is named <c>NP-…</c> and every set <c>NP-…</c>; the rule files declare each of our chains with a
/// <c>:</c> line, so a <c>--noflush</c> restore flushes and replaces those chains only. The hook
/// <c>-A FORWARD -j NP-FORWARD</c> is not in the files: the applier inserts it idempotently.
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

    /// <summary>The longest chain name iptables accepts.</summary>
    public const int MaxChainNameLength = 28;

    /// <summary>The longest set name ipset accepts.</summary>
    public const int MaxSetNameLength = 31;

    /// <summary>The most ports (a range counts as two) one <c>-m multiport</c> match takes.</summary>
    public const int MaxMultiportSlots = 15;
}
