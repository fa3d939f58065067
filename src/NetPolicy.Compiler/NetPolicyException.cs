namespace NetPolicy.Compiler;

/// <summary>The base of every exception NetPolicy throws for a failure it detected (bad policies, kernel errors).</summary>
/// <remarks>
/// Catch it to handle any NetPolicy failure in one place. Caller misuse (a <see langword="null"/> argument, a call in
/// the wrong state) raises the standard <see cref="ArgumentException"/> and <see cref="InvalidOperationException"/>
/// instead.
/// </remarks>
public abstract class NetPolicyException : Exception
{
    /// <summary>Initializes the exception with a default message.</summary>
    protected NetPolicyException()
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message: what failed, on which object, why, and what to do.</param>
    protected NetPolicyException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message: what failed, on which object, why, and what to do.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    protected NetPolicyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
