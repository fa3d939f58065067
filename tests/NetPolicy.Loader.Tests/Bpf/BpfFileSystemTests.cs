using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class BpfFileSystemTests
{
    [KernelFact]
    public void EnsureMounted_TempDirectory_MountsOnceAndIsIdempotent()
    {
        using var bpffs = new TestBpfFileSystem();

        bool again = BpfFileSystem.EnsureMounted(bpffs.Path);

        Assert.True(bpffs.MountedByUs);
        Assert.False(again);
        Assert.True(BpfFileSystem.IsMounted(bpffs.Path));
        Assert.Contains($" {bpffs.Path} bpf ", File.ReadAllText("/proc/self/mounts"));
    }

    [KernelFact]
    public void EnsureMounted_SubdirectoryOfBpfFileSystem_DoesNotMountAgain()
    {
        using var bpffs = new TestBpfFileSystem();
        string sub = Path.Combine(bpffs.Path, "netpolicy");
        Directory.CreateDirectory(sub);

        bool mounted = BpfFileSystem.EnsureMounted(sub);
        Directory.Delete(sub);

        Assert.False(mounted);
    }

    [Fact]
    public void IsMounted_OtherFileSystemOrMissingPath_IsFalse()
    {
        Assert.False(BpfFileSystem.IsMounted(Path.GetTempPath()));
        Assert.False(BpfFileSystem.IsMounted("/nonexistent/np"));
    }
}
