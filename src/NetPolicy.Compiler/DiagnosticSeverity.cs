namespace NetPolicy.Compiler;

/// <summary>How serious a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Information, for example a skipped object kind.</summary>
    Info = 0,

    /// <summary>Suspicious but accepted input.</summary>
    Warning = 1,

    /// <summary>Invalid input; the compile fails unless invalid objects are dropped.</summary>
    Error = 2,
}
