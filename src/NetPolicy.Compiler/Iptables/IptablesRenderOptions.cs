using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler.Netfilter;

namespace NetPolicy.Compiler.Iptables;

/// <summary>Settings for <see cref="IptablesRenderer.Render(Ir.CompiledPolicySet, IptablesRenderOptions?)"/>.</summary>
public sealed class IptablesRenderOptions
{
    /// <summary>Gets or sets how packets of tracked connections are treated.</summary>
    /// <value>The default is <see cref="IptablesConntrackMode.Conntrack"/>.</value>
    public IptablesConntrackMode ConntrackMode { get; set; } = IptablesConntrackMode.Conntrack;

    /// <summary>Gets or sets the pod CIDRs of this node (<c>node.spec.podCIDRs</c>): the addresses a pod on this node can have.</summary>
    /// <value>Empty by default: no address counts as a pod of this node, so nothing fails closed. Host bits are ignored; a
    /// length of 0 is refused.</value>
    /// <remarks>A packet from or to an address inside these CIDRs that is not an address of an endpoint of the compiled
    /// policy set (a pod that is not programmed yet) is dropped, unless <see cref="FailOpen"/> is set; this is what the
    /// BPF datapath does for an attached pod without endpoint entry (<c>BpfDatapathOptions.FailOpen</c>).</remarks>
    public ImmutableArray<IPNetwork> PodCidrs { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether traffic of a pod address (inside <see cref="PodCidrs"/>) that is not
    /// programmed yet passes (fail open) instead of being dropped (fail closed).</summary>
    /// <value>Default <see langword="false"/>: fail closed, the same default and meaning as <c>BpfDatapathOptions.FailOpen</c>.</value>
    public bool FailOpen { get; set; }

    /// <summary>Gets or sets the node's own addresses: traffic from them to a pod is not policed by the pod's ingress
    /// policy, so kubelet probes reach pods behind a default deny.</summary>
    /// <value>Empty by default: traffic the node sends to its pods is policed like any other (its source is matched as
    /// what the ipcache says, usually world). IPv4-mapped IPv6 addresses are taken as IPv4.</value>
    /// <remarks>The same list and meaning as <c>BpfRenderOptions.HostAddresses</c>: only the destination pod's ingress
    /// policy is skipped; a pod's egress to the node is still policed. Node-originated packets are seen in the
    /// <c>OUTPUT</c> hook (forwarded ones in <c>FORWARD</c>).</remarks>
    public ImmutableArray<IPAddress> HostAddresses { get; set; } = [];

    internal NodeAddressing Validate()
    {
        if (!Enum.IsDefined(ConntrackMode))
        {
            throw new ArgumentException($"IptablesRenderOptions.ConntrackMode has the undefined value {(int)ConntrackMode}; use Conntrack or Strict.", nameof(ConntrackMode));
        }

        return NodeAddressing.Create(nameof(IptablesRenderOptions), PodCidrs, HostAddresses, FailOpen);
    }
}
