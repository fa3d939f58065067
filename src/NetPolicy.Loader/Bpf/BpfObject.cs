using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>A BPF ELF object opened with libbpf: its maps and programs, configured before <see cref="Load"/>.</summary>
/// <remarks>
/// <para>
/// The life cycle follows libbpf: <see cref="Open"/> parses the ELF; before <see cref="Load"/> you may set the
/// <c>.rodata</c> constants (<see cref="SetReadOnlyData{T}(in T)"/>), resize maps (<see cref="BpfMap.SetMaxEntries"/>)
/// and make maps share the kernel maps of another loaded object (<see cref="BpfMap.ReuseFrom"/>);
/// <see cref="Load"/> creates the maps and verifies and loads the programs. A failed load cannot be retried: open the
/// object again. <see cref="Dispose"/> closes every map and program descriptor of the object; attachments, pins and
/// maps reused by other objects keep the kernel objects alive.
/// </para>
/// <para>Requires root, or CAP_BPF + CAP_NET_ADMIN (CAP_SYS_ADMIN on kernels before 5.8), and libbpf.so.1.</para>
/// <para>Configuration methods are not thread-safe; map operations after load are.</para>
/// </remarks>
/// <example>
/// <code>
/// using var shared = BpfObject.OpenDatapath();
/// shared.SetReadOnlyData(new BpfConfig(endpoint: 1, mode: BpfConstants.ModeConntrack, flags: 0));
/// shared.Load();
///
/// using var second = BpfObject.OpenDatapath();
/// foreach (BpfMap map in shared.Maps.Where(m => !m.IsInternal))
///     second.GetMap(map.Name).ReuseFrom(map);
/// second.SetReadOnlyData(new BpfConfig(endpoint: 2, mode: BpfConstants.ModeConntrack, flags: 0));
/// second.Load();
/// </code>
/// </example>
public sealed unsafe class BpfObject : IDisposable
{
    // Per-program verifier log buffers. libbpf 1.1 loads with log level 0 first and, only when a program fails,
    // loads it again with level 1 into this buffer. The kernel (6.4+) keeps the tail of a longer log.
    private const int VerifierLogSize = 16 * 1024 * 1024;

    private readonly SafeBpfObjectHandle _handle;
    private readonly ImmutableArray<BpfMap> _maps;
    private readonly ImmutableArray<BpfProgram> _programs;
    private LoadState _state;

    private BpfObject(SafeBpfObjectHandle handle, string name)
    {
        _handle = handle;
        Name = name;
        var maps = ImmutableArray.CreateBuilder<BpfMap>();
        for (nint map = LibBpf.ObjectNextMap(handle.Pointer, 0); map != 0; map = LibBpf.ObjectNextMap(handle.Pointer, map))
        {
            maps.Add(new BpfMap(this, handle, map));
        }

        var programs = ImmutableArray.CreateBuilder<BpfProgram>();
        for (nint program = LibBpf.ObjectNextProgram(handle.Pointer, 0); program != 0; program = LibBpf.ObjectNextProgram(handle.Pointer, program))
        {
            programs.Add(new BpfProgram(this, handle, program));
        }

        _maps = maps.ToImmutable();
        _programs = programs.ToImmutable();
    }

    private enum LoadState
    {
        Opened,
        Loaded,
        Failed,
    }

    /// <summary>Gets the object name (the name given to <see cref="Open"/>).</summary>
    public string Name { get; }

    /// <summary>Gets every map of the object, including libbpf's internal maps such as <c>.rodata</c>.</summary>
    public IReadOnlyList<BpfMap> Maps => _maps;

    /// <summary>Gets every program of the object.</summary>
    public IReadOnlyList<BpfProgram> Programs => _programs;

    /// <summary>Gets whether <see cref="Load"/> succeeded.</summary>
    public bool IsLoaded => _state == LoadState.Loaded && !_handle.IsClosed;

    internal bool IsOpenForConfiguration => _state == LoadState.Opened && !_handle.IsClosed;

