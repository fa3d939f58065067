namespace NetPolicy.Cli;

/// <summary>The process exit codes of <c>netpol</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command succeeded (for <c>trace</c>: whether the flow is allowed or denied).</summary>
    public const int Success = 0;

    /// <summary>The input has errors (any error diagnostic, an unknown pod or port name) or the tool failed unexpectedly.</summary>
    public const int InputError = 1;

    /// <summary>The command line is wrong: unknown option, missing or invalid value.</summary>
    public const int UsageError = 2;
}
