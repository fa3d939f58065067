namespace NetPolicy.Compiler.Model;

/// <summary>One <c>ports</c> entry of a rule, after API-server defaulting (protocol TCP when omitted).</summary>
public sealed record NetworkPolicyPort
{
    /// <summary>Gets the protocol.</summary>
    public TransportProtocol Protocol { get; init; } = TransportProtocol.Tcp;

    /// <summary>Gets the port number, or <see langword="null"/> when the entry names a port or only a protocol.</summary>
    public int? Port { get; init; }

    /// <summary>Gets the port name, resolved against the destination pod's container ports.</summary>
    public string? PortName { get; init; }

    /// <summary>Gets the last port of a range starting at <see cref="Port"/>, inclusive.</summary>
    public int? EndPort { get; init; }

    /// <summary>Gets a value indicating whether the entry matches every port of its protocol.</summary>
    public bool IsAllPorts => Port is null && PortName is null;

    /// <summary>Returns whether a destination port matches, resolving a named port against the destination pod.</summary>
    /// <param name="protocol">The connection protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="destinationPod">The destination pod, or <see langword="null"/> for an external destination (named ports never match it).</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(TransportProtocol protocol, int port, PodEndpoint? destinationPod)
    {
        if (protocol != Protocol)
        {
            return false;
        }

        if (PortName is not null)
        {
            return destinationPod?.ResolveNamedPort(PortName, Protocol) == port;
        }

        if (Port is not int first)
        {
            return true;
        }

        return EndPort is int last ? port >= first && port <= last : port == first;
    }

    /// <summary>Formats the entry, for example <c>TCP/8080</c>, <c>TCP/http</c>, <c>UDP/1000-2000</c> or <c>SCTP/*</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var proto = Protocol.ToKubernetesName();
        if (PortName is not null)
        {
            return proto + "/" + PortName;
        }

        if (Port is not int first)
        {
            return proto + "/*";
        }

        return EndPort is int last ? $"{proto}/{first}-{last}" : $"{proto}/{first}";
    }
}
