using System.Buffers.Binary;
using System.Collections.Immutable;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The complete contents of one BPF map: its definition and every entry, sorted by key bytes.</summary>
/// <remarks>Entries are ordered by an ordinal (<c>memcmp</c>) comparison of their key bytes, so the same IR always
/// gives the same bytes. Integers inside keys and values are little-endian, so array indexes and rule-set ids are not
/// in numeric order. Array maps list only programmed slots: every other slot holds zeros. Immutable, with value
/// equality.</remarks>
public sealed class BpfMapImage : IEquatable<BpfMapImage>
{
    private readonly byte[] _records;
    private ImmutableArray<BpfMapEntry> _entries;

    internal BpfMapImage(BpfMapDefinition definition, int maxEntries, byte[] sortedRecords)
    {
        Definition = definition;
        MaxEntries = maxEntries;
        _records = sortedRecords;
        Count = sortedRecords.Length / definition.RecordSize;
    }

    /// <summary>Gets the map name, for example <c>np_policy</c> (see <see cref="BpfConstants"/>).</summary>
    public string Name => Definition.Name;

    /// <summary>Gets the map type.</summary>
    public BpfMapType Type => Definition.Type;

    /// <summary>Gets the key size in bytes.</summary>
    public int KeySize => Definition.KeySize;

    /// <summary>Gets the value size in bytes.</summary>
    public int ValueSize => Definition.ValueSize;

    /// <summary>Gets the capacity the map must be created with (<c>max_entries</c>), from <see cref="BpfRenderOptions"/>.</summary>
    public int MaxEntries { get; }

    /// <summary>Gets the <c>map_flags</c> the map must be created with (<c>BPF_F_NO_PREALLOC</c> = 1 for the LPM trie).</summary>
    public uint Flags => Definition.Flags;

    /// <summary>Gets the number of entries.</summary>
    public int Count { get; }

    /// <summary>Gets the entries, sorted by key bytes.</summary>
    public ImmutableArray<BpfMapEntry> Entries
    {
        get
        {
            if (_entries.IsDefault)
            {
                var builder = ImmutableArray.CreateBuilder<BpfMapEntry>(Count);
                var memory = new ReadOnlyMemory<byte>(_records);
                var size = Definition.RecordSize;
                for (var i = 0; i < Count; i++)
                {
                    builder.Add(new BpfMapEntry(memory.Slice(i * size, KeySize), memory.Slice((i * size) + KeySize, ValueSize)));
                }

                _entries = builder.MoveToImmutable();
            }

            return _entries;
        }
    }

    internal BpfMapDefinition Definition { get; }

    /// <summary>Gets the records, <see cref="Count"/> times key bytes then value bytes.</summary>
    internal ReadOnlySpan<byte> Records => _records;

    /// <summary>Looks a key up (binary search over the sorted keys).</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="value">The value bytes, when found.</param>
    /// <returns><see langword="true"/> when the map holds the key.</returns>
    public bool TryGetValue(ReadOnlySpan<byte> key, out ReadOnlyMemory<byte> value)
    {
        var index = IndexOf(key);
        value = index >= 0 ? new ReadOnlyMemory<byte>(_records, (index * Definition.RecordSize) + KeySize, ValueSize) : default;
        return index >= 0;
    }

    /// <inheritdoc/>
    public bool Equals(BpfMapImage? other) =>
        other is not null && (ReferenceEquals(this, other) ||
        (Definition == other.Definition && MaxEntries == other.MaxEntries && _records.AsSpan().SequenceEqual(other._records)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BpfMapImage);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, MaxEntries, Count);

    /// <summary>Formats a one-line summary, for example <c>np_policy (hash, 16+8 bytes, 12/262144 entries)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Name} ({Type}, {KeySize}+{ValueSize} bytes, {Count}/{MaxEntries} entries)";

    internal ReadOnlySpan<byte> KeyAt(int index) => _records.AsSpan(index * Definition.RecordSize, KeySize);

    internal ReadOnlySpan<byte> ValueAt(int index) => _records.AsSpan((index * Definition.RecordSize) + KeySize, ValueSize);

    internal ReadOnlyMemory<byte> KeyMemoryAt(int index) => new(_records, index * Definition.RecordSize, KeySize);

    internal BpfMapEntry EntryAt(int index) =>
        new(new ReadOnlyMemory<byte>(_records, index * Definition.RecordSize, KeySize), new ReadOnlyMemory<byte>(_records, (index * Definition.RecordSize) + KeySize, ValueSize));

    internal int IndexOf(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            return -1;
        }

