using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>The interop structs must match libbpf 1.1's headers and the kernel's union bpf_attr on 64-bit Linux.</summary>
public sealed class NativeLayoutTests
{
    [Fact]
    public void Sizes_MatchLibBpfHeaders()
    {
        Assert.Equal(80, Unsafe.SizeOf<LibBpf.ObjectOpenOptions>());
        Assert.Equal(80, Unsafe.SizeOf<LibBpf.TestRunOptions>());
        Assert.Equal(24, Unsafe.SizeOf<LibBpf.TcHook>());
        Assert.Equal(32, Unsafe.SizeOf<LibBpf.TcOptions>());
        Assert.Equal(24, Unsafe.SizeOf<LibBpf.MapBatchOptions>());
        Assert.Equal(8, Unsafe.SizeOf<LibBpf.RingBufferOptions>());
        Assert.Equal(88, Unsafe.SizeOf<BpfSyscall.MapInfo>());
        Assert.Equal(64, Unsafe.SizeOf<BpfSyscall.LinkCreateAttr>());
        Assert.Equal(64, Unsafe.SizeOf<BpfSyscall.ProgQueryAttr>());
    }

    [Theory]
    [InlineData(nameof(LibBpf.ObjectOpenOptions.RelaxedMaps), 16)]
    [InlineData(nameof(LibBpf.ObjectOpenOptions.PinRootPath), 24)]
    [InlineData(nameof(LibBpf.ObjectOpenOptions.Kconfig), 40)]
    [InlineData(nameof(LibBpf.ObjectOpenOptions.KernelLogBuffer), 56)]
    [InlineData(nameof(LibBpf.ObjectOpenOptions.KernelLogLevel), 72)]
    public void ObjectOpenOptions_Offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<LibBpf.ObjectOpenOptions>(field));

    [Theory]
    [InlineData(nameof(LibBpf.TestRunOptions.DataSizeIn), 24)]
    [InlineData(nameof(LibBpf.TestRunOptions.ContextIn), 32)]
    [InlineData(nameof(LibBpf.TestRunOptions.ReturnValue), 56)]
    [InlineData(nameof(LibBpf.TestRunOptions.Repeat), 60)]
    [InlineData(nameof(LibBpf.TestRunOptions.Duration), 64)]
    [InlineData(nameof(LibBpf.TestRunOptions.BatchSize), 76)]
    public void TestRunOptions_Offsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<LibBpf.TestRunOptions>(field));

    [Fact]
    public void TcStructs_Offsets()
    {
        Assert.Equal(8, (int)Marshal.OffsetOf<LibBpf.TcHook>(nameof(LibBpf.TcHook.InterfaceIndex)));
        Assert.Equal(16, (int)Marshal.OffsetOf<LibBpf.TcHook>(nameof(LibBpf.TcHook.Parent)));
        Assert.Equal(16, (int)Marshal.OffsetOf<LibBpf.TcOptions>(nameof(LibBpf.TcOptions.ProgramId)));
        Assert.Equal(24, (int)Marshal.OffsetOf<LibBpf.TcOptions>(nameof(LibBpf.TcOptions.Priority)));
    }

    [Fact]
    public void MapInfo_Offsets()
    {
        Assert.Equal(24, (int)Marshal.OffsetOf<BpfSyscall.MapInfo>(nameof(BpfSyscall.MapInfo.Name)));
        Assert.Equal(48, (int)Marshal.OffsetOf<BpfSyscall.MapInfo>(nameof(BpfSyscall.MapInfo.NetnsDev)));
        Assert.Equal(80, (int)Marshal.OffsetOf<BpfSyscall.MapInfo>(nameof(BpfSyscall.MapInfo.MapExtra)));
    }
}
