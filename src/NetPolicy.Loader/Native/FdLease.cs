using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>
/// Keeps a <see cref="SafeHandle"/> (a bpf_object or an fd) from being released while a native call uses the
/// descriptor it guards; throws <see cref="ObjectDisposedException"/> when the owner is already closed.
/// </summary>
internal readonly ref struct FdLease
{
    private readonly SafeHandle _owner;

    public FdLease(SafeHandle owner, int fd)
    {
        bool added = false;
        owner.DangerousAddRef(ref added);
        _owner = owner;
        Fd = fd;
    }

    public int Fd { get; }

    public void Dispose() => _owner.DangerousRelease();
}
