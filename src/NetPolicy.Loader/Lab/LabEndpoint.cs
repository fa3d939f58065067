using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader.Lab;

/// <summary>A pod of a running lab: its namespace and the host side of its veth pair, where a datapath attaches.</summary>
/// <param name="Key">The pod key, <c>namespace/name</c>.</param>
/// <param name="Namespace">The pod's network namespace.</param>
/// <param name="HostInterface">The host-side interface name, in the node namespace.</param>
/// <param name="HostInterfaceIndex">The host-side interface index, in the node namespace.</param>
/// <param name="Addresses">The pod's addresses.</param>
public sealed record LabEndpoint(string Key, NetworkNamespace Namespace, string HostInterface, int HostInterfaceIndex, ImmutableArray<IPAddress> Addresses)
{
    /// <summary>Returns the pod's address of a family.</summary>
    /// <param name="family">The family.</param>
    /// <returns>The address, or <see langword="null"/>.</returns>
    public IPAddress? AddressOf(AddressFamily family) => Addresses.FirstOrDefault(a => a.AddressFamily == family);
}
