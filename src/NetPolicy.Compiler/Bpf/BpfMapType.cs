namespace NetPolicy.Compiler.Bpf;

/// <summary>The kernel map types the datapath uses; the values are the kernel's <c>BPF_MAP_TYPE_*</c> numbers.</summary>
public enum BpfMapType
{
    /// <summary><c>BPF_MAP_TYPE_HASH</c>.</summary>
    Hash = 1,

    /// <summary><c>BPF_MAP_TYPE_ARRAY</c>: keys are <c>__u32</c> indexes; entries cannot be deleted, only zeroed.</summary>
    Array = 2,

    /// <summary><c>BPF_MAP_TYPE_PERCPU_ARRAY</c>.</summary>
    PerCpuArray = 6,

    /// <summary><c>BPF_MAP_TYPE_LRU_HASH</c>.</summary>
    LruHash = 9,

    /// <summary><c>BPF_MAP_TYPE_LPM_TRIE</c>.</summary>
    LpmTrie = 11,

    /// <summary><c>BPF_MAP_TYPE_RINGBUF</c>.</summary>
    RingBuffer = 27,
}
