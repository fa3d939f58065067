using System.Text;

namespace NetPolicy.Loader.Native;

/// <summary>Maps an errno from the kernel or libbpf to the loader's exceptions, with messages that say what to do.</summary>
internal static class KernelErrors
{
    public const string PrivilegeAdvice =
        "This needs root, or CAP_BPF + CAP_NET_ADMIN (+ CAP_SYS_ADMIN to mount bpffs and enter network namespaces); run the node agent as root or grant it those capabilities.";

    public const string InvalidAdvice =
        "The kernel rejected the request as invalid: this kernel cannot do it (too old, or built without the feature), or the arguments do not match the object; compare `uname -r` with the kernel requirements of NetPolicy.Loader.";

    /// <summary>Creates the exception for a failed kernel call.</summary>
    /// <param name="operation">The call, such as <c>bpf_object__load</c>.</param>
    /// <param name="subject">What was being done, as a sentence start: "Loading BPF object 'policy_tc'".</param>
    /// <param name="errno">The positive errno.</param>
    /// <param name="details">What libbpf printed about it ("libbpf: ..." lines), if anything.</param>
    public static KernelOperationException Create(string operation, string subject, int errno, string? details = null) =>
        new(BuildMessage(operation, subject, errno, details), operation, errno);

    /// <summary>Creates the exception for a failed kernel call from a libbpf return value (negative errno).</summary>
    public static KernelOperationException FromResult(string operation, string subject, int result, string? details = null) =>
        Create(operation, subject, LibBpf.ErrnoOf(result), details);

    /// <summary>Creates the exception for a verifier rejection.</summary>
    public static BpfVerifierException Verifier(string objectName, string programName, int errno, string verifierLog)
    {
        var message = new StringBuilder()
            .Append("The kernel verifier rejected BPF program '").Append(programName).Append("' of object '").Append(objectName)
            .Append("' (").Append(Errno.Name(errno)).Append(", ").Append(Errno.Describe(errno)).Append("): ")
            .Append(string.Join(" | ", LastLines(verifierLog, 3)))
            .Append(". The program does not pass this kernel's verifier; the full log is in VerifierLog. Rebuild the object for this kernel, or report the log with `uname -r`.");
        return new BpfVerifierException(message.ToString(), programName, errno, verifierLog);
    }

    /// <summary>Creates the exception for a missing kernel feature.</summary>
    public static KernelFeatureNotSupportedException FeatureMissing(string operation, string subject, int errno, string feature, Version minimumKernelVersion, string alternative)
    {
        string message = $"{subject} failed: {operation} returned {Errno.Name(errno)} ({Errno.Describe(errno)}). This kernel ({Environment.OSVersion.Version}) does not support {feature}, which needs Linux {minimumKernelVersion}+; {alternative}";
        return new KernelFeatureNotSupportedException(message, operation, errno, feature, minimumKernelVersion);
    }

    /// <summary>Returns the advice for an errno: why it usually happens and what to do.</summary>
    public static string Advice(int errno) => errno switch
    {
        Errno.EPERM or Errno.EACCES => PrivilegeAdvice,
        Errno.EINVAL => InvalidAdvice,
        Errno.ENOENT => "The object does not exist (no such map element, pinned path, program or filter); check the name or path.",
        Errno.EEXIST => "The object already exists; remove it first, or use a mode that replaces it.",
        Errno.E2BIG => "The map is full or the request exceeds a kernel limit; raise the map's max entries before load, or delete stale entries.",
        Errno.ENOSPC => "The kernel ran out of room for the request (a full map or a too small buffer); raise the limit and retry.",
        Errno.ENOMEM => "The kernel could not allocate memory for the request; on kernels before 5.11 raise RLIMIT_MEMLOCK (ulimit -l unlimited).",
        Errno.ENODEV or Errno.ENXIO => "There is no such network interface in the calling thread's network namespace; call from a thread that entered the interface's namespace.",
        Errno.EBUSY => "The resource is in use (another program, filter or link holds it); detach that first.",
        Errno.EBADF => "The file descriptor is not an open BPF object of the expected kind; the object may have been closed.",
        Errno.ENOTDIR => "A parent of the path is not a directory; pins must live in a bpffs directory (see BpfFileSystem.EnsureMounted).",
        Errno.ENOLINK => "The link is no longer attached (its interface or network namespace went away).",
        Errno.ENOSYS => "This kernel has no bpf(2) support (CONFIG_BPF_SYSCALL); NetPolicy.Loader cannot run on it.",
        Errno.EOPNOTSUPP or Errno.ENOTSUPP => "This kernel does not support the operation; upgrade the kernel or use a fallback mode.",
        >= Errno.LibBpfErrorBase and < Errno.LibBpfErrorBase + 100 => "libbpf could not process the object (not a BPF ELF object, or malformed); rebuild it with clang -target bpf.",
        _ => "Check the kernel log (dmesg) for details.",
    };

    private static string BuildMessage(string operation, string subject, int errno, string? details)
    {
        var message = new StringBuilder()
            .Append(subject).Append(" failed: ").Append(operation).Append(" returned ").Append(Errno.Name(errno))
            .Append(" (").Append(Errno.Describe(errno)).Append("). ").Append(Advice(errno));
        if (!string.IsNullOrWhiteSpace(details))
        {
            message.Append(Environment.NewLine).Append(details.Trim());
        }

        return message.ToString();
    }

    /// <summary>The last lines of a verifier log, without its closing statistics ("processed 2 insns ...").</summary>
    private static string[] LastLines(string log, int count)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith("processed ", StringComparison.Ordinal) && !line.StartsWith("verification time", StringComparison.Ordinal)
                && !line.StartsWith("stack depth", StringComparison.Ordinal))
            .ToArray();
        return lines.Length == 0 ? ["(empty verifier log)"] : lines[Math.Max(0, lines.Length - count)..];
    }
}
