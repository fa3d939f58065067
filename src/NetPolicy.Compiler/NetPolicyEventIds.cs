namespace NetPolicy.Compiler;

/// <summary>Logging event identifiers: 1000s compiler, 2000s loader, 3000s CLI. Never renumbered or reused.</summary>
public static class NetPolicyEventIds
{
    /// <summary>A compile finished (Information, once per compile).</summary>
    public const int CompileCompleted = 1000;

    /// <summary>A compile failed because the input has errors (Information).</summary>
    public const int CompileFailed = 1001;

    /// <summary>One policy was compiled (Debug).</summary>
    public const int PolicyCompiled = 1002;

    /// <summary>An incremental compile reused the previous numbering (Debug).</summary>
    public const int IncrementalCompile = 1003;
}
