namespace NetPolicy.Cli;

/// <summary>The standard streams a command runs with.</summary>
/// <param name="Out">Results.</param>
/// <param name="Error">Diagnostics and errors.</param>
/// <param name="In">What the input path <c>-</c> reads.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, TextReader In);
