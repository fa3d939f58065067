using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>Owns a Linux file descriptor (a BPF map, program or link, a namespace, a socket) and closes it once.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(-1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle < 0;

    /// <summary>Gets the descriptor; valid only while the handle is open (use <see cref="FdLease"/> across calls).</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;
}
