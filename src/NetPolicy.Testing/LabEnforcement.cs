namespace NetPolicy.Testing;

/// <summary>The kernel enforcement a <see cref="PolicyTestLab"/> runs.</summary>
public enum LabEnforcement
{
    /// <summary>The BPF datapath attached to every pod's veth (needs libbpf.so.1).</summary>
    Bpf,

    /// <summary>iptables and ipset rules in the lab's node namespace (needs iptables and ipset).</summary>
    Iptables,

    /// <summary>An nftables table in the lab's node namespace (needs nft).</summary>
    Nftables,
}
