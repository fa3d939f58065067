using Microsoft.Extensions.Logging;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader;

/// <summary>Options of a <see cref="BpfDatapath"/>.</summary>
public sealed class BpfDatapathOptions
{
    /// <summary>Gets or sets the enforcement mode of every endpoint program.</summary>
    /// <value>Default <see cref="BpfEnforcementMode.Conntrack"/>.</value>
    public BpfEnforcementMode Mode { get; set; } = BpfEnforcementMode.Conntrack;

    /// <summary>Gets or sets a value indicating whether newly allowed flows are reported in the event ring buffer too (drops always are).</summary>
    /// <value>Default <see langword="false"/>.</value>
    public bool EmitAllowEvents { get; set; }

    /// <summary>Gets or sets a value indicating whether traffic of an attached endpoint that has no map entry yet passes
    /// (fail open) instead of being dropped (fail closed).</summary>
    /// <value>Default <see langword="false"/>: fail closed.</value>
    public bool FailOpen { get; set; }

    /// <summary>Gets or sets a value indicating whether node-local traffic to pods (identity host: kubelet probes) is policed like any other.</summary>
    /// <value>Default <see langword="false"/>: the node can always reach its pods, as Kubernetes expects.</value>
    public bool PoliceHostTraffic { get; set; }

    /// <summary>Gets or sets how programs attach.</summary>
    /// <value>Default <see cref="TcAttachMode.Auto"/>: tcx, or tc clsact on kernels before 6.6.</value>
    public TcAttachMode AttachMode { get; set; } = TcAttachMode.Auto;

    /// <summary>Gets or sets the map capacities; the same options must be given to <see cref="BpfMapRenderer.Render"/>.</summary>
    /// <value>Default: the renderer's defaults.</value>
    public BpfRenderOptions MapSizes { get; set; } = new();

    /// <summary>Gets or sets the capacity of the conntrack LRU map.</summary>
    /// <value>Default 262,144 flows.</value>
    public int MaxConntrackEntries { get; set; } = 262144;

    /// <summary>Gets or sets a bpffs directory where the shared maps are pinned, so they (and the conntrack state) outlive
    /// the process: a datapath created again with the same directory reuses them, and its first
    /// <see cref="BpfDatapath.Apply"/> removes whatever the new images do not hold.</summary>
    /// <value>Default <see langword="null"/>: nothing is pinned and the maps go when the datapath and its programs do.
    /// The directory is created when missing; its parent must be on a bpffs (for example <c>/sys/fs/bpf/netpolicy</c>;
    /// <c>/sys/fs/bpf</c> is mounted when it is not).</value>
    public string? PinDirectory { get; set; }

    /// <summary>Gets or sets the logger factory.</summary>
    /// <value>Default: no logging.</value>
    public ILoggerFactory? LoggerFactory { get; set; }
}
