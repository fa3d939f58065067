namespace NetPolicy.Loader.Bpf;

/// <summary>How a tc program is attached to an interface.</summary>
public enum TcAttachMode
{
    /// <summary>tcx when the kernel has it (Linux 6.6+), otherwise a clsact qdisc with a cls_bpf filter.</summary>
    Auto,

    /// <summary>A tcx link (Linux 6.6+): owned by a file descriptor, detached when it closes, never clobbers others.</summary>
    Tcx,

    /// <summary>The classic way: a clsact qdisc (created when absent) and a direct-action cls_bpf filter of our own.</summary>
    Clsact,
}
