using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Netns;

/// <summary>The few libc calls network namespaces need.</summary>
internal static partial class NetnsInterop
{
    /// <summary>CLONE_NEWNET.</summary>
    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nsType);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial uint IfNameToIndex(string name);
}
