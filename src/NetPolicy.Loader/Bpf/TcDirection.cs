namespace NetPolicy.Loader.Bpf;

/// <summary>Which tc hook of an interface a program is attached to.</summary>
public enum TcDirection
{
    /// <summary>Packets the interface receives (tc ingress; BPF_TCX_INGRESS).</summary>
    Ingress,

    /// <summary>Packets the interface sends (tc egress; BPF_TCX_EGRESS).</summary>
    Egress,
}
