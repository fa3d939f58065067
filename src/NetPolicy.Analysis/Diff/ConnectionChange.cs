namespace NetPolicy.Analysis;

/// <summary>A connection whose verdict differs between two policy sets: source, destination, ports, and both sides' verdicts.</summary>
public sealed record ConnectionChange
{
    /// <summary>Gets how the connection changed.</summary>
    public required ConnectionChangeKind Kind { get; init; }

    /// <summary>Gets the source.</summary>
    public required ConnectionEndpoint Source { get; init; }

    /// <summary>Gets the destination.</summary>
    public required ConnectionEndpoint Destination { get; init; }

    /// <summary>Gets the destination ports.</summary>
    public required PortClass Ports { get; init; }

    /// <summary>Gets the before set's verdict.</summary>
    public required ConnectionVerdict Before { get; init; }

    /// <summary>Gets the after set's verdict.</summary>
    public required ConnectionVerdict After { get; init; }

    /// <summary>Explains the change in one line: for opened and changed ones the rules that allow it after, for closed ones the policies that deny it.</summary>
    /// <returns>The text.</returns>
    public string Explain() => Kind switch
    {
        ConnectionChangeKind.Opened => After.Explain(),
        ConnectionChangeKind.Closed => After.Explain() + " (before: " + Before.Explain() + ")",
        _ => After.Explain() + " (before: " + Before.Explain() + ")",
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Source} -> {Destination} {Ports}: {Explain()}";
}
