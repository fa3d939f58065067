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

    /// <summary>The BPF datapath's shared maps were created (Information, once per datapath).</summary>
    public const int BpfDatapathCreated = 2001;

    /// <summary>Map images were written to the BPF datapath (Debug).</summary>
    public const int BpfMapsApplied = 2002;

    /// <summary>An endpoint's BPF programs were loaded (Debug).</summary>
    public const int BpfEndpointLoaded = 2003;

    /// <summary>An endpoint was attached with tc clsact because the kernel has no tcx (Warning).</summary>
    public const int BpfAttachedWithClsact = 2004;
}
