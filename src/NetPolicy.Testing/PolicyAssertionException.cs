using System.Collections.Immutable;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;

namespace NetPolicy.Testing;

/// <summary>Thrown when a policy assertion fails; the message says what was expected and carries the reference
/// evaluator's explanation of what happens instead.</summary>
/// <remarks>Test frameworks report any exception as a failure, so these assertions work in xunit, NUnit, MSTest or a
/// plain program alike.</remarks>
public sealed class PolicyAssertionException : NetPolicyException
{
    /// <summary>Initializes the exception with a message and the verdicts of the failing connections.</summary>
    /// <param name="message">The message, explanations included.</param>
    /// <param name="verdicts">The reference verdicts of the connections that did not match.</param>
    public PolicyAssertionException(string message, ImmutableArray<FlowVerdict> verdicts)
        : base(message)
    {
        Verdicts = verdicts.IsDefault ? [] : verdicts;
    }

    /// <summary>Initializes the exception.</summary>
    public PolicyAssertionException()
        : this("A policy assertion failed.", [])
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PolicyAssertionException(string message)
        : this(message, [])
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PolicyAssertionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Verdicts = [];
    }

    /// <summary>Gets the reference verdicts of the connections that did not match (empty for snapshot mismatches).</summary>
    public ImmutableArray<FlowVerdict> Verdicts { get; }
}
