namespace NetPolicy.Testing;

/// <summary>The expected outcome of a connection.</summary>
public enum Verdict
{
    /// <summary>The connection must be denied.</summary>
    Denied,

    /// <summary>The connection must be allowed.</summary>
    Allowed,
}
