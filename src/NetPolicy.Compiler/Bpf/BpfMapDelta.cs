using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The map updates that turn one set of images into another, in the order an agent must apply them.</summary>
/// <remarks>
/// <para>Apply <see cref="Changes"/> in order, each completely before the next. The order makes the new state before it
/// breaks the old one:</para>
/// <list type="number">
/// <item><description>upsert <c>np_policy</c>, then <c>np_rulesets</c>: new keys exist before a rule set's masks
/// send lookups to them, and before any address or endpoint refers to them;</description></item>
/// <item><description>upsert <c>np_ipcache_lpm</c> and <c>np_ipcache_host</c>: addresses take their new identity
/// and class once the policy entries naming them are in place;</description></item>
/// <item><description>upsert <c>np_endpoints</c>: endpoints switch to their new identity and rule sets last;</description></item>
/// <item><description>delete (zero) stale <c>np_endpoints</c> and <c>np_rulesets</c> slots, then delete stale
/// <c>np_policy</c> entries, then stale ipcache entries: nothing still in use refers to them.</description></item>
/// </list>
/// <para>While the delta is applied every map entry is either its old or its new value, and a flow both images allow
/// for an endpoint whose rule set keeps its id stays allowed throughout. The updates are not one transaction: during
/// the update an endpoint may briefly combine its old rule set with new entries of that rule set, or an address with
/// its new identity (when a pod's labels change); an agent that needs no such window at all must build new maps and
/// swap them in.</para>
/// <para>Array maps (<c>np_endpoints</c>, <c>np_rulesets</c>) cannot delete: a deletion writes the zero value, which
/// clears <c>NP_EP_PRESENT</c> / <c>NP_RS_PRESENT</c>, so a removed endpoint fails closed.</para>
/// </remarks>
public sealed class BpfMapDelta
{
    // (map index in BpfMapImages.Maps, kind), in the order an agent applies them.
    private static readonly (int Map, BpfMapChangeKind Kind)[] s_order =
    [
        (4, BpfMapChangeKind.Upsert), // np_policy
        (3, BpfMapChangeKind.Upsert), // np_rulesets
        (1, BpfMapChangeKind.Upsert), // np_ipcache_lpm
        (0, BpfMapChangeKind.Upsert), // np_ipcache_host
        (2, BpfMapChangeKind.Upsert), // np_endpoints
        (2, BpfMapChangeKind.Delete),
        (3, BpfMapChangeKind.Delete),
        (4, BpfMapChangeKind.Delete),
        (0, BpfMapChangeKind.Delete),
        (1, BpfMapChangeKind.Delete),
    ];

    private BpfMapDelta(ImmutableArray<BpfMapChange> changes, BpfMapImages target)
    {
        Changes = changes;
        EndpointIds = target.EndpointIds;
        RuleAttribution = target.RuleAttribution;
    }

    /// <summary>Gets the non-empty changes, in the order to apply them.</summary>
    public ImmutableArray<BpfMapChange> Changes { get; }

    /// <summary>Gets the endpoint ids of the new images.</summary>
    public ImmutableSortedDictionary<string, uint> EndpointIds { get; }

    /// <summary>Gets the rule attribution of the new images.</summary>
    public ImmutableSortedDictionary<uint, ImmutableArray<RuleReference>> RuleAttribution { get; }

    /// <summary>Gets a value indicating whether no map changes.</summary>
    public bool IsEmpty => Changes.IsEmpty;

    /// <summary>Gets the number of entries to write (upserts).</summary>
    public int UpsertCount => Changes.Where(c => c.Kind == BpfMapChangeKind.Upsert).Sum(c => c.Entries.Length);

    /// <summary>Gets the number of entries to delete or zero.</summary>
    public int DeletionCount => Changes.Where(c => c.Kind == BpfMapChangeKind.Delete).Sum(c => c.Entries.Length);

    /// <summary>Applies the delta to images, as an agent applies it to the maps.</summary>
    /// <param name="previous">The images the delta was computed from.</param>
    /// <returns>The resulting images: equal to the images the delta leads to.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="previous"/> is <see langword="null"/>.</exception>
    public BpfMapImages ApplyTo(BpfMapImages previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        var maps = previous.Maps.Select(m => Enumerable.Range(0, m.Count).ToDictionary(i => Convert.ToHexString(m.KeyAt(i)), i => m.ValueAt(i).ToArray(), StringComparer.Ordinal)).ToArray();
        foreach (var change in Changes)
        {
            var index = previous.Maps.IndexOf(previous.GetMap(change.Map));
            var contents = maps[index];
            foreach (var entry in change.Entries)
            {
                var key = Convert.ToHexString(entry.Key.Span);
                var removes = change.Kind == BpfMapChangeKind.Delete;
                if (removes)
                {
                    contents.Remove(key);
                }
                else
                {
                    contents[key] = entry.Value.ToArray();
                }
            }
        }

        var images = previous.Maps.Select((m, i) =>
        {
            var records = new byte[maps[i].Count * m.Definition.RecordSize];
            var offset = 0;
            foreach (var (key, value) in maps[i])
            {
                Convert.FromHexString(key).CopyTo(records, offset);
                value.CopyTo(records, offset + m.KeySize);
                offset += m.Definition.RecordSize;
            }

            return BpfMapImage.FromUnsorted(m.Definition, m.MaxEntries, records);
        });
        return new BpfMapImages([.. images], EndpointIds, RuleAttribution);
    }

