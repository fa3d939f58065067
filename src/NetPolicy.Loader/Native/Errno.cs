namespace NetPolicy.Loader.Native;

/// <summary>The Linux errno values the loader handles by name (asm-generic/errno*.h, identical on x86-64 and arm64).</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;
    public const int ENOSYS = 38;
    public const int ENOLINK = 67;
    public const int EOPNOTSUPP = 95;
    public const int ECANCELED = 125;

    /// <summary>The kernel-internal "operation not supported" (include/linux/errno.h) that some bpf commands leak.</summary>
    public const int ENOTSUPP = 524;

    /// <summary>Returns the symbolic name of an errno ("EPERM"), or "errno N" for values without a name here.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        E2BIG => "E2BIG",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR",
        EINVAL => "EINVAL",
        EMFILE => "EMFILE",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ENOSYS => "ENOSYS",
        ENOLINK => "ENOLINK",
        EOPNOTSUPP => "EOPNOTSUPP",
        ECANCELED => "ECANCELED",
        ENOTSUPP => "ENOTSUPP",
        >= LibBpfErrorBase and < LibBpfErrorBase + 100 => $"libbpf error {errno}",
        _ => $"errno {errno}",
    };

    /// <summary>The first of libbpf's own error codes (LIBBPF_ERRNO__LIBELF); they end before 4100.</summary>
    public const int LibBpfErrorBase = 4000;

    /// <summary>Returns the description of an errno ("Operation not permitted"), or of a libbpf error code.</summary>
    public static string Describe(int errno)
    {
        if (errno == ENOTSUPP)
        {
            return "Operation not supported by the kernel";
        }

        if (errno is >= LibBpfErrorBase and < LibBpfErrorBase + 100)
        {
            return DescribeLibBpf(errno);
        }

        return System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
    }

    private static unsafe string DescribeLibBpf(int error)
    {
        byte* buffer = stackalloc byte[256];
        buffer[0] = 0;
        LibBpf.StrError(error, buffer, 256);
        return LibBpf.ReadString(buffer);
    }

    /// <summary>Whether an errno means the kernel does not implement the request (as opposed to rejecting its arguments).</summary>
    public static bool IsNotSupported(int errno) => errno is EOPNOTSUPP or ENOTSUPP or ENOSYS;
}
