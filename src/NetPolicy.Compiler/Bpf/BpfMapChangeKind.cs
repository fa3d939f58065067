namespace NetPolicy.Compiler.Bpf;

/// <summary>What a <see cref="BpfMapChange"/> does to its entries.</summary>
public enum BpfMapChangeKind
{
    /// <summary>Write each entry (<c>bpf_map_update_elem(key, value, BPF_ANY)</c>): new keys and changed values.</summary>
    Upsert = 0,

    /// <summary>Remove each key: <c>bpf_map_delete_elem(key)</c> for hash and LPM maps; for array maps, which cannot
    /// delete, write the entry's value, which is all zeros.</summary>
    Delete = 1,
}
