namespace NetPolicy.Cli;

/// <summary>The process exit codes of <c>netpol</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command succeeded (for <c>trace</c>: whether the flow is allowed or denied; for <c>lint</c>: no finding at or above <c>--fail-on</c>).</summary>
    public const int Success = 0;

    /// <summary>The input has errors (any error diagnostic, an unknown pod or port name) or the tool failed unexpectedly.</summary>
    public const int InputError = 1;

    /// <summary><c>lint</c> found something at or above its <c>--fail-on</c> severity.</summary>
    public const int LintFindings = 1;

    /// <summary>The command line is wrong: unknown option, missing or invalid value.</summary>
    public const int UsageError = 2;

    /// <summary><c>diff --fail-on-open</c>: the after set allows a connection the before set denies.</summary>
    public const int ConnectionsOpened = 3;
}
