using System.Collections.Immutable;
using NetPolicy.Compiler;

namespace NetPolicy.Testing;

/// <summary>Thrown when the manifests given to <see cref="PolicyTestCluster"/> have errors; the message lists every error
/// diagnostic with its file:line.</summary>
public sealed class PolicyInputException : NetPolicyException
{
    /// <summary>Initializes the exception from diagnostics.</summary>
    /// <param name="diagnostics">Every diagnostic of the input; the message lists the errors.</param>
    public PolicyInputException(ImmutableArray<PolicyDiagnostic> diagnostics)
        : base(BuildMessage(diagnostics))
    {
        Diagnostics = diagnostics.IsDefault ? [] : diagnostics;
    }

    /// <summary>Initializes the exception with no diagnostics.</summary>
    public PolicyInputException()
        : this([])
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PolicyInputException(string message)
        : base(message)
    {
        Diagnostics = [];
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PolicyInputException(string message, Exception innerException)
        : base(message, innerException)
    {
        Diagnostics = [];
    }

    /// <summary>Gets every diagnostic of the input, warnings included.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    private static string BuildMessage(ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        var errors = diagnostics.IsDefault ? [] : diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        return errors.Count == 0
            ? "The policy test input is invalid."
            : $"The policy test input has {errors.Count} error(s):{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}";
    }
}
