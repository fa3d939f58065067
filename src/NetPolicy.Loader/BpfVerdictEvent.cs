using System.Net;
using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Loader;

/// <summary>A verdict the datapath reported: a drop (always) or a newly allowed flow (with <see cref="BpfDatapathOptions.EmitAllowEvents"/>).</summary>
/// <param name="Raw">The event as the kernel wrote it.</param>
public sealed record BpfVerdictEvent(BpfEvent Raw)
{
    /// <summary>Gets a value indicating whether the packet was dropped.</summary>
    public bool Dropped => Raw.Verdict == BpfConstants.VerdictDrop;

    /// <summary>Gets the source address.</summary>
    public IPAddress Source => Unmap(Raw.SourceAddress.ToIPAddress());

    /// <summary>Gets the destination address.</summary>
    public IPAddress Destination => Unmap(Raw.DestinationAddress.ToIPAddress());

    /// <summary>Gets the direction of the endpoint's policy that decided: ingress (the pod receives) or egress (it sends).</summary>
    public string Direction => Raw.Direction == BpfConstants.DirectionIngress ? "ingress" : "egress";

    /// <summary>Gets the reason, as a word: policy, not-isolated, host, default-deny, not-programmed, revoked, spoofed.</summary>
    public string Reason => Raw.Reason switch
    {
        BpfConstants.ReasonPolicy => "policy",
        BpfConstants.ReasonNotIsolated => "not-isolated",
        BpfConstants.ReasonHost => "host",
        BpfConstants.ReasonDefaultDeny => "default-deny",
        BpfConstants.ReasonNotProgrammed => "not-programmed",
        BpfConstants.ReasonRevoked => "revoked",
        BpfConstants.ReasonSpoofed => "spoofed",
        _ => "reason-" + Raw.Reason,
    };

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(Dropped ? "drop" : "allow")} {Direction} endpoint {Raw.Endpoint}: {Source}:{Raw.SourcePort} -> {Destination}:{Raw.DestinationPort} proto {Raw.Protocol} " +
        $"remote identity {Raw.RemoteIdentity} class {Raw.RemoteClass}, {Reason}, rule {Raw.RuleId}";

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
