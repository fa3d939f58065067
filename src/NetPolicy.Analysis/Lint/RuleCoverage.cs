using System.Net;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis.Lint;

/// <summary>Decides, from the policy text alone, whether one rule allows every flow another allows.</summary>
/// <remarks>Sound but incomplete: <see cref="Covers"/> returns <see langword="true"/> only when coverage holds for every
/// possible set of pods and namespaces (equal selectors, empty selectors, nested ipBlocks and port ranges).</remarks>
internal static class RuleCoverage
{
    private static readonly TransportProtocol[] s_protocols = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp];

    /// <summary>Returns whether <paramref name="outer"/> provably allows every flow <paramref name="inner"/> allows (both of one policy and direction).</summary>
    public static bool Covers(NetworkPolicyRule outer, NetworkPolicyRule inner) =>
        PeersCover(outer, inner) && PortsCover(outer, inner);

    private static bool PeersCover(NetworkPolicyRule outer, NetworkPolicyRule inner)
    {
        if (outer.Peers.IsEmpty)
        {
            return true;
        }

        return !inner.Peers.IsEmpty && inner.Peers.All(i => outer.Peers.Any(o => PeerCovers(o, i)));
    }

    private static bool PeerCovers(NetworkPolicyPeer outer, NetworkPolicyPeer inner)
    {
        if (outer.Equals(inner))
        {
            return true;
        }

        if (inner.IPBlock is { } innerBlock)
        {
            return outer.IPBlock is { } outerBlock && BlockCovers(outerBlock, innerBlock);
        }

        if (outer.IPBlock is not null)
        {
            return false;
        }

        var namespaces = outer.NamespaceSelector is null
            ? inner.NamespaceSelector is null
            : outer.NamespaceSelector.IsEmpty || outer.NamespaceSelector.Equals(inner.NamespaceSelector);
        var pods = outer.PodSelector is null || outer.PodSelector.IsEmpty || outer.PodSelector.Equals(inner.PodSelector);
        return namespaces && pods;
    }

    private static bool BlockCovers(IPBlock outer, IPBlock inner)
    {
        if (!Contains(outer.Cidr, inner.Cidr))
        {
            return false;
        }

        // Every address the outer block excludes inside the inner CIDR must be excluded by the inner block too.
        foreach (var except in outer.Except)
        {
            if ((Contains(except, inner.Cidr) || Contains(inner.Cidr, except)) && !inner.Except.Any(e => Contains(e, except)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Contains(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily &&
        outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);

    private static bool PortsCover(NetworkPolicyRule outer, NetworkPolicyRule inner)
    {
        if (outer.Ports.IsEmpty)
        {
            return true;
        }

        if (inner.Ports.IsEmpty)
        {
            return s_protocols.All(protocol => outer.Ports.Any(o => o.Protocol == protocol && o.IsAllPorts));
        }

        return inner.Ports.All(i => outer.Ports.Any(o => PortCovers(o, i)));
    }

    private static bool PortCovers(NetworkPolicyPort outer, NetworkPolicyPort inner)
    {
        if (outer.Protocol != inner.Protocol)
        {
            return false;
        }

        if (outer.IsAllPorts)
        {
            return true;
        }

        if (inner.PortName is not null || outer.PortName is not null)
        {
            return string.Equals(inner.PortName, outer.PortName, StringComparison.Ordinal);
        }

        if (inner.Port is not int innerFirst || outer.Port is not int outerFirst)
        {
            return false; // inner is all ports, outer is not.
        }

        return outerFirst <= innerFirst && (inner.EndPort ?? innerFirst) <= (outer.EndPort ?? outerFirst);
    }
}
