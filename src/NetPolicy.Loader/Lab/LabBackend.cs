namespace NetPolicy.Loader.Lab;

/// <summary>The enforcement a <see cref="PolicyLab"/> runs between its pods.</summary>
public enum LabBackend
{
    /// <summary>The BPF datapath (<see cref="BpfDatapath"/>) attached to every pod's host-side veth. Needs libbpf.so.1.</summary>
    Bpf,

    /// <summary>iptables and ipset rules (<see cref="Iptables.IptablesApplier"/>) in the node namespace. Needs
    /// <c>iptables-restore</c>, <c>ip6tables-restore</c> and <c>ipset</c>.</summary>
    Iptables,

    /// <summary>An nftables table (<see cref="Nftables.NftablesApplier"/>) in the node namespace. Needs <c>nft</c>.</summary>
    Nftables,
}
