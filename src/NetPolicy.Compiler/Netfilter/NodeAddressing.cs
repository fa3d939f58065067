using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Netfilter;

/// <summary>What the netfilter renderers need to know about the node: its pod CIDRs (for failing closed on pods that are
/// not programmed yet) and its own addresses (exempt from the pods' ingress policy), validated and sorted per family.</summary>
internal sealed class NodeAddressing
{
    private NodeAddressing(ImmutableArray<IPNetwork> podCidrs, ImmutableArray<IPAddress> hostAddresses, bool failOpen)
    {
        PodCidrs = podCidrs;
        HostAddresses = hostAddresses;
        FailOpen = failOpen;
    }

    /// <summary>Gets the pod CIDRs, normalised (host bits cleared), distinct and sorted.</summary>
    public ImmutableArray<IPNetwork> PodCidrs { get; }

    /// <summary>Gets the host addresses, IPv4-mapped ones as IPv4, distinct and sorted.</summary>
    public ImmutableArray<IPAddress> HostAddresses { get; }

    /// <summary>Gets a value indicating whether unprogrammed pod addresses pass instead of being dropped.</summary>
    public bool FailOpen { get; }

    /// <summary>Validates and normalises the options of a renderer.</summary>
    public static NodeAddressing Create(string optionsName, ImmutableArray<IPNetwork> podCidrs, ImmutableArray<IPAddress> hostAddresses, bool failOpen)
    {
        if (podCidrs.IsDefault)
        {
            throw new ArgumentException($"{optionsName}.PodCidrs is a default ImmutableArray; use [] for none.", optionsName);
        }

        if (hostAddresses.IsDefault)
        {
            throw new ArgumentException($"{optionsName}.HostAddresses is a default ImmutableArray; use [] for none.", optionsName);
        }

        var cidrs = new List<IPNetwork>();
        foreach (var cidr in podCidrs)
        {
            var family = cidr.BaseAddress.AddressFamily;
            if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || cidr.BaseAddress.IsIPv4MappedToIPv6)
            {
                throw new ArgumentException($"{optionsName}.PodCidrs holds '{cidr}', which is not an IPv4 or IPv6 CIDR.", optionsName);
            }

            if (cidr.PrefixLength == 0)
            {
                throw new ArgumentException($"{optionsName}.PodCidrs holds '{cidr}': a pod CIDR of length 0 would fail closed for every address; list the node's pod CIDRs (node.spec.podCIDRs).", optionsName);
            }

            var bits = family == AddressFamily.InterNetwork ? 32 : 128;
            cidrs.Add(new IPNetwork(IPAddressBits.FromUInt128(IPAddressBits.Mask(IPAddressBits.ToUInt128(cidr.BaseAddress), cidr.PrefixLength, bits), family), cidr.PrefixLength));
        }

        var hosts = new List<IPAddress>();
        foreach (var address in hostAddresses)
        {
            if (address is null || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"{optionsName}.HostAddresses holds '{address?.ToString() ?? "null"}', which is not an IPv4 or IPv6 address.", optionsName);
            }

            hosts.Add(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        }

        return new NodeAddressing(
            [.. cidrs.Distinct().OrderBy(c => c.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).ThenBy(c => IPAddressBits.ToUInt128(c.BaseAddress)).ThenBy(c => c.PrefixLength)],
            [.. hosts.Distinct().OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).ThenBy(IPAddressBits.ToUInt128)],
            failOpen);
    }

    /// <summary>Gets the pod CIDRs of one family.</summary>
    public List<IPNetwork> PodCidrsOf(AddressFamily family) => [.. PodCidrs.Where(c => c.BaseAddress.AddressFamily == family)];

    /// <summary>Gets the host addresses of one family.</summary>
    public List<IPAddress> HostAddressesOf(AddressFamily family) => [.. HostAddresses.Where(a => a.AddressFamily == family)];

    /// <summary>Gets a value indicating whether a family fails closed: it has pod CIDRs and <see cref="FailOpen"/> is off.</summary>
    public bool FailsClosed(AddressFamily family) => !FailOpen && PodCidrs.Any(c => c.BaseAddress.AddressFamily == family);

    /// <summary>Gets the programmed pod addresses of one family inside the pod CIDRs, sorted: the addresses of every endpoint of the IR.</summary>
    public List<IPAddress> ProgrammedAddresses(CompiledPolicySet policySet, AddressFamily family)
    {
        var cidrs = PodCidrsOf(family);
        return [.. policySet.Endpoints.Values.SelectMany(e => e.Addresses)
            .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .Where(a => a.AddressFamily == family && cidrs.Exists(c => c.Contains(a)))
            .Distinct()
            .OrderBy(IPAddressBits.ToUInt128)];
    }
}
