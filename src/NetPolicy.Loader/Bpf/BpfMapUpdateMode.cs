namespace NetPolicy.Loader.Bpf;

/// <summary>How a map update treats an existing element: the BPF_ANY, BPF_NOEXIST and BPF_EXIST flags of bpf_map_update_elem.</summary>
public enum BpfMapUpdateMode
{
    /// <summary>Create the element or replace it (BPF_ANY).</summary>
    Any = 0,

    /// <summary>Create the element only if the key is absent; otherwise the update fails with EEXIST (BPF_NOEXIST).</summary>
    NoExist = 1,

    /// <summary>Replace the element only if the key is present; otherwise the update fails with ENOENT (BPF_EXIST).</summary>
    Exist = 2,
}
