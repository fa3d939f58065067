using System.Globalization;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing;

/// <summary>One row of a truth table: a connection and its expected verdict.</summary>
/// <param name="From">The source: <c>namespace/name</c> of a pod or workload, <c>namespace/Kind/name</c>, or an IP address.</param>
/// <param name="To">The destination, in the same forms.</param>
/// <param name="Port">The destination port: a number, or a container port name resolved on the destination pod.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="Expected">The expected verdict.</param>
public sealed record ConnectionCase(string From, string To, string Port, TransportProtocol Protocol, Verdict Expected)
{
    /// <summary>Initializes a row with a numeric port.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port, 1–65535.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="expected">The expected verdict.</param>
    public ConnectionCase(string from, string to, int port, TransportProtocol protocol, Verdict expected)
        : this(from, to, port.ToString(CultureInfo.InvariantCulture), protocol, expected)
    {
    }

    /// <summary>Formats the row as <c>from -> to TCP/port: allowed</c>; test runners show it as the theory case name.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"{From} -> {To} {Protocol.ToKubernetesName()}/{Port}: {(Expected == Verdict.Allowed ? "allowed" : "denied")}";
}
