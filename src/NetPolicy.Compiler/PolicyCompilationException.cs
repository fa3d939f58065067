using System.Collections.Immutable;

namespace NetPolicy.Compiler;

/// <summary>Thrown by <see cref="CompilationResult.ThrowIfErrors"/>; carries every diagnostic of the compile.</summary>
public sealed class PolicyCompilationException : NetPolicyException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="diagnostics">The diagnostics.</param>
    public PolicyCompilationException(ImmutableArray<PolicyDiagnostic> diagnostics)
        : base(BuildMessage(diagnostics))
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Initializes the exception with no diagnostics.</summary>
    public PolicyCompilationException()
        : this([])
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PolicyCompilationException(string message)
        : base(message)
    {
        Diagnostics = [];
    }

    /// <summary>Initializes the exception with a message and inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public PolicyCompilationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Diagnostics = [];
    }

    /// <summary>Gets every diagnostic of the compile.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    private static string BuildMessage(ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        return errors.Count == 0
            ? "The compile failed."
            : $"The compile failed with {errors.Count} error(s):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}";
    }
}
