namespace NetPolicy.Loader;

/// <summary>Thrown when the kernel verifier rejects a BPF program while its object loads.</summary>
/// <remarks>
/// The message quotes the last lines of the verifier log, which usually name the failing instruction;
/// <see cref="VerifierLog"/> holds the whole log (the tail, when the kernel truncated a very long one).
/// </remarks>
public sealed class BpfVerifierException : KernelOperationException
{
    /// <summary>Initializes the exception with a default message.</summary>
    public BpfVerifierException()
        : this("The kernel verifier rejected a BPF program.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public BpfVerifierException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public BpfVerifierException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ProgramName = string.Empty;
        VerifierLog = string.Empty;
    }

    /// <summary>Initializes the exception for a rejected program.</summary>
    /// <param name="message">The short message.</param>
    /// <param name="programName">The program the verifier rejected.</param>
    /// <param name="errno">The positive errno of the load (usually EACCES or EINVAL).</param>
    /// <param name="verifierLog">The verifier log.</param>
    public BpfVerifierException(string message, string programName, int errno, string verifierLog)
        : base(message, "BPF_PROG_LOAD", errno)
    {
        ArgumentNullException.ThrowIfNull(programName);
        ArgumentNullException.ThrowIfNull(verifierLog);
        ProgramName = programName;
        VerifierLog = verifierLog;
    }

    /// <summary>Gets the name of the program the verifier rejected; empty when unknown.</summary>
    public string ProgramName { get; }

    /// <summary>Gets the full verifier log of the rejected program.</summary>
    public string VerifierLog { get; }
}
