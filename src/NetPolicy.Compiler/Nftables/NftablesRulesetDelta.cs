using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NetPolicy.Compiler.Nftables;

/// <summary>One <c>nft -f</c> transaction that turns an applied <see cref="NftablesRuleset"/> into another, touching only what differs.</summary>
/// <remarks>
/// <para>Order inside the transaction: new sets, maps and chains (with their elements and rules); element deletions of sets
/// and maps that stay (a map entry whose verdict changed is deleted and added again); changed chains (<c>flush chain</c>,
/// then their rules); element additions; then chains that are gone (flushed, then deleted, after the map entries that
/// jumped to them) and sets and maps that are gone. nft applies the file as one transaction, so a refused line changes
/// nothing. When the table name or the definition of a set or map differs, <see cref="Text"/> is the whole ruleset
/// (<see cref="IsFullReplacement"/>), which deletes and recreates the table.</para>
/// </remarks>
public sealed class NftablesRulesetDelta
{
    private NftablesRulesetDelta(string tableName, string text, bool full, int elementsAdded, int elementsDeleted, int chainsWritten, int chainsDeleted, ImmutableArray<string> written = default, ImmutableArray<string> removed = default)
    {
        WrittenObjects = written.IsDefault ? [] : written;
        RemovedObjects = removed.IsDefault ? [] : removed;
        TableName = tableName;
        Text = text;
        IsFullReplacement = full;
        ElementsAdded = elementsAdded;
        ElementsDeleted = elementsDeleted;
        ChainsWritten = chainsWritten;
        ChainsDeleted = chainsDeleted;
    }

    /// <summary>Gets the name of the <c>inet</c> table.</summary>
    public string TableName { get; }

    /// <summary>Gets the text for <c>nft -f</c>; empty when nothing differs.</summary>
    public string Text { get; }

    /// <summary>Gets a value indicating whether <see cref="Text"/> is the whole ruleset rather than a delta.</summary>
    public bool IsFullReplacement { get; }

    /// <summary>Gets the number of set and map elements added (elements of new sets and maps included).</summary>
    public int ElementsAdded { get; }

    /// <summary>Gets the number of set and map elements deleted from sets and maps that stay.</summary>
    public int ElementsDeleted { get; }

    /// <summary>Gets the number of chains written (changed or new).</summary>
    public int ChainsWritten { get; }

    /// <summary>Gets the number of chains deleted.</summary>
    public int ChainsDeleted { get; }

    /// <summary>Gets the sets, maps and chains the delta creates or changes, as <c>set NAME</c>, <c>map NAME</c> or
    /// <c>chain NAME</c>, sorted; empty for a full replacement.</summary>
    public ImmutableArray<string> WrittenObjects { get; }

    /// <summary>Gets the sets, maps and chains the delta deletes, as <c>set NAME</c>, <c>map NAME</c> or <c>chain NAME</c>, sorted.</summary>
    public ImmutableArray<string> RemovedObjects { get; }

    /// <summary>Gets a value indicating whether nothing differs.</summary>
    public bool IsEmpty => Text.Length == 0;

    /// <summary>Formats the counts.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsFullReplacement
        ? "full replacement"
        : string.Create(CultureInfo.InvariantCulture, $"elements +{ElementsAdded} -{ElementsDeleted}, chains written {ChainsWritten}, deleted {ChainsDeleted}");

