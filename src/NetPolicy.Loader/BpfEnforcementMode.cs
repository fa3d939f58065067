namespace NetPolicy.Loader;

/// <summary>What the datapath does with established flows when policy changes.</summary>
public enum BpfEnforcementMode
{
    /// <summary>A flow allowed once passes until it closes or idles out, as with netfilter conntrack (Calico, kube-router,
    /// and our iptables/nftables backends): established connections survive a tightening. The default.</summary>
    Conntrack = 0,

    /// <summary>Every forward packet of an established flow is re-checked (as Cilium does); a flow the policy no longer
    /// allows is cut at its next packet.</summary>
    Strict = 1,
}
