using System.Globalization;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis;

/// <summary>A set of destination ports of one protocol that every policy of both sets treats alike.</summary>
/// <remarks>Either an inclusive range that policies name (<see cref="IsOther"/> false), or every port that no policy of
/// either set names specifically (<see cref="IsOther"/> true; <see cref="First"/> and <see cref="Last"/> are then the
/// lowest and highest such port, and the set need not be contiguous).</remarks>
/// <param name="Protocol">The protocol.</param>
/// <param name="First">The first port (for <see cref="IsOther"/>, the lowest port of the class).</param>
/// <param name="Last">The last port, inclusive (for <see cref="IsOther"/>, the highest port of the class).</param>
/// <param name="IsOther">Whether this is the class of the ports no policy names.</param>
public sealed record PortClass(TransportProtocol Protocol, int First, int Last, bool IsOther)
{
    /// <summary>Gets the port the class was evaluated with (<see cref="First"/>).</summary>
    public int RepresentativePort => First;

    /// <summary>Gets a value indicating whether the class is every port of the protocol (no policy of either set names one of its ports).</summary>
    public bool IsAllPorts { get; init; }

    /// <summary>Formats the class: <c>TCP/80</c>, <c>TCP/80-90</c>, <c>TCP/other</c> (ports no policy names) or <c>TCP/*</c> (no policy names any port).</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var proto = Protocol.ToKubernetesName();
        if (IsOther)
        {
            return proto + (IsAllPorts ? "/*" : "/other");
        }

        return First == Last
            ? proto + "/" + First.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{proto}/{First}-{Last}");
    }
}
