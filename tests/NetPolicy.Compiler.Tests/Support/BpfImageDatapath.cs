using System.Net;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Support;

/// <summary>
/// A C# emulation of the policy decision of <c>bpf-templates/policy_tc.bpf.c</c> (<c>np_handle</c> for the first packet of
/// a flow, without conntrack) over the typed views of <see cref="BpfMapImages"/>: np_ipcache_lookup (host hash, then
/// longest prefix over the LPM entries), the endpoint's PRESENT and isolation flags, the rule set's flags and port
/// prefix-length masks, the three remotes (identity, address class, any), protocol-wildcard entries and prefix-masked ports.
/// A flow between two pods passes the source's np_from_pod (egress) and the destination's np_to_pod (ingress);
/// addresses outside the cluster have no program.
/// </summary>
internal sealed class BpfImageDatapath
{
    private readonly Dictionary<BpfAddress, BpfIPCacheValue> _host;
    private readonly Dictionary<(uint PrefixLength, BpfAddress Address), BpfIPCacheValue> _lpm;
    private readonly Dictionary<uint, BpfEndpointValue> _endpoints;
    private readonly Dictionary<uint, BpfRuleSetValue> _ruleSets;
    private readonly Dictionary<BpfPolicyKey, BpfPolicyValue> _policy;
    private readonly uint _configFlags;

    public BpfImageDatapath(BpfMapImages images, uint configFlags = 0)
    {
        _host = images.IPCacheHost.ToDictionary(e => e.Key.Address, e => e.Value);

        // An LPM trie matches the first prefixlen bits of the stored key; store them masked as the kernel compares them.
        _lpm = images.IPCacheLpm.ToDictionary(e => (e.Key.PrefixLength, e.Key.Address.Mask((int)e.Key.PrefixLength)), e => e.Value);
        _endpoints = images.Endpoints.ToDictionary(e => e.Key, e => e.Value);
        _ruleSets = images.RuleSets.ToDictionary(e => e.Key, e => e.Value);
        _policy = images.Policy.ToDictionary(e => e.Key, e => e.Value);
        _configFlags = configFlags;
    }

    /// <summary>Decides the first packet of a flow: the source pod's egress program (if the source is a pod) and the
    /// destination pod's ingress program (if the destination is a pod) must both pass it.</summary>
    public FlowDecision Decide(uint? sourceEndpoint, IPAddress source, uint? destinationEndpoint, IPAddress destination, byte protocol, int port)
    {
        var src = BpfAddress.FromIPAddress(source);
        var dst = BpfAddress.FromIPAddress(destination);
        var egress = sourceEndpoint is uint s ? Handle(s, BpfConstants.DirectionEgress, src, dst, protocol, (ushort)port) : null;
        var ingress = destinationEndpoint is uint d ? Handle(d, BpfConstants.DirectionIngress, src, dst, protocol, (ushort)port) : null;
        return new FlowDecision(egress, ingress);
    }