    /// <summary>Opens a BPF ELF object from memory (bpf_object__open_mem); nothing reaches the kernel yet.</summary>
    /// <param name="elf">The ELF bytes; copied, so the span may be reused afterwards.</param>
    /// <param name="objectName">The object name; libbpf prefixes internal map names with its first 8 characters.</param>
    /// <returns>The opened object.</returns>
    /// <exception cref="ArgumentException"><paramref name="elf"/> is empty or <paramref name="objectName"/> is blank.</exception>
    /// <exception cref="KernelOperationException">libbpf cannot parse the object (EINVAL, ENOTSUP: not a BPF ELF object).</exception>
    public static BpfObject Open(ReadOnlySpan<byte> elf, string objectName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(objectName);
        if (elf.IsEmpty)
        {
            throw new ArgumentException("The ELF object is empty.", nameof(elf));
        }

        byte[] name = Encoding.UTF8.GetBytes(objectName + "\0");
        using var capture = LibBpfLog.Begin();
        nint obj;
        fixed (byte* data = elf)
        fixed (byte* namePointer = name)
        {
            var options = new LibBpf.ObjectOpenOptions
            {
                Size = (nuint)sizeof(LibBpf.ObjectOpenOptions),
                ObjectName = namePointer,
            };
            obj = LibBpf.ObjectOpenMem(data, (nuint)elf.Length, &options);
        }

        if (obj == 0)
        {
            throw KernelErrors.Create("bpf_object__open_mem", $"Opening BPF object '{objectName}'", LibBpf.LastErrno(), capture.Messages);
        }

        return new BpfObject(new SafeBpfObjectHandle(obj), objectName);
    }

    /// <summary>Opens the NetPolicy datapath object embedded in this assembly (see <see cref="DatapathObject"/>).</summary>
    /// <returns>The opened object.</returns>
    /// <exception cref="KernelOperationException">libbpf cannot parse the object.</exception>
    public static BpfObject OpenDatapath() => Open(DatapathObject.Elf.Span, DatapathObject.Name);

    /// <summary>Gets a map by name; names starting with a dot (<c>.rodata</c>) find libbpf's internal maps.</summary>
    /// <param name="name">The map name.</param>
    /// <returns>The map.</returns>
    /// <exception cref="ArgumentException">The object has no such map.</exception>
    public BpfMap GetMap(string name) => TryGetMap(name, out var map)
        ? map
        : throw new ArgumentException($"BPF object '{Name}' has no map '{name}'; it has {string.Join(", ", _maps.Select(m => m.Name))}.", nameof(name));

