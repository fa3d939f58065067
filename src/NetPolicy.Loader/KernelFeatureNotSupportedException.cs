namespace NetPolicy.Loader;

/// <summary>Thrown when the running kernel lacks a feature a requested operation needs, such as tcx.</summary>
public sealed class KernelFeatureNotSupportedException : KernelOperationException
{
    /// <summary>Initializes the exception with a default message.</summary>
    public KernelFeatureNotSupportedException()
        : this("The running kernel does not support a feature this operation needs.")
    {
    }

    /// <summary>Initializes the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public KernelFeatureNotSupportedException(string message)
        : this(message, null)
    {
    }

    /// <summary>Initializes the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public KernelFeatureNotSupportedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Feature = string.Empty;
    }

    /// <summary>Initializes the exception for a missing feature.</summary>
    /// <param name="message">The message: what failed, on which object, and what to do instead.</param>
    /// <param name="operation">The call that failed.</param>
    /// <param name="errno">The positive errno the kernel returned.</param>
    /// <param name="feature">The missing feature, such as <c>tcx</c>.</param>
    /// <param name="minimumKernelVersion">The first Linux version with the feature.</param>
    public KernelFeatureNotSupportedException(string message, string operation, int errno, string feature, Version minimumKernelVersion)
        : base(message, operation, errno)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(minimumKernelVersion);
        Feature = feature;
        MinimumKernelVersion = minimumKernelVersion;
    }

    /// <summary>Gets the missing feature, such as <c>tcx</c>; empty when unknown.</summary>
    public string Feature { get; }

    /// <summary>Gets the first Linux version with the feature, such as 6.6 for tcx; <see langword="null"/> when unknown.</summary>
    public Version? MinimumKernelVersion { get; }
}
