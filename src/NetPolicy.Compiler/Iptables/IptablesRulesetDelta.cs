using System.Globalization;
using System.Text;

namespace NetPolicy.Compiler.Iptables;

/// <summary>What turns one applied <see cref="IptablesRuleset"/> into another: only the sets, members and chains that differ.</summary>
/// <remarks>
/// <para>Apply in this order (<c>IptablesApplier</c> does): <see cref="IpsetRestore"/> with <c>ipset restore</c> (new sets
/// are created and filled, changed sets get <c>add</c>/<c>del</c> lines for the members that differ, each with
/// <c>-exist</c> so a repeated line does not fail; no set is swapped), then <see cref="IPv4Rules"/> and
/// <see cref="IPv6Rules"/> with <c>iptables-restore --noflush</c> (each one transaction: a <c>:</c> line flushes every
/// changed or new chain, which is then refilled, and a deleted chain is flushed and removed with <c>-X</c> after the
/// chains that referred to it are rewritten), then <see cref="IpsetCleanup"/> (destroys sets no rule refers to any more).</para>
/// <para>A set whose definition changed (it cannot under one name: type and family are part of it) is rebuilt through a
/// temporary set and swapped in, as a full apply does.</para>
/// </remarks>
public sealed class IptablesRulesetDelta
{
    private IptablesRulesetDelta(string ipsetRestore, string ipv4Rules, string ipv6Rules, string ipsetCleanup, int membersAdded, int membersDeleted, int chainsWritten, int chainsDeleted)
    {
        IpsetRestore = ipsetRestore;
        IPv4Rules = ipv4Rules;
        IPv6Rules = ipv6Rules;
        IpsetCleanup = ipsetCleanup;
        MembersAdded = membersAdded;
        MembersDeleted = membersDeleted;
        ChainsWritten = chainsWritten;
        ChainsDeleted = chainsDeleted;
    }

    /// <summary>Gets the text for <c>ipset restore</c> run before the rules: set creations and member changes; empty when none.</summary>
    public string IpsetRestore { get; }

    /// <summary>Gets the text for <c>iptables-restore --noflush</c>, or empty when no IPv4 chain changed.</summary>
    public string IPv4Rules { get; }

    /// <summary>Gets the text for <c>ip6tables-restore --noflush</c>, or empty when no IPv6 chain changed.</summary>
    public string IPv6Rules { get; }

    /// <summary>Gets the text for <c>ipset restore</c> run after the rules: <c>destroy</c> lines of sets that are gone; empty when none.</summary>
    public string IpsetCleanup { get; }

    /// <summary>Gets the number of set members added (members of new sets included).</summary>
    public int MembersAdded { get; }

    /// <summary>Gets the number of set members deleted from sets that stay.</summary>
    public int MembersDeleted { get; }

    /// <summary>Gets the number of chains written (changed or new) over both families.</summary>
    public int ChainsWritten { get; }

    /// <summary>Gets the number of chains deleted over both families.</summary>
    public int ChainsDeleted { get; }

    /// <summary>Gets a value indicating whether nothing differs.</summary>
    public bool IsEmpty => IpsetRestore.Length == 0 && IPv4Rules.Length == 0 && IPv6Rules.Length == 0 && IpsetCleanup.Length == 0;

    /// <summary>Formats the counts.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"set members +{MembersAdded} -{MembersDeleted}, chains written {ChainsWritten}, deleted {ChainsDeleted}");

