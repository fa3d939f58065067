using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>A protocol and an inclusive destination-port range; <c>0–65535</c> means every port of the protocol.</summary>
/// <param name="Protocol">The protocol.</param>
/// <param name="First">The first port.</param>
/// <param name="Last">The last port, inclusive.</param>
public readonly record struct PortMatch(TransportProtocol Protocol, int First, int Last)
{
    /// <summary>Gets a value indicating whether every port of the protocol matches.</summary>
    public bool IsAnyPort => First == 0 && Last == 65535;

    /// <summary>Returns whether a protocol and port match.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(TransportProtocol protocol, int port) => protocol == Protocol && port >= First && port <= Last;

    /// <summary>Formats the match as <c>TCP/80</c>, <c>TCP/80-90</c> or <c>TCP/*</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        Protocol.ToKubernetesName() + "/" + (IsAnyPort ? "*" : First == Last ? First.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{First}-{Last}");
}
