namespace NetPolicy.Compiler;

/// <summary>What happens to objects that fail validation.</summary>
public enum InvalidObjectHandling
{
    /// <summary>The snapshot has errors and the compile fails; nothing applies half-way.</summary>
    Fail = 0,

    /// <summary>Invalid objects are dropped (with a warning each) and the rest compiles.</summary>
    Skip = 1,
}