    /// <summary>Formats the changes, for example <c>upsert np_policy: 3 entries; delete np_policy: 1 entries</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsEmpty ? "no changes" : string.Join("; ", Changes);

    internal static BpfMapDelta Compute(BpfMapImages previous, BpfMapImages next)
    {
        for (var i = 0; i < next.Maps.Length; i++)
        {
            var (old, current) = (previous.Maps[i], next.Maps[i]);
            if (old.Definition != current.Definition || old.MaxEntries != current.MaxEntries)
            {
                throw new ArgumentException(
                    $"{current.Name} was rendered as {old} and is now {current}: a map of another shape or capacity must be created anew and filled " +
                    "from the new images; a delta cannot resize it.",
                    nameof(previous));
            }
        }

        var upserts = new ImmutableArray<BpfMapEntry>[next.Maps.Length];
        var deletions = new ImmutableArray<BpfMapEntry>[next.Maps.Length];
        for (var i = 0; i < next.Maps.Length; i++)
        {
            (upserts[i], deletions[i]) = Diff(previous.Maps[i], next.Maps[i]);
        }

        var changes = ImmutableArray.CreateBuilder<BpfMapChange>();
        foreach (var (map, kind) in s_order)
        {
            var entries = kind == BpfMapChangeKind.Upsert ? upserts[map] : deletions[map];
            if (!entries.IsEmpty)
            {
                changes.Add(new BpfMapChange(next.Maps[map], kind, entries));
            }
        }

        return new BpfMapDelta(changes.ToImmutable(), next);
    }

    private static (ImmutableArray<BpfMapEntry> Upserts, ImmutableArray<BpfMapEntry> Deletions) Diff(BpfMapImage old, BpfMapImage current)
    {
        if (ReferenceEquals(old, current))
        {
            return ([], []); // an incremental render hands unchanged maps on as they are
        }

        // Walk the records themselves: entries are made only for what differs, so a small change to a large map
        // allocates little.
        var upserts = ImmutableArray.CreateBuilder<BpfMapEntry>();
        var deletions = ImmutableArray.CreateBuilder<BpfMapEntry>();
        var zero = new ReadOnlyMemory<byte>(current.Type == BpfMapType.Array ? new byte[current.ValueSize] : []);

        // Equal leading and trailing records (compared as bytes, vectorised) are unchanged entries: only the middle is merged.
        var size = current.Definition.RecordSize;
        var a = old.Records;
        var b = current.Records;
        var shorter = Math.Min(old.Count, current.Count);
        var head = Math.Min(a.CommonPrefixLength(b) / size, shorter);
        var tail = 0;
        while (tail < shorter - head)
        {
            var n = Math.Min(256, shorter - head - tail);
            if (a.Slice((old.Count - tail - n) * size, n * size).SequenceEqual(b.Slice((current.Count - tail - n) * size, n * size)))
            {
                tail += n;
                continue;
            }

            while (tail < shorter - head && a.Slice((old.Count - tail - 1) * size, size).SequenceEqual(b.Slice((current.Count - tail - 1) * size, size)))
            {
                tail++;
            }

            break;
        }

        int i = head, j = head;
        var (oldEnd, currentEnd) = (old.Count - tail, current.Count - tail);
        while (i < oldEnd || j < currentEnd)
        {
            var c = i == oldEnd ? 1 : j == currentEnd ? -1 : old.KeyAt(i).SequenceCompareTo(current.KeyAt(j));
            if (c < 0)
            {
                deletions.Add(new BpfMapEntry(old.KeyMemoryAt(i), zero));
                i++;
            }
            else if (c > 0)
            {
                upserts.Add(current.EntryAt(j));
                j++;
            }
            else
            {
                if (!old.ValueAt(i).SequenceEqual(current.ValueAt(j)))
                {
                    upserts.Add(current.EntryAt(j));
                }

                i++;
                j++;
            }
        }

        return (upserts.ToImmutable(), deletions.ToImmutable());
    }
}