        int lo = 0, hi = Count - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var c = KeyAt(mid).SequenceCompareTo(key);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    /// <summary>Builds an image from unsorted records: sorts them by key bytes and rejects duplicate keys.</summary>
    /// <summary>Returns this image without the records in <paramref name="removed"/> (index ranges, in any order) and with
    /// <paramref name="upserts"/> merged in (an upsert replaces the record with its key). Records are copied in runs, and
    /// only the upserts' positions are searched, so a small change to a large map costs one copy of its bytes.</summary>
    internal BpfMapImage Patch(List<(int Start, int End)> removed, BpfMapImage? upserts)
    {
        var upsertCount = upserts?.Count ?? 0;
        if (removed.Count == 0 && upsertCount == 0)
        {
            return this;
        }

        // Where each upsert goes; an upsert of an existing key removes that record.
        var positions = new int[upsertCount];
        var skips = new List<(int Start, int End)>(removed);
        for (var j = 0; j < upsertCount; j++)
        {
            var key = upserts!.KeyAt(j);
            var position = LowerBound(key);
            positions[j] = position;
            if (position < Count && KeyAt(position).SequenceEqual(key))
            {
                skips.Add((position, position + 1));
            }
        }

        // Merge the skipped ranges so each old record is dropped at most once.
        skips.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<(int Start, int End)>(skips.Count);
        foreach (var (start, end) in skips)
        {
            if (start >= end)
            {
                continue;
            }

            if (merged.Count > 0 && start <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((start, end));
            }
        }

        var kept = Count - merged.Sum(r => r.End - r.Start);
        var size = Definition.RecordSize;
        var result = GC.AllocateUninitializedArray<byte>((kept + upsertCount) * size); // every byte is written below
        var written = 0;
        var cursor = 0;
        var skip = 0;
        for (var j = 0; j <= upsertCount; j++)
        {
            var until = j < upsertCount ? positions[j] : Count;
            CopyKept(until);
            if (j < upsertCount)
            {
                upserts!._records.AsSpan(j * size, size).CopyTo(result.AsSpan(written * size));
                written++;
            }
        }

        return new BpfMapImage(Definition, MaxEntries, result);

        // Copies the old records from the cursor up to (not including) index `until`, leaving out skipped ranges.
        void CopyKept(int until)
        {
            while (cursor < until)
            {
                while (skip < merged.Count && merged[skip].End <= cursor)
                {
                    skip++;
                }

                if (skip < merged.Count && merged[skip].Start <= cursor)
                {
                    cursor = merged[skip].End; // records up to there are dropped; later upserts still go in key order
                    continue;
                }

                var end = skip < merged.Count ? Math.Min(merged[skip].Start, until) : until;
                _records.AsSpan(cursor * size, (end - cursor) * size).CopyTo(result.AsSpan(written * size));
                written += end - cursor;
                cursor = end;
            }
        }
    }

    /// <summary>Returns the index range of the records whose key starts with <paramref name="prefix"/>.</summary>
    internal (int Start, int End) RangeWithPrefix(ReadOnlySpan<byte> prefix)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (KeyAt(mid)[..prefix.Length].SequenceCompareTo(prefix) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        var start = lo;
        hi = Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (KeyAt(mid)[..prefix.Length].SequenceCompareTo(prefix) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return (start, lo);
    }

    /// <summary>Returns the index of the first record whose key is not below <paramref name="key"/>.</summary>
    private int LowerBound(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (KeyAt(mid).SequenceCompareTo(key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    internal static BpfMapImage FromUnsorted(BpfMapDefinition definition, int maxEntries, byte[] records)
    {
        var size = definition.RecordSize;
        var count = records.Length / size;
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        var keySize = definition.KeySize;
        if (keySize <= 16)
        {
            // Keys of up to 16 bytes sort as big-endian 128-bit numbers, zero-padded: the same order as memcmp.
            var numbers = new UInt128[count];
            Span<byte> padded = stackalloc byte[16];
            for (var i = 0; i < count; i++)
            {
                padded.Clear();
                records.AsSpan(i * size, keySize).CopyTo(padded);
                numbers[i] = BinaryPrimitives.ReadUInt128BigEndian(padded);
            }

            Array.Sort(numbers, order);
        }
        else
        {
            Array.Sort(order, (a, b) => records.AsSpan(a * size, keySize).SequenceCompareTo(records.AsSpan(b * size, keySize)));
        }

        var sorted = new byte[records.Length];
        for (var i = 0; i < count; i++)
        {
            records.AsSpan(order[i] * size, size).CopyTo(sorted.AsSpan(i * size, size));
            if (i > 0 && sorted.AsSpan((i - 1) * size, keySize).SequenceEqual(sorted.AsSpan(i * size, keySize)))
            {
                throw new InvalidOperationException($"{definition.Name}: two entries have the key {Convert.ToHexStringLower(sorted.AsSpan(i * size, keySize))}.");
            }
        }

        return new BpfMapImage(definition, maxEntries, sorted);
    }

    /// <summary>Builds an image from records that must already be sorted by key bytes without duplicates.</summary>
    internal static BpfMapImage FromSorted(BpfMapDefinition definition, int maxEntries, byte[] records)
    {
        var size = definition.RecordSize;
        for (var i = size; i < records.Length; i += size)
        {
            if (records.AsSpan(i - size, definition.KeySize).SequenceCompareTo(records.AsSpan(i, definition.KeySize)) >= 0)
            {
                throw new InvalidDataException($"{definition.Name}: the entries are not sorted by key, or a key repeats, at entry {i / size}.");
            }
        }

        return new BpfMapImage(definition, maxEntries, records);
    }
}
