using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>
/// Network namespaces are per thread. Netlink and ifindex lookups act in the calling thread's namespace, so the loader
/// remembers the namespace an attachment was made in and, when it is detached from another one, does the work on a
/// short-lived thread that enters the remembered namespace (setns(2), CLONE_NEWNET) and ends with it.
/// </summary>
internal static class ThreadNetworkNamespace
{
    private const string CurrentThreadPath = "/proc/thread-self/ns/net";

    /// <summary>Opens the calling thread's network namespace, to enter it later from another thread.</summary>
    public static SafeFdHandle OpenCurrent() => Open(CurrentThreadPath);

    /// <summary>Opens a network namespace file (/proc/PID/ns/net, /run/netns/NAME).</summary>
    public static SafeFdHandle Open(string path)
    {
        int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw KernelErrors.Create("open", $"Opening network namespace '{path}'", errno);
        }

        return new SafeFdHandle(fd);
    }

    /// <summary>Gets the identity ("net:[4026531840]") of the calling thread's network namespace.</summary>
    public static string CurrentIdentity() => new FileInfo(CurrentThreadPath).LinkTarget ?? string.Empty;

    /// <summary>Gets the identity of an open namespace descriptor.</summary>
    public static string IdentityOf(SafeFdHandle handle)
    {
        using var lease = new FdLease(handle, handle.Fd);
        return new FileInfo($"/proc/self/fd/{lease.Fd}").LinkTarget ?? string.Empty;
    }

    /// <summary>Runs an action in a namespace: inline when the calling thread is in it, otherwise on a new thread.</summary>
    public static void Run(SafeFdHandle handle, string identity, Action action)
    {
        if (string.Equals(CurrentIdentity(), identity, StringComparison.Ordinal))
        {
            action();
            return;
        }

        RunOnNewThread(handle, action);
    }

    /// <summary>Runs an action on a new thread that first enters the namespace; rethrows what the action threw.</summary>
    public static void RunOnNewThread(SafeFdHandle handle, Action action)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(handle);
                action();
            }
#pragma warning disable CA1031 // Not swallowed: captured here and rethrown on the calling thread below.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(exception);
            }
        })
        {
            IsBackground = true,
            Name = "NetPolicy netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    /// <summary>Moves the calling thread into a network namespace. Use only on threads that end afterwards.</summary>
    public static void Enter(SafeFdHandle handle)
    {
        using var lease = new FdLease(handle, handle.Fd);
        if (LibC.SetNs(lease.Fd, LibC.CLONE_NEWNET) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw KernelErrors.Create("setns", "Entering a network namespace", errno);
        }
    }
}
