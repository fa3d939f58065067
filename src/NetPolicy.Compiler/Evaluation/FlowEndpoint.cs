using System.Net;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Evaluation;

/// <summary>One side of a flow: a pod of the snapshot, or an address outside it.</summary>
public sealed record FlowEndpoint
{
    private FlowEndpoint()
    {
    }

    /// <summary>Gets the pod, or <see langword="null"/> for an external address.</summary>
    public PodEndpoint? Pod { get; private init; }

    /// <summary>Gets the external address, or <see langword="null"/> for a pod.</summary>
    public IPAddress? Address { get; private init; }

    /// <summary>Creates a pod endpoint.</summary>
    /// <param name="pod">The pod.</param>
    /// <returns>The endpoint.</returns>
    public static FlowEndpoint ForPod(PodEndpoint pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return new FlowEndpoint { Pod = pod };
    }

    /// <summary>Creates an endpoint for an address; an address that belongs to a pod of the snapshot must be given as that pod.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The endpoint.</returns>
    public static FlowEndpoint ForAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new FlowEndpoint { Address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address };
    }

    /// <summary>Formats the endpoint: <c>namespace/name</c> or the address.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Pod?.Key ?? Address!.ToString();
}
