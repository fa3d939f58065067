using System.Collections.Immutable;
using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>A program of a <see cref="BpfObject"/>.</summary>
public sealed unsafe class BpfProgram
{
    private readonly BpfObject _object;
    private readonly SafeBpfObjectHandle _owner;
    private int _fd = -1;
    private uint _id;

    internal BpfProgram(BpfObject owner, SafeBpfObjectHandle handle, nint program)
    {
        _object = owner;
        _owner = handle;
        Pointer = program;
        Name = LibBpf.ReadString(LibBpf.ProgramName(program));
        Type = (BpfProgramType)LibBpf.ProgramType(program);
    }

    /// <summary>Gets the program name (its C function name).</summary>
    public string Name { get; }

    /// <summary>Gets the program type, from its ELF section (SEC("tc") = <see cref="BpfProgramType.SchedClassifier"/>).</summary>
    public BpfProgramType Type { get; }

    /// <summary>Gets whether the program is loaded into the kernel.</summary>
    public bool IsLoaded => _fd >= 0 && !_owner.IsClosed;

    /// <summary>Gets the kernel's id of the loaded program (as bpftool and tc show it).</summary>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    public uint Id
    {
        get
        {
            if (_id == 0)
            {
                using var lease = Lease();
                int result = BpfSyscall.GetProgramId(lease.Fd, out uint id);
                _id = result >= 0 ? id : throw KernelErrors.FromResult("bpf_obj_get_info_by_fd", $"Reading the id of BPF program '{Name}'", result);
            }

            return _id;
        }
    }

    /// <summary>Gets the bpffs path the program was pinned to with <see cref="Pin"/>; <see langword="null"/> when not pinned.</summary>
    public string? PinPath { get; private set; }

    internal nint Pointer { get; }

    /// <summary>Runs the program on a packet in the kernel without attaching it (BPF_PROG_TEST_RUN).</summary>
    /// <param name="packet">The packet, from its Ethernet header for tc programs; at least 14 bytes.</param>
    /// <param name="repeat">How many times to run it (for timing); at least 1. Map side effects happen every time.</param>
    /// <returns>The return value, the average duration of a run, and the packet as the program left it.</returns>
    /// <remarks>Runs on the calling CPU with the maps of the object: updates, events and counters are real.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="repeat"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the run (EINVAL: packet too short or too long for the program type).</exception>
    public BpfTestRunResult TestRun(ReadOnlySpan<byte> packet, int repeat = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        using var lease = Lease();
        byte[] output = new byte[packet.Length + 4096];
        LibBpf.TestRunOptions options;
        int result;
        fixed (byte* input = packet)
        fixed (byte* data = output)
        {
            options = new LibBpf.TestRunOptions
            {
                Size = (nuint)sizeof(LibBpf.TestRunOptions),
                DataIn = input,
                DataSizeIn = (uint)packet.Length,
                DataOut = data,
                DataSizeOut = (uint)output.Length,
                Repeat = repeat,
            };
            result = LibBpf.ProgramTestRun(lease.Fd, &options);
        }

        if (result < 0)
        {
            throw KernelErrors.FromResult("bpf_prog_test_run_opts", $"Test-running BPF program '{Name}' on a {packet.Length}-byte packet", result);
        }

        return new BpfTestRunResult
        {
            ReturnValue = unchecked((int)options.ReturnValue),
            DurationNanoseconds = options.Duration,
            Data = ImmutableArray.Create(output, 0, (int)Math.Min(options.DataSizeOut, (uint)output.Length)),
        };
    }

    /// <summary>Attaches the program to a tc hook of a network interface of the calling thread's network namespace.</summary>
    /// <param name="interfaceIndex">The interface index in the calling thread's network namespace.</param>
    /// <param name="direction">The hook: packets the interface receives or sends.</param>
    /// <param name="mode">tcx, clsact, or tcx with a fallback to clsact.</param>
    /// <returns>The attachment; dispose it to detach.</returns>
    /// <remarks>
    /// <para>
    /// Network namespaces are per thread: the interface index is resolved in the namespace of the calling thread. To
    /// attach inside another namespace, call this on a thread that entered it (setns(2)) and let that thread end
    /// afterwards. Requires Linux 6.6+ for tcx; with <see cref="TcAttachMode.Auto"/>, older kernels get a clsact qdisc
    /// and cls_bpf filter instead (see <see cref="TcAttachment.Mode"/>).
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interfaceIndex"/> is not positive.</exception>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="KernelFeatureNotSupportedException"><see cref="TcAttachMode.Tcx"/> on a kernel before 6.6.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the attachment (ENODEV: no such interface in this namespace; EPERM: privileges).</exception>
    public TcAttachment AttachTc(int interfaceIndex, TcDirection direction, TcAttachMode mode = TcAttachMode.Auto) =>
        TcAttachment.Attach(this, interfaceIndex, direction, mode);

    /// <summary>Pins the program to a path in a BPF filesystem (bpf_obj_pin), so it outlives this process.</summary>
    /// <param name="path">A path in a mounted bpffs whose parent directory exists.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not in a BPF filesystem.</exception>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="KernelOperationException">The path exists (EEXIST) or pinning failed otherwise.</exception>
    public void Pin(string path)
    {
        BpfFileSystem.RequirePinPath(path);
        using var lease = Lease();
        int result = LibBpf.ObjPin(lease.Fd, path);
        if (result < 0)
        {
            throw KernelErrors.FromResult("bpf_obj_pin", $"Pinning BPF program '{Name}' at '{path}'", result);
        }

        PinPath = path;
    }

    /// <summary>Removes the pin made by <see cref="Pin"/>; does nothing when none.</summary>
    public void Unpin()
    {
        if (PinPath is { } path)
        {
            File.Delete(path);
            PinPath = null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"BPF program '{Name}' ({Type})";

    internal void OnLoaded() => _fd = LibBpf.ProgramFd(Pointer);

    internal FdLease Lease()
    {
        if (_fd < 0)
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            throw new InvalidOperationException($"BPF program '{Name}' is not loaded; load its object first.");
        }

        return new FdLease(_owner, _fd);
    }

    internal SafeHandle Owner => _owner;
}