    /// <summary>Gets a map by name, if the object has it.</summary>
    /// <param name="name">The map name; names starting with a dot (<c>.rodata</c>) find libbpf's internal maps.</param>
    /// <param name="map">The map, when found.</param>
    /// <returns><see langword="true"/> when the object has the map.</returns>
    public bool TryGetMap(string name, [NotNullWhen(true)] out BpfMap? map)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        map = _maps.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal));
        if (map is null && name.StartsWith('.'))
        {
            nint pointer = LibBpf.ObjectFindMapByName(_handle.Pointer, name);
            map = _maps.FirstOrDefault(m => m.Pointer == pointer && pointer != 0);
        }

        return map is not null;
    }

    /// <summary>Gets a program by name (the C function name).</summary>
    /// <param name="name">The program name.</param>
    /// <returns>The program.</returns>
    /// <exception cref="ArgumentException">The object has no such program.</exception>
    public BpfProgram GetProgram(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return _programs.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal))
            ?? throw new ArgumentException($"BPF object '{Name}' has no program '{name}'; it has {string.Join(", ", _programs.Select(p => p.Name))}.", nameof(name));
    }

    /// <summary>Sets the initial contents of the object's <c>.rodata</c> (its <c>const volatile</c> globals) before load.</summary>
    /// <typeparam name="T">A struct laid out exactly as the object's <c>.rodata</c> section.</typeparam>
    /// <param name="value">The constants.</param>
    /// <remarks>The verifier sees these values as constants, so code they disable is removed at load.</remarks>
    /// <exception cref="ArgumentException">The size of <typeparamref name="T"/> differs from the <c>.rodata</c> section.</exception>
    /// <exception cref="InvalidOperationException">The object is loaded, or has no <c>.rodata</c>.</exception>
    public void SetReadOnlyData<T>(in T value)
        where T : unmanaged
    {
        SetReadOnlyData(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), typeof(T).Name, nameof(value));
    }

    /// <summary>Sets the initial contents of the object's <c>.rodata</c> from raw bytes before load.</summary>
    /// <param name="data">The section contents; exactly as long as the section.</param>
    /// <exception cref="ArgumentException">The length of <paramref name="data"/> differs from the <c>.rodata</c> section.</exception>
    /// <exception cref="InvalidOperationException">The object is loaded, or has no <c>.rodata</c>.</exception>
    public void SetReadOnlyData(ReadOnlySpan<byte> data) => SetReadOnlyData(data, "the data", nameof(data));

    /// <summary>Creates the maps and loads every program into the kernel, running the verifier.</summary>
    /// <exception cref="InvalidOperationException">The object is already loaded, or a previous load failed.</exception>
    /// <exception cref="BpfVerifierException">The verifier rejected a program; its log is in <see cref="BpfVerifierException.VerifierLog"/>.</exception>
    /// <exception cref="KernelOperationException">Creating a map or loading failed otherwise (EPERM: missing privileges).</exception>
    public void Load()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_state != LoadState.Opened)
        {
            throw new InvalidOperationException(_state == LoadState.Loaded
                ? $"BPF object '{Name}' is already loaded."
                : $"A previous load of BPF object '{Name}' failed and libbpf cannot retry it; open the object again.");
        }

        var logs = new nint[_programs.Length];
        try
        {
            for (int i = 0; i < _programs.Length; i++)
            {
                byte* buffer = (byte*)NativeMemory.Alloc(VerifierLogSize);
                buffer[0] = 0;
                logs[i] = (nint)buffer;
                int set = LibBpf.ProgramSetLogBuffer(_programs[i].Pointer, buffer, VerifierLogSize);
                if (set < 0)
                {
                    throw KernelErrors.FromResult("bpf_program__set_log_buf", $"Preparing program '{_programs[i].Name}' of BPF object '{Name}'", set);
                }
            }

            using var capture = LibBpfLog.Begin();
            int result = LibBpf.ObjectLoad(_handle.Pointer);
            if (result < 0)
            {
                _state = LoadState.Failed;
                for (int i = 0; i < _programs.Length; i++)
                {
                    string log = LibBpf.ReadString((byte*)logs[i]);
                    if (log.Length > 0)
                    {
                        throw KernelErrors.Verifier(Name, _programs[i].Name, LibBpf.ErrnoOf(result), log);
                    }
                }

                throw KernelErrors.FromResult("bpf_object__load", $"Loading BPF object '{Name}'", result, capture.Messages);
            }

            _state = LoadState.Loaded;
            foreach (var map in _maps)
            {
                map.OnLoaded();
            }

            foreach (var program in _programs)
            {
                program.OnLoaded();
            }
        }
        finally
        {
            // libbpf reads the buffers only while loading, which is over; it refuses to forget them after a load.
            foreach (nint log in logs)
            {
                NativeMemory.Free((void*)log);
            }
        }
    }

    /// <summary>Closes the object: every map and program descriptor it holds. Idempotent.</summary>
    public void Dispose() => _handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"BPF object '{Name}' ({_state})";

    internal void ThrowIfNotConfigurable(string what)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_state != LoadState.Opened)
        {
            throw new InvalidOperationException($"{what} is possible only before BPF object '{Name}' is loaded.");
        }
    }

    private void SetReadOnlyData(ReadOnlySpan<byte> data, string source, string parameterName)
    {
        ThrowIfNotConfigurable("Setting .rodata");
        nint map = LibBpf.ObjectFindMapByName(_handle.Pointer, ".rodata");
        if (map == 0)
        {
            throw new InvalidOperationException($"BPF object '{Name}' has no .rodata section (no 'const volatile' globals).");
        }

        nuint size;
        byte* initial = (byte*)LibBpf.MapInitialValue(map, &size);
        if (initial == null)
        {
            throw new InvalidOperationException($"libbpf exposes no initial value for the .rodata of BPF object '{Name}'.");
        }

        if ((nuint)data.Length != size)
        {
            throw new ArgumentException($"The .rodata of BPF object '{Name}' is {size} bytes but {source} is {data.Length} bytes; the C# mirror does not match the object (rebuild one of them).", parameterName);
        }

        data.CopyTo(new Span<byte>(initial, data.Length));
    }
}
