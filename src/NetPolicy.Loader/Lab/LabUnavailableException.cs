using NetPolicy.Compiler;

namespace NetPolicy.Loader.Lab;

/// <summary>Thrown by <see cref="PolicyLab.StartAsync"/> when this machine cannot run a lab with the chosen backend: not
/// Linux, not root, or a tool or library missing.</summary>
public sealed class LabUnavailableException : NetPolicyException
{
    /// <summary>Initializes the exception.</summary>
    public LabUnavailableException()
        : this("The network-namespace lab cannot run here.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">What is missing and what to do.</param>
    public LabUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What is missing and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public LabUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
