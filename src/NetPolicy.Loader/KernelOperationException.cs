using NetPolicy.Compiler;

namespace NetPolicy.Loader;

/// <summary>Thrown when the kernel (through a bpf(2), netlink or mount call) refuses an operation of the loader.</summary>
/// <remarks>
/// <see cref="Errno"/> tells why: <c>EPERM</c>/<c>EACCES</c> mean missing privileges (root, or CAP_BPF +
/// CAP_NET_ADMIN, + CAP_SYS_ADMIN to mount bpffs); <c>EINVAL</c> usually means this kernel cannot do the request.
/// The message says what failed, on which object, why, and what to do.
/// </remarks>
public class KernelOperationException : NetPolicyException
{
    /// <summary>Initializes the exception with a default message.</summary>
    public KernelOperationException()
        : this("A kernel operation failed.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KernelOperationException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public KernelOperationException(string message, Exception? innerException)
        : this(message, string.Empty, 0, innerException)
    {
    }

    /// <summary>Initializes the exception for a failed kernel call.</summary>
    /// <param name="message">The message: what failed, on which object, why, and what to do.</param>
    /// <param name="operation">The call that failed, such as <c>bpf_object__load</c> or <c>BPF_LINK_CREATE</c>.</param>
    /// <param name="errno">The positive errno the kernel returned.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public KernelOperationException(string message, string operation, int errno, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(operation);
        Operation = operation;
        Errno = errno;
    }

    /// <summary>Gets the call that failed, such as <c>bpf_object__load</c> or <c>BPF_LINK_CREATE</c>; empty when unknown.</summary>
    public string Operation { get; }

    /// <summary>Gets the positive errno the kernel returned (1 = EPERM, 22 = EINVAL, ...); 0 when unknown.</summary>
    public int Errno { get; }
}
