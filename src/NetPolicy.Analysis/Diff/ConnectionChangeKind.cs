namespace NetPolicy.Analysis;

/// <summary>How a connection changed between two policy sets.</summary>
public enum ConnectionChangeKind
{
    /// <summary>Denied before, allowed after.</summary>
    Opened = 0,

    /// <summary>Allowed before, denied after.</summary>
    Closed = 1,

    /// <summary>Allowed before and after, by a different rule.</summary>
    Changed = 2,
}
