using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Nftables;

namespace NetPolicy.Loader.Lab;

/// <summary>Settings for <see cref="PolicyLab.StartAsync"/>.</summary>
public sealed class PolicyLabOptions
{
    /// <summary>Gets or sets the enforcement backend.</summary>
    /// <value><see cref="LabBackend.Bpf"/> by default.</value>
    public LabBackend Backend { get; set; } = LabBackend.Bpf;

    /// <summary>Gets or sets which pods of the snapshot get a namespace in the lab.</summary>
    /// <value><see langword="null"/> by default: every pod. Fewer pods build faster (about 30 ms each).</value>
    public Func<string, bool>? Pods { get; set; }

    /// <summary>Gets or sets the lab's own options (namespace prefix, probe timeout, retries).</summary>
    /// <value><see langword="null"/> by default: a 700 ms probe timeout and otherwise <see cref="NetworkLabOptions"/>'s defaults.</value>
    public NetworkLabOptions? Lab { get; set; }

    /// <summary>Gets or sets the datapath options for <see cref="LabBackend.Bpf"/>.</summary>
    /// <value><see langword="null"/> by default: <see cref="BpfDatapathOptions"/>'s defaults.</value>
    public BpfDatapathOptions? Bpf { get; set; }

    /// <summary>Gets or sets the render options for <see cref="LabBackend.Iptables"/>.</summary>
    /// <value><see langword="null"/> by default.</value>
    public IptablesRenderOptions? Iptables { get; set; }

    /// <summary>Gets or sets the render options for <see cref="LabBackend.Nftables"/>.</summary>
    /// <value><see langword="null"/> by default.</value>
    public NftablesRenderOptions? Nftables { get; set; }
}
