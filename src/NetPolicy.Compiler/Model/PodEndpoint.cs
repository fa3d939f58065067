using System.Collections.Immutable;
using System.Net;

namespace NetPolicy.Compiler.Model;

/// <summary>A pod reduced to what policy evaluation needs.</summary>
public sealed record PodEndpoint
{
    /// <summary>Gets the namespace the pod runs in.</summary>
    public required string Namespace { get; init; }

    /// <summary>Gets the pod name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the pod labels, never <see langword="null"/>.</summary>
    public required LabelSet Labels { get; init; }

    /// <summary>Gets the pod IPs (at most one per family), IPv4 first.</summary>
    public ImmutableArray<IPAddress> Addresses { get; init; } = [];

    /// <summary>Gets the named container ports, sorted by name then protocol.</summary>
    public ImmutableArray<NamedPort> NamedPorts { get; init; } = [];

    /// <summary>Gets a value indicating whether the addresses were assigned from the configured pool rather than read from <c>status.podIPs</c>.</summary>
    public bool AddressesAssigned { get; init; }

    /// <summary>Gets the node the pod is scheduled on (<c>spec.nodeName</c>), or <see langword="null"/> when it is not
    /// bound to a node (workload templates, pending pods).</summary>
    /// <remarks>Policy semantics never depend on it; it tells a node agent or <c>netpol compile --node</c> which pods are
    /// local endpoints (see <see cref="Bpf.BpfRenderOptions.LocalEndpoints"/>).</remarks>
    public string? NodeName { get; init; }

    /// <summary>Gets the pod's key, <c>namespace/name</c>.</summary>
    public string Key => Namespace + "/" + Name;

    /// <summary>Returns the pod address of the family, if it has one.</summary>
    /// <param name="family">The address family.</param>
    /// <returns>The address, or <see langword="null"/>.</returns>
    public IPAddress? AddressOf(System.Net.Sockets.AddressFamily family)
    {
        foreach (var address in Addresses)
        {
            if (address.AddressFamily == family)
            {
                return address;
            }
        }

        return null;
    }

    /// <summary>Resolves a named port against this pod's container ports, protocol included.</summary>
    /// <param name="name">The port name.</param>
    /// <param name="protocol">The protocol the policy port names.</param>
    /// <returns>The port number, or <see langword="null"/> when the pod has no such port.</returns>
    public int? ResolveNamedPort(string name, TransportProtocol protocol)
    {
        foreach (var port in NamedPorts)
        {
            if (port.Protocol == protocol && string.Equals(port.Name, name, StringComparison.Ordinal))
            {
                return port.Port;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public bool Equals(PodEndpoint? other) =>
        other is not null &&
        string.Equals(Namespace, other.Namespace, StringComparison.Ordinal) &&
        string.Equals(Name, other.Name, StringComparison.Ordinal) &&
        Labels.Equals(other.Labels) &&
        Addresses.SequenceEqual(other.Addresses) &&
        NamedPorts.SequenceEqual(other.NamedPorts) &&
        AddressesAssigned == other.AddressesAssigned &&
        string.Equals(NodeName, other.NodeName, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Namespace, Name, Labels);
}
