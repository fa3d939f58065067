namespace NetPolicy.Cli;

/// <summary>A command-line usage error found after parsing (exit code 2).</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>An input error that is not a diagnostic, such as an unknown pod (exit code 1).</summary>
internal sealed class CliInputException(string message) : Exception(message);