    /// <summary>np_ipcache_lookup: the host hash first, then the LPM trie with a /128 key.</summary>
    public BpfIPCacheValue? LookupIPCache(BpfAddress address)
    {
        if (_host.TryGetValue(address, out var value))
        {
            return value;
        }

        for (var length = 128; length >= 0; length--)
        {
            if (_lpm.TryGetValue(((uint)length, address.Mask(length)), out value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>np_handle without conntrack: the verdict of one program for a new flow.</summary>
    public ProgramVerdict Handle(uint endpoint, byte direction, BpfAddress source, BpfAddress destination, byte protocol, ushort port)
    {
        if (!_endpoints.TryGetValue(endpoint, out var ep) || (ep.Flags & BpfConstants.EndpointPresent) == 0)
        {
            return (_configFlags & BpfConstants.ConfigFailOpen) != 0
                ? new ProgramVerdict(true, BpfConstants.ReasonNotIsolated, BpfConstants.RuleNone)
                : new ProgramVerdict(false, BpfConstants.ReasonNotProgrammed, BpfConstants.RuleNotProgrammed);
        }

        var isolated = (ep.Flags & (direction == BpfConstants.DirectionIngress ? BpfConstants.EndpointIngressIsolated : BpfConstants.EndpointEgressIsolated)) != 0;
        var ruleSet = direction == BpfConstants.DirectionIngress ? ep.IngressRuleSet : ep.EgressRuleSet;
        if (!isolated)
        {
            return new ProgramVerdict(true, BpfConstants.ReasonNotIsolated, BpfConstants.RuleNone);
        }

        var remote = LookupIPCache(direction == BpfConstants.DirectionIngress ? source : destination);
        if (remote is { Identity: BpfConstants.IdentityHost } && direction == BpfConstants.DirectionIngress && (_configFlags & BpfConstants.ConfigPoliceHost) == 0)
        {
            return new ProgramVerdict(true, BpfConstants.ReasonHost, BpfConstants.RuleHost);
        }

        var rule = PolicyLookup(ruleSet, direction, remote, protocol, port);
        return rule is { } value
            ? new ProgramVerdict(true, BpfConstants.ReasonPolicy, value.RuleId)
            : new ProgramVerdict(false, BpfConstants.ReasonDefaultDeny, BpfConstants.RuleDefaultDeny);
    }

    /// <summary>np_policy_lookup.</summary>
    public BpfPolicyValue? PolicyLookup(uint ruleSet, byte direction, BpfIPCacheValue? remote, byte protocol, ushort port)
    {
        if (!_ruleSets.TryGetValue(ruleSet, out var rs) || (rs.Flags & BpfConstants.RuleSetPresent) == 0)
        {
            return null;
        }

        var plens = rs.PortPrefixLengths(protocol);
        if ((rs.Flags & BpfConstants.RuleSetRemoteIdentity) != 0 && remote is { } r1 && Remote(r1.Identity) is { } byIdentity)
        {
            return byIdentity;
        }

        if ((rs.Flags & BpfConstants.RuleSetRemoteClass) != 0 && remote is { AddressClass: not 0 } r2 && Remote(r2.AddressClass) is { } byClass)
        {
            return byClass;
        }

        return (rs.Flags & BpfConstants.RuleSetRemoteAny) != 0 ? Remote(BpfConstants.RemoteAny) : null;

        // np_policy_remote
        BpfPolicyValue? Remote(uint remoteId)
        {
            if ((rs.Flags & BpfConstants.RuleSetAnyProtocol) != 0 &&
                _policy.TryGetValue(new BpfPolicyKey(ruleSet, remoteId, 0, 0, 0, direction), out var any) && any.Action == BpfConstants.ActionAllow)
            {
                return any;
            }

            for (var plen = 16; plen >= 0; plen--)
            {
                if ((plens & (1u << plen)) == 0)
                {
                    continue;
                }

                var masked = plen == 0 ? (ushort)0 : (ushort)(port & (ushort)(0xffff << (16 - plen)));
                if (_policy.TryGetValue(new BpfPolicyKey(ruleSet, remoteId, masked, protocol, (byte)plen, direction), out var value) && value.Action == BpfConstants.ActionAllow)
                {
                    return value;
                }
            }

            return null;
        }
    }

    /// <summary>What one program decided.</summary>
    public sealed record ProgramVerdict(bool Allowed, ushort Reason, uint RuleId);

    /// <summary>What both programs decided; a program is <see langword="null"/> when that side is not a pod.</summary>
    public sealed record FlowDecision(ProgramVerdict? Egress, ProgramVerdict? Ingress)
    {
        public bool Allowed => (Egress?.Allowed ?? true) && (Ingress?.Allowed ?? true);

        public override string ToString() =>
            $"egress {(Egress is null ? "-" : $"{(Egress.Allowed ? "pass" : "drop")} reason {Egress.Reason} rule {Egress.RuleId:x}")}, " +
            $"ingress {(Ingress is null ? "-" : $"{(Ingress.Allowed ? "pass" : "drop")} reason {Ingress.Reason} rule {Ingress.RuleId:x}")}";
    }

    /// <summary>The IP protocol number of a transport protocol.</summary>
    public static byte Protocol(TransportProtocol protocol) => (byte)protocol;
}
