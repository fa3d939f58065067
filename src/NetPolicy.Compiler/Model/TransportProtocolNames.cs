using System.Diagnostics.CodeAnalysis;

namespace NetPolicy.Compiler.Model;

/// <summary>Converts <see cref="TransportProtocol"/> values to and from their Kubernetes spelling.</summary>
public static class TransportProtocolNames
{
    /// <summary>Gets every protocol in a stable order (TCP, UDP, SCTP).</summary>
    public static IReadOnlyList<TransportProtocol> All { get; } = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp];

    /// <summary>Returns the Kubernetes spelling (<c>TCP</c>, <c>UDP</c>, <c>SCTP</c>).</summary>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The upper-case name.</returns>
    public static string ToKubernetesName(this TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => "TCP",
        TransportProtocol.Udp => "UDP",
        TransportProtocol.Sctp => "SCTP",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown transport protocol."),
    };

    /// <summary>Parses a protocol name; Kubernetes spells them in upper case, and so must the input.</summary>
    /// <param name="value">The name, for example <c>TCP</c>.</param>
    /// <param name="protocol">The parsed protocol.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is <c>TCP</c>, <c>UDP</c> or <c>SCTP</c>.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, out TransportProtocol protocol)
    {
        switch (value)
        {
            case "TCP": protocol = TransportProtocol.Tcp; return true;
            case "UDP": protocol = TransportProtocol.Udp; return true;
            case "SCTP": protocol = TransportProtocol.Sctp; return true;
            default: protocol = default; return false;
        }
    }

    /// <summary>Parses a protocol name ignoring case, for command-line input.</summary>
    /// <param name="value">The name, for example <c>tcp</c>.</param>
    /// <param name="protocol">The parsed protocol.</param>
    /// <returns><see langword="true"/> when the name is known.</returns>
    public static bool TryParseIgnoreCase([NotNullWhen(true)] string? value, out TransportProtocol protocol)
        => TryParse(value?.ToUpperInvariant(), out protocol);
}
