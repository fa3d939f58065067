using System.Security.Cryptography;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>A bpffs mounted by the test in a temporary directory of its own; unmounted and removed on dispose.</summary>
internal sealed class TestBpfFileSystem : IDisposable
{
    private readonly bool _mounted;

    public TestBpfFileSystem()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"np-bpffs-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        _mounted = BpfFileSystem.EnsureMounted(Path);
    }

    public string Path { get; }

    public bool MountedByUs => _mounted;

    public void Dispose()
    {
        if (_mounted)
        {
            LibC.Unmount(Path, 0);
        }

        Directory.Delete(Path);
    }
}