    internal static IptablesRulesetDelta Compute(IptablesRuleset previous, IptablesRuleset current)
    {
        var before = ParseSets(previous.IpsetRestore);
        var after = ParseSets(current.IpsetRestore);
        var ipset = new StringBuilder();
        var cleanup = new StringBuilder();
        int added = 0, deleted = 0;
        foreach (var (name, set) in after)
        {
            if (!before.TryGetValue(name, out var old))
            {
                ipset.Append("create ").Append(name).Append(' ').Append(set.Definition).Append(" -exist\n");
                foreach (var member in set.Members)
                {
                    ipset.Append("add ").Append(name).Append(' ').Append(member).Append(" -exist\n");
                    added++;
                }
            }
            else if (old.Definition != set.Definition)
            {
                ipset.Append(set.Block);
                added += set.Members.Count;
            }
            else
            {
                var oldMembers = old.Members.ToHashSet(StringComparer.Ordinal);
                var newMembers = set.Members.ToHashSet(StringComparer.Ordinal);
                foreach (var member in old.Members.Where(m => !newMembers.Contains(m)))
                {
                    ipset.Append("del ").Append(name).Append(' ').Append(member).Append(" -exist\n");
                    deleted++;
                }

                foreach (var member in set.Members.Where(m => !oldMembers.Contains(m)))
                {
                    ipset.Append("add ").Append(name).Append(' ').Append(member).Append(" -exist\n");
                    added++;
                }
            }
        }

        foreach (var name in before.Keys.Where(n => !after.ContainsKey(n)))
        {
            cleanup.Append("destroy ").Append(name).Append('\n');
        }

        var (v4, v4Written, v4Deleted) = DiffRules(previous.IPv4Rules, current.IPv4Rules);
        var (v6, v6Written, v6Deleted) = DiffRules(previous.IPv6Rules, current.IPv6Rules);
        return new IptablesRulesetDelta(ipset.ToString(), v4, v6, cleanup.ToString(), added, deleted, v4Written + v6Written, v4Deleted + v6Deleted);
    }

    private static (string Text, int Written, int Deleted) DiffRules(string previous, string current)
    {
        var before = ParseChains(previous);
        var after = ParseChains(current);
        var written = after.Where(c => !before.TryGetValue(c.Key, out var old) || !old.SequenceEqual(c.Value, StringComparer.Ordinal)).Select(c => c.Key).ToList();
        var gone = before.Keys.Where(c => !after.ContainsKey(c)).ToList();
        if (written.Count == 0 && gone.Count == 0)
        {
            return (string.Empty, 0, 0);
        }

        var text = new StringBuilder("*filter\n");
        foreach (var chain in written.Concat(gone))
        {
            text.Append(':').Append(chain).Append(" - [0:0]\n");
        }

        foreach (var chain in written)
        {
            foreach (var rule in after[chain])
            {
                text.Append(rule).Append('\n');
            }
        }

        foreach (var chain in gone)
        {
            text.Append("-X ").Append(chain).Append('\n');
        }

        text.Append("COMMIT\n");
        return (text.ToString(), written.Count, gone.Count);
    }

    /// <summary>Parses a rendered rules file: chain to its rule lines, in declaration order.</summary>
    private static Dictionary<string, List<string>> ParseChains(string rules)
    {
        var chains = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in rules.Split('\n'))
        {
            if (line.StartsWith(':'))
            {
                var name = line[1..line.IndexOf(' ', StringComparison.Ordinal)];
                chains[name] = [];
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                var name = line.Split(' ')[1];
                if (!chains.TryGetValue(name, out var list))
                {
                    throw new ArgumentException($"rule of undeclared chain {name}: {line}", nameof(rules));
                }

                list.Add(line);
            }
            else if (line.Length > 0 && line != "*filter" && line != "COMMIT")
            {
                throw new ArgumentException($"not a line of a rendered rules file: {line}", nameof(rules));
            }
        }

        return chains;
    }

    /// <summary>Parses a rendered ipset file: set name to its definition, members in file order and its full block.</summary>
    private static SortedDictionary<string, (string Definition, List<string> Members, string Block)> ParseSets(string text)
    {
        var sets = new SortedDictionary<string, (string Definition, List<string> Members, string Block)>(StringComparer.Ordinal);
        var blocks = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split(' ', 3);
            if (parts.Length < 2)
            {
                throw new ArgumentException($"not a line of a rendered ipset file: {line}", nameof(text));
            }

            var name = parts[1].EndsWith("-tmp", StringComparison.Ordinal) ? parts[1][..^4] : parts[1];
            if (parts[0] == "create" && name == parts[1])
            {
                var definition = parts[2].EndsWith(" -exist", StringComparison.Ordinal) ? parts[2][..^" -exist".Length] : parts[2];
                sets[name] = (definition, [], string.Empty);
                blocks[name] = new StringBuilder();
            }
            else if (parts[0] == "add" && parts.Length == 3 && sets.TryGetValue(name, out var set))
            {
                set.Members.Add(parts[2]);
            }

            if (blocks.TryGetValue(name, out var block))
            {
                block.Append(line).Append('\n');
            }
        }

        foreach (var name in sets.Keys.ToList())
        {
            sets[name] = sets[name] with { Block = blocks[name].ToString() };
        }

        return sets;
    }
}