    internal static NftablesRulesetDelta Compute(NftablesRuleset previous, NftablesRuleset current)
    {
        var table = current.TableName;
        if (previous.TableName != table)
        {
            return new NftablesRulesetDelta(table, current.Text, true, 0, 0, 0, 0);
        }

        var before = Parse(previous);
        var after = Parse(current);
        foreach (var (key, block) in after)
        {
            if (block.Kind != "chain" && before.TryGetValue(key, out var old) && !old.Header.SequenceEqual(block.Header, StringComparer.Ordinal))
            {
                return new NftablesRulesetDelta(table, current.Text, true, 0, 0, 0, 0);
            }
        }

        var created = after.Where(b => !before.ContainsKey(b.Key)).Select(b => b.Value).ToList();
        var changedChains = after.Values.Where(b => b.Kind == "chain" && before.TryGetValue(b.Key, out var old) && !old.Header.SequenceEqual(b.Header, StringComparer.Ordinal)).ToList();
        var gone = before.Where(b => !after.ContainsKey(b.Key)).Select(b => b.Value).ToList();
        var touched = new SortedSet<string>(created.Concat(changedChains).Select(b => b.Key), StringComparer.Ordinal);
        var deletions = new StringBuilder();
        var additions = new StringBuilder();
        int added = 0, deleted = 0;
        foreach (var block in after.Values.Where(b => b.Kind != "chain" && before.ContainsKey(b.Key)))
        {
            var old = before[block.Key];
            var oldElements = old.Elements.ToHashSet(StringComparer.Ordinal);
            var newElements = block.Elements.ToHashSet(StringComparer.Ordinal);
            var removed = old.Elements.Where(e => !newElements.Contains(e)).Select(e => block.Kind == "map" ? e[..e.IndexOf(" : ", StringComparison.Ordinal)] : e).ToList();
            var addedHere = block.Elements.Where(e => !oldElements.Contains(e)).ToList();
            AppendElements(deletions, "delete", table, block.Name, removed);
            AppendElements(additions, "add", table, block.Name, addedHere);
            deleted += removed.Count;
            if (removed.Count > 0 || addedHere.Count > 0)
            {
                touched.Add(block.Key);
            }

            added += addedHere.Count;
        }

        added += created.Sum(b => b.Elements.Count);
        if (created.Count == 0 && changedChains.Count == 0 && gone.Count == 0 && deletions.Length == 0 && additions.Length == 0)
        {
            return new NftablesRulesetDelta(table, string.Empty, false, 0, 0, 0, 0);
        }

        var text = new StringBuilder();
        text.Append("# Delta generated by NetPolicy.Compiler; applied with nft -f as one transaction.\n");
        if (created.Count > 0)
        {
            text.Append("table inet ").Append(table).Append(" {\n");
            foreach (var block in created.OrderBy(b => b.Kind == "chain" ? 1 : 0))
            {
                text.Append(block.Text);
            }

            text.Append("}\n");
        }

        text.Append(deletions);
        foreach (var chain in changedChains)
        {
            text.Append("flush chain inet ").Append(table).Append(' ').Append(chain.Name).Append('\n');
            text.Append("table inet ").Append(table).Append(" {\n").Append(chain.Text).Append("}\n");
        }

        text.Append(additions);
        foreach (var block in gone.Where(b => b.Kind == "chain"))
        {
            text.Append("flush chain inet ").Append(table).Append(' ').Append(block.Name).Append('\n');
        }

        foreach (var block in gone.OrderBy(b => b.Kind == "chain" ? 0 : 1))
        {
            text.Append("delete ").Append(block.Kind).Append(" inet ").Append(table).Append(' ').Append(block.Name).Append('\n');
        }

        return new NftablesRulesetDelta(table, text.ToString(), false, added, deleted, created.Count(b => b.Kind == "chain") + changedChains.Count, gone.Count(b => b.Kind == "chain"),
            [.. touched], [.. gone.Select(b => b.Key).Order(StringComparer.Ordinal)]);
    }

    private static void AppendElements(StringBuilder text, string verb, string table, string name, List<string> elements)
    {
        if (elements.Count == 0)
        {
            return;
        }

        text.Append(verb).Append(" element inet ").Append(table).Append(' ').Append(name).Append(" {\n");
        foreach (var element in elements)
        {
            text.Append('\t').Append(element).Append(",\n");
        }

        text.Append("}\n");
    }

    private sealed record Block(string Kind, string Name, List<string> Header, List<string> Elements, string Text)
    {
        public string Key => Kind + " " + Name;
    }

    /// <summary>Parses the renderer's format: every set, map and chain of the table with its definition or rule lines,
    /// its elements and its text, by <c>kind name</c>.</summary>
    private static Dictionary<string, Block> Parse(NftablesRuleset ruleset)
    {
        var blocks = new Dictionary<string, Block>(StringComparer.Ordinal);
        var opening = "table inet " + ruleset.TableName + " {";
        var inTable = false;
        Block? current = null;
        StringBuilder? blockText = null;
        var inElements = false;
        foreach (var line in ruleset.Text.Split('\n'))
        {
            if (!inTable)
            {
                inTable = line == opening;
                continue;
            }

            if (current is null)
            {
                if (line == "}")
                {
                    break;
                }

                var parts = line.Trim().Split(' ');
                if (!line.StartsWith('\t') || parts.Length != 3 || parts[0] is not ("set" or "map" or "chain") || parts[2] != "{")
                {
                    throw new ArgumentException($"not a line of a rendered ruleset: '{line}'", nameof(ruleset));
                }

                current = new Block(parts[0], parts[1], [], [], string.Empty);
                blockText = new StringBuilder();
                blockText.Append(line).Append('\n');
                continue;
            }

            blockText!.Append(line).Append('\n');
            if (line == "\t}")
            {
                blocks[current.Kind + " " + current.Name] = current with { Text = blockText.ToString() };
                current = null;
            }
            else if (line == "\t\telements = {")
            {
                inElements = true;
            }
            else if (inElements && line == "\t\t}")
            {
                inElements = false;
            }
            else if (inElements)
            {
                current.Elements.Add(line.Trim().TrimEnd(','));
            }
            else
            {
                current.Header.Add(line.Trim());
            }
        }

        if (!inTable)
        {
            throw new ArgumentException($"the ruleset has no '{opening}' line", nameof(ruleset));
        }

        return blocks;
    }
}
