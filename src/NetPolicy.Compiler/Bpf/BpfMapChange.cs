using System.Collections.Immutable;

namespace NetPolicy.Compiler.Bpf;

/// <summary>One step of a <see cref="BpfMapDelta"/>: entries to upsert into, or delete from, one map.</summary>
public sealed class BpfMapChange
{
    internal BpfMapChange(BpfMapImage map, BpfMapChangeKind kind, ImmutableArray<BpfMapEntry> entries)
    {
        Map = map.Name;
        MapType = map.Type;
        Kind = kind;
        Entries = entries;
    }

    /// <summary>Gets the map name.</summary>
    public string Map { get; }

    /// <summary>Gets the map type.</summary>
    public BpfMapType MapType { get; }

    /// <summary>Gets what to do with the entries.</summary>
    public BpfMapChangeKind Kind { get; }

    /// <summary>Gets the entries, sorted by key bytes. For <see cref="BpfMapChangeKind.Delete"/> the value is empty for
    /// hash and LPM maps (delete the key) and all zeros for array maps (write it).</summary>
    public ImmutableArray<BpfMapEntry> Entries { get; }

    /// <summary>Gets a value indicating whether applying the change writes values (<c>bpf_map_update_elem</c>) rather than deleting keys.</summary>
    public bool WritesValues => Kind == BpfMapChangeKind.Upsert || MapType is BpfMapType.Array or BpfMapType.PerCpuArray;

    /// <summary>Formats the change, for example <c>upsert np_policy: 12 entries</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{(Kind == BpfMapChangeKind.Upsert ? "upsert" : "delete")} {Map}: {Entries.Length} entries";
}
