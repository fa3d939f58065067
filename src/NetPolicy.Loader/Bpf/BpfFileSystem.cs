using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>The BPF filesystem (bpffs), where maps, programs and links are pinned to outlive the process.</summary>
public static class BpfFileSystem
{
    /// <summary>The conventional mount point, <c>/sys/fs/bpf</c>.</summary>
    public const string DefaultPath = "/sys/fs/bpf";

    /// <summary>Gets whether a directory lies in a mounted BPF filesystem (statfs reports BPF_FS_MAGIC).</summary>
    /// <param name="path">The directory; <see cref="DefaultPath"/> by default.</param>
    /// <returns><see langword="false"/> when the path does not exist or lies in another filesystem.</returns>
    public static unsafe bool IsMounted(string path = DefaultPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte* buffer = stackalloc byte[256]; // struct statfs is 120 bytes on 64-bit Linux; f_type comes first
        if (LibC.StatFs(path, buffer) != 0)
        {
            return false;
        }

        return (*(long*)buffer & 0xFFFFFFFF) == LibC.BPF_FS_MAGIC;
    }

    /// <summary>Mounts a BPF filesystem at a directory unless the directory already lies in one. Idempotent.</summary>
    /// <param name="path">The directory, created when missing; <see cref="DefaultPath"/> by default.</param>
    /// <returns><see langword="true"/> when this call mounted it; <see langword="false"/> when it was already in a bpffs.</returns>
    /// <remarks>
    /// Acts in the process's mount namespace. The mount is made with mode 0700. Requires CAP_SYS_ADMIN. When mounting
    /// fails, a directory this call created is removed again.
    /// </remarks>
    /// <exception cref="KernelOperationException">mount(2) failed (EPERM: not privileged).</exception>
    public static bool EnsureMounted(string path = DefaultPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (IsMounted(path))
        {
            return false;
        }

        bool created = !Directory.Exists(path);
        Directory.CreateDirectory(path);
        if (LibC.Mount("bpf", path, "bpf", 0, "mode=0700") != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (created)
            {
                Directory.Delete(path);
            }

            throw KernelErrors.Create("mount", $"Mounting a BPF filesystem at '{path}'", errno);
        }

        return true;
    }

    /// <summary>Checks that a pin path lies in a bpffs, before the kernel answers a confusing EPERM.</summary>
    internal static void RequirePinPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        if (!IsMounted(directory))
        {
            throw new ArgumentException($"Cannot pin at '{path}': '{directory}' is not in a mounted BPF filesystem; mount one with BpfFileSystem.EnsureMounted and create the directory first.", nameof(path));
        }
    }
}
