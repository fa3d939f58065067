using System.Collections.Immutable;
using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>A BPF map: of a <see cref="BpfObject"/>, or opened from a bpffs pin with <see cref="OpenPinned"/>.</summary>
/// <remarks>
/// <para>
/// Keys and values are raw bytes in the kernel's layout (host byte order unless the map's C definition says
/// otherwise); the generic overloads reinterpret unmanaged structs, whose sizes must equal <see cref="KeySize"/> and
/// <see cref="ValueSize"/>. Element operations need the map to exist in the kernel: after
/// <see cref="BpfObject.Load"/>, or at once for a pinned map. They are thread-safe, as the kernel makes each one atomic.
/// </para>
/// <para>
/// Per-CPU maps (<see cref="IsPerCpu"/>) hold one value per possible CPU: lookups and updates then take
/// <see cref="ValueBufferSize"/> bytes (each value padded to 8 bytes, times <see cref="PossibleCpuCount"/>), or use
/// <see cref="TryLookupPerCpu{TKey, TValue}(in TKey, out ImmutableArray{TValue})"/>.
/// </para>
/// <para>
/// <see cref="Dispose"/> closes the descriptor of a map opened with <see cref="OpenPinned"/>; for a map of a
/// <see cref="BpfObject"/> it does nothing, as the object owns the descriptor.
/// </para>
/// </remarks>
public sealed unsafe class BpfMap : IDisposable
{
    private static readonly Lazy<int> s_possibleCpuCount = new(ReadPossibleCpuCount);

    private readonly BpfObject? _object;
    private readonly SafeHandle _owner;
    private int _fd = -1;
    private bool _updateBatchUnsupported;
    private bool _deleteBatchUnsupported;

    internal BpfMap(BpfObject owner, SafeBpfObjectHandle handle, nint map)
    {
        _object = owner;
        _owner = handle;
        Pointer = map;
        Name = LibBpf.ReadString(LibBpf.MapName(map));
        IsInternal = LibBpf.MapIsInternal(map);
        RefreshFromLibBpf();
    }

    private BpfMap(SafeFdHandle fd, in BpfSyscall.MapInfo info, string pinPath)
    {
        _owner = fd;
        _fd = fd.Fd;
        fixed (byte* name = info.Name)
        {
            Name = Marshal.PtrToStringUTF8((nint)name) ?? string.Empty;
        }

        Type = (BpfMapType)info.Type;
        KeySize = (int)info.KeySize;
        ValueSize = (int)info.ValueSize;
        MaxEntries = info.MaxEntries;
        Flags = info.MapFlags;
        PinPath = pinPath;
    }

    /// <summary>Gets the number of possible CPUs (libbpf_num_possible_cpus), the number of values of per-CPU maps.</summary>
    public static int PossibleCpuCount => s_possibleCpuCount.Value;

    /// <summary>Gets the map name (at most 15 characters in the kernel).</summary>
    public string Name { get; }

    /// <summary>Gets the map type.</summary>
    public BpfMapType Type { get; private set; }

    /// <summary>Gets the size of a key in bytes.</summary>
    public int KeySize { get; private set; }

    /// <summary>Gets the size of one value in bytes (of one CPU's value, for per-CPU maps).</summary>
    public int ValueSize { get; private set; }

    /// <summary>Gets the maximum number of elements (for ring buffers: the size in bytes).</summary>
    public uint MaxEntries { get; private set; }

    /// <summary>Gets the map creation flags (BPF_F_*, such as BPF_F_NO_PREALLOC = 1).</summary>
    public uint Flags { get; private set; }

    /// <summary>Gets whether libbpf created the map for a data section (<c>.rodata</c>, <c>.bss</c>, <c>.data</c>).</summary>
    public bool IsInternal { get; }

    /// <summary>Gets whether the map holds one value per possible CPU.</summary>
    public bool IsPerCpu => Type is BpfMapType.PerCpuHash or BpfMapType.PerCpuArray or BpfMapType.LruPerCpuHash or BpfMapType.PerCpuCgroupStorage;

    /// <summary>Gets the number of bytes a value buffer of <see cref="TryLookup(ReadOnlySpan{byte}, Span{byte})"/> and <see cref="Update(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> holds.</summary>
    public int ValueBufferSize => IsPerCpu ? AlignedValueSize * PossibleCpuCount : ValueSize;

    /// <summary>Gets the bpffs path this map was pinned to with <see cref="Pin"/> or opened from; <see langword="null"/> when not pinned.</summary>
    public string? PinPath { get; private set; }

    /// <summary>Gets whether the map exists in the kernel, so element operations work.</summary>
    public bool IsCreated => _fd >= 0 && !_owner.IsClosed;

    internal nint Pointer { get; }

    private int AlignedValueSize => (ValueSize + 7) & ~7;

    /// <summary>Opens a map pinned in a BPF filesystem (bpf_obj_get).</summary>
    /// <param name="path">The pin path, such as <c>/sys/fs/bpf/netpolicy/np_policy</c>.</param>
    /// <returns>The map; dispose it to close its descriptor (the pin stays).</returns>
    /// <exception cref="KernelOperationException">The path does not exist (ENOENT), is not a map (EINVAL), or access is denied (EPERM).</exception>
    public static BpfMap OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        int fd = LibBpf.ObjGet(path);
        if (fd < 0)
        {
            throw KernelErrors.FromResult("bpf_obj_get", $"Opening the BPF map pinned at '{path}'", fd);
        }

        var handle = new SafeFdHandle(fd);
        int result = BpfSyscall.GetMapInfo(fd, out var info);
        if (result < 0)
        {
            handle.Dispose();
            throw KernelErrors.FromResult("bpf_obj_get_info_by_fd", $"Reading the BPF map pinned at '{path}'", result);
        }

        return new BpfMap(handle, info, path);
    }

    /// <summary>Sets the maximum number of elements, before the object is loaded.</summary>
    /// <param name="maxEntries">The new maximum; greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEntries"/> is 0.</exception>
    /// <exception cref="InvalidOperationException">The object is loaded, or the map was opened from a pin.</exception>
    public void SetMaxEntries(uint maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maxEntries);
        RequireConfigurable("Setting max entries");
        int result = LibBpf.MapSetMaxEntries(Pointer, maxEntries);
        if (result < 0)
        {
            throw KernelErrors.FromResult("bpf_map__set_max_entries", $"Setting max entries of BPF map '{Name}'", result);
        }

        RefreshFromLibBpf();
    }

    /// <summary>Makes this map, before its object loads, use the kernel map of another (loaded) object instead of creating one.</summary>
    /// <param name="loadedMap">A created map of the same type, key size and value size.</param>
    /// <remarks>Several per-endpoint objects share one set of maps this way (bpf_map__reuse_fd).</remarks>
    /// <exception cref="ArgumentException"><paramref name="loadedMap"/> differs in type, key size or value size.</exception>
    /// <exception cref="InvalidOperationException">This object is loaded, or <paramref name="loadedMap"/> is not created.</exception>
    public void ReuseFrom(BpfMap loadedMap)
    {
        ArgumentNullException.ThrowIfNull(loadedMap);
        RequireConfigurable("Reusing a map");
        if (!loadedMap.IsCreated)
        {
            throw new InvalidOperationException($"BPF map '{loadedMap.Name}' to reuse for '{Name}' does not exist in the kernel yet; load its object first.");
        }

        if (loadedMap.Type != Type || loadedMap.KeySize != KeySize || loadedMap.ValueSize != ValueSize)
        {
            throw new ArgumentException(
                $"BPF map '{Name}' ({Type}, key {KeySize} bytes, value {ValueSize} bytes) cannot reuse map '{loadedMap.Name}' ({loadedMap.Type}, key {loadedMap.KeySize} bytes, value {loadedMap.ValueSize} bytes); both objects must be built from the same map definitions.",
                nameof(loadedMap));
        }

        using var lease = loadedMap.Lease();
        int result = LibBpf.MapReuseFd(Pointer, lease.Fd);
        if (result < 0)
        {
            throw KernelErrors.FromResult("bpf_map__reuse_fd", $"Reusing BPF map '{loadedMap.Name}' for '{Name}'", result);
        }

        RefreshFromLibBpf();
    }

    /// <summary>Looks an element up.</summary>
    /// <param name="key">The key; <see cref="KeySize"/> bytes.</param>
    /// <param name="value">Receives the value; <see cref="ValueBufferSize"/> bytes.</param>
    /// <returns><see langword="false"/> when the key is absent.</returns>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the lookup.</exception>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key.Length, nameof(key));
        CheckValue(value.Length, nameof(value));
        using var lease = Lease();
        int result;
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            result = LibBpf.MapLookupElement(lease.Fd, k, v);
        }

        if (result == -Errno.ENOENT)
        {
            return false;
        }

        return result >= 0 ? true : throw Failure("bpf_map_lookup_elem", "Looking up an element of", result);
    }

    /// <summary>Looks an element up, as unmanaged structs.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">The value struct; <see cref="ValueBufferSize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, or default when absent.</param>
    /// <returns><see langword="false"/> when the key is absent.</returns>
    /// <exception cref="ArgumentException">A struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the lookup.</exception>
    public bool TryLookup<TKey, TValue>(in TKey key, out TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        value = default;
        return TryLookup(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), MemoryMarshal.AsBytes(new Span<TValue>(ref value)));
    }

    /// <summary>Looks the values of every possible CPU up in a per-CPU map.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">One CPU's value; <see cref="ValueSize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="values">One value per possible CPU, in CPU order; empty when absent.</param>
    /// <returns><see langword="false"/> when the key is absent.</returns>
    /// <exception cref="InvalidOperationException">The map is not per-CPU, or not created yet.</exception>
    /// <exception cref="ArgumentException">A struct has the wrong size.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the lookup.</exception>
    public bool TryLookupPerCpu<TKey, TValue>(in TKey key, out ImmutableArray<TValue> values)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        RequirePerCpu();
        if (sizeof(TValue) != ValueSize)
        {
            throw new ArgumentException($"BPF map '{Name}' has {ValueSize}-byte values per CPU but {typeof(TValue).Name} is {sizeof(TValue)} bytes.", nameof(values));
        }

        byte[] buffer = new byte[ValueBufferSize];
        if (!TryLookup(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), buffer))
        {
            values = [];
            return false;
        }

        var result = ImmutableArray.CreateBuilder<TValue>(PossibleCpuCount);
        for (int cpu = 0; cpu < PossibleCpuCount; cpu++)
        {
            result.Add(MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * AlignedValueSize, ValueSize)));
        }

        values = result.MoveToImmutable();
        return true;
    }

    /// <summary>Creates or replaces an element (BPF_ANY).</summary>
    /// <param name="key">The key; <see cref="KeySize"/> bytes.</param>
    /// <param name="value">The value; <see cref="ValueBufferSize"/> bytes.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the update (E2BIG: the map is full).</exception>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Update(key, value, BpfMapUpdateMode.Any);

    /// <summary>Creates or replaces an element.</summary>
    /// <param name="key">The key; <see cref="KeySize"/> bytes.</param>
    /// <param name="value">The value; <see cref="ValueBufferSize"/> bytes.</param>
    /// <param name="mode">Whether the element must be absent or present first.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the update (E2BIG: the map is full; EEXIST/ENOENT: <paramref name="mode"/>).</exception>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, BpfMapUpdateMode mode)
    {
        CheckKey(key.Length, nameof(key));
        CheckValue(value.Length, nameof(value));
        using var lease = Lease();
        int result;
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            result = LibBpf.MapUpdateElement(lease.Fd, k, v, (ulong)mode);
        }

        if (result < 0)
        {
            throw Failure("bpf_map_update_elem", "Updating an element of", result);
        }
    }

    /// <summary>Creates or replaces an element (BPF_ANY), as unmanaged structs.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">The value struct; <see cref="ValueBufferSize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">A struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the update.</exception>
    public void Update<TKey, TValue>(in TKey key, in TValue value)
        where TKey : unmanaged
        where TValue : unmanaged => Update(in key, in value, BpfMapUpdateMode.Any);

    /// <summary>Creates or replaces an element, as unmanaged structs.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">The value struct; <see cref="ValueBufferSize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="mode">Whether the element must be absent or present first.</param>
    /// <exception cref="ArgumentException">A struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the update.</exception>
    public void Update<TKey, TValue>(in TKey key, in TValue value, BpfMapUpdateMode mode)
        where TKey : unmanaged
        where TValue : unmanaged =>
        Update(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), MemoryMarshal.AsBytes(new ReadOnlySpan<TValue>(in value)), mode);

    /// <summary>Sets the value of every possible CPU in a per-CPU map.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">One CPU's value; <see cref="ValueSize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="values">One value per possible CPU (<see cref="PossibleCpuCount"/> values).</param>
    /// <param name="mode">Whether the element must be absent or present first.</param>
    /// <exception cref="InvalidOperationException">The map is not per-CPU, or not created yet.</exception>
    /// <exception cref="ArgumentException">A struct has the wrong size, or the number of values is not the CPU count.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the update.</exception>
    public void UpdatePerCpu<TKey, TValue>(in TKey key, ReadOnlySpan<TValue> values, BpfMapUpdateMode mode = BpfMapUpdateMode.Any)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        RequirePerCpu();
        if (sizeof(TValue) != ValueSize || values.Length != PossibleCpuCount)
        {
            throw new ArgumentException($"BPF map '{Name}' needs {PossibleCpuCount} values of {ValueSize} bytes (one per possible CPU); got {values.Length} of {sizeof(TValue)} bytes.", nameof(values));
        }

        byte[] buffer = new byte[ValueBufferSize];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            MemoryMarshal.Write(buffer.AsSpan(cpu * AlignedValueSize), in values[cpu]);
        }

        Update(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)), buffer, mode);
    }

    /// <summary>Deletes an element.</summary>
    /// <param name="key">The key; <see cref="KeySize"/> bytes.</param>
    /// <returns><see langword="false"/> when the key was absent.</returns>
    /// <exception cref="InvalidOperationException">The map is an array (whose elements cannot be deleted: write zeros), or not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the delete.</exception>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key.Length, nameof(key));
        RequireDeletable();
        using var lease = Lease();
        int result;
        fixed (byte* k = key)
        {
            result = LibBpf.MapDeleteElement(lease.Fd, k);
        }

        if (result == -Errno.ENOENT)
        {
            return false;
        }

        return result >= 0 ? true : throw Failure("bpf_map_delete_elem", "Deleting an element of", result);
    }

    /// <summary>Deletes an element, with the key as an unmanaged struct.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <param name="key">The key.</param>
    /// <returns><see langword="false"/> when the key was absent.</returns>
    /// <exception cref="InvalidOperationException">The map is an array, or not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused the delete.</exception>
    public bool Delete<TKey>(in TKey key)
        where TKey : unmanaged => Delete(MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key)));

    /// <summary>Creates or replaces many elements in one call (bpf_map_update_batch, BPF_ANY).</summary>
    /// <param name="keys"><paramref name="count"/> keys of <see cref="KeySize"/> bytes, back to back.</param>
    /// <param name="values"><paramref name="count"/> values of <see cref="ValueBufferSize"/> bytes, back to back.</param>
    /// <param name="count">The number of elements.</param>
    /// <returns>The number of elements written: <paramref name="count"/>.</returns>
    /// <remarks>See <see cref="UpdateBatch(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int, BpfMapUpdateMode)"/>.</remarks>
    /// <exception cref="ArgumentException">A buffer length does not match <paramref name="count"/>.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused an element.</exception>
    public int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, int count) => UpdateBatch(keys, values, count, BpfMapUpdateMode.Any);

    /// <summary>Creates or replaces many elements in one call (bpf_map_update_batch).</summary>
    /// <param name="keys"><paramref name="count"/> keys of <see cref="KeySize"/> bytes, back to back.</param>
    /// <param name="values"><paramref name="count"/> values of <see cref="ValueBufferSize"/> bytes, back to back.</param>
    /// <param name="count">The number of elements.</param>
    /// <param name="mode">Whether each element must be absent or present first.</param>
    /// <returns>The number of elements written: <paramref name="count"/>.</returns>
    /// <remarks>
    /// Map types without batch support (LPM tries before Linux 6.x; arrays before 5.6), and the modes other than
    /// <see cref="BpfMapUpdateMode.Any"/> (which the kernel's batch call does not take), are updated element by element.
    /// The update is not atomic: when it fails, the elements before the failing one are written.
    /// </remarks>
    /// <exception cref="ArgumentException">A buffer length does not match <paramref name="count"/>.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused an element.</exception>
    public int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, int count, BpfMapUpdateMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckBatch(keys.Length, count, KeySize, nameof(keys));
        CheckBatch(values.Length, count, ValueBufferSize, nameof(values));
        if (count == 0)
        {
            return 0;
        }

        // The kernel's batch update takes no BPF_NOEXIST/BPF_EXIST (elem_flags allows only BPF_F_LOCK).
        if (!_updateBatchUnsupported && mode == BpfMapUpdateMode.Any)
        {
            using var lease = Lease();
            uint done = (uint)count;
            var options = new LibBpf.MapBatchOptions { Size = (nuint)sizeof(LibBpf.MapBatchOptions), ElementFlags = (ulong)mode };
            int result;
            fixed (byte* k = keys)
            fixed (byte* v = values)
            {
                result = LibBpf.MapUpdateBatch(lease.Fd, k, v, &done, &options);
            }

            if (result >= 0)
            {
                return count;
            }

            if (!IsBatchUnsupported(result, done, (uint)count))
            {
                throw Failure("bpf_map_update_batch", $"Updating {count} elements (after {done}) of", result);
            }

            _updateBatchUnsupported |= Errno.IsNotSupported(-result);
        }

        for (int i = 0; i < count; i++)
        {
            Update(keys.Slice(i * KeySize, KeySize), values.Slice(i * ValueBufferSize, ValueBufferSize), mode);
        }

        return count;
    }

    /// <summary>Creates or replaces many elements in one call (BPF_ANY), as unmanaged structs.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">The value struct; <see cref="ValueBufferSize"/> bytes.</typeparam>
    /// <param name="keys">The keys.</param>
    /// <param name="values">The values, as many as keys.</param>
    /// <returns>The number of elements written.</returns>
    /// <exception cref="ArgumentException">The spans differ in length, or a struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused an element.</exception>
    public int UpdateBatch<TKey, TValue>(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
        where TKey : unmanaged
        where TValue : unmanaged => UpdateBatch(keys, values, BpfMapUpdateMode.Any);

    /// <summary>Creates or replaces many elements in one call, as unmanaged structs.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <typeparam name="TValue">The value struct; <see cref="ValueBufferSize"/> bytes.</typeparam>
    /// <param name="keys">The keys.</param>
    /// <param name="values">The values, as many as keys.</param>
    /// <param name="mode">Whether each element must be absent or present first.</param>
    /// <returns>The number of elements written.</returns>
    /// <exception cref="ArgumentException">The spans differ in length, or a struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused an element.</exception>
    public int UpdateBatch<TKey, TValue>(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, BpfMapUpdateMode mode)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        if (keys.Length != values.Length)
        {
            throw new ArgumentException($"{keys.Length} keys but {values.Length} values.", nameof(values));
        }

        return UpdateBatch(MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), keys.Length, mode);
    }

    /// <summary>Deletes many elements in one call (bpf_map_delete_batch); absent keys are skipped.</summary>
    /// <param name="keys"><paramref name="count"/> keys of <see cref="KeySize"/> bytes, back to back.</param>
    /// <param name="count">The number of keys.</param>
    /// <returns>The number of elements deleted (absent keys are not counted).</returns>
    /// <remarks>Map types without batch support (LPM tries) are handled element by element.</remarks>
    /// <exception cref="ArgumentException">The buffer length does not match <paramref name="count"/>.</exception>
    /// <exception cref="InvalidOperationException">The map is an array, or not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused a delete.</exception>
    public int DeleteBatch(ReadOnlySpan<byte> keys, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckBatch(keys.Length, count, KeySize, nameof(keys));
        RequireDeletable();
        int deleted = 0;
        int offset = 0;
        while (offset < count && !_deleteBatchUnsupported)
        {
            using var lease = Lease();
            uint done = (uint)(count - offset);
            var options = new LibBpf.MapBatchOptions { Size = (nuint)sizeof(LibBpf.MapBatchOptions) };
            int result;
            fixed (byte* k = keys[(offset * KeySize)..])
            {
                result = LibBpf.MapDeleteBatch(lease.Fd, k, &done, &options);
            }

            if (result >= 0)
            {
                return deleted + count - offset;
            }

            if (result == -Errno.ENOENT)
            {
                // The kernel stops at the first absent key; count what it deleted and skip that key.
                deleted += (int)done;
                offset += (int)done + 1;
                continue;
            }

            if (!IsBatchUnsupported(result, done, (uint)(count - offset)))
            {
                throw Failure("bpf_map_delete_batch", $"Deleting {count} elements of", result);
            }

            _deleteBatchUnsupported |= Errno.IsNotSupported(-result);
            break;
        }

        for (; offset < count; offset++)
        {
            if (Delete(keys.Slice(offset * KeySize, KeySize)))
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>Deletes many elements in one call, with keys as unmanaged structs; absent keys are skipped.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <param name="keys">The keys.</param>
    /// <returns>The number of elements deleted.</returns>
    /// <exception cref="ArgumentException">The key struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is an array, or not created yet.</exception>
    /// <exception cref="KernelOperationException">The kernel refused a delete.</exception>
    public int DeleteBatch<TKey>(ReadOnlySpan<TKey> keys)
        where TKey : unmanaged => DeleteBatch(MemoryMarshal.AsBytes(keys), keys.Length);

    /// <summary>Enumerates the keys of the map (bpf_map_get_next_key), lazily.</summary>
    /// <returns>Each key as a new array of <see cref="KeySize"/> bytes.</returns>
    /// <remarks>
    /// Arrays yield every index, set or not. Hash maps yield keys in bucket order; when the element last yielded is
    /// deleted meanwhile, the kernel restarts from the first key, so deleting while enumerating works but a key may
    /// be seen twice.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    public IEnumerable<byte[]> GetKeys()
    {
        using (Lease())
        {
        }

        return EnumerateKeys();
    }

    /// <summary>Enumerates the keys of the map as unmanaged structs, lazily.</summary>
    /// <typeparam name="TKey">The key struct; <see cref="KeySize"/> bytes.</typeparam>
    /// <returns>The keys.</returns>
    /// <exception cref="ArgumentException">The key struct has the wrong size.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    public IEnumerable<TKey> GetKeys<TKey>()
        where TKey : unmanaged
    {
        CheckKey(sizeof(TKey), nameof(TKey));
        return GetKeys().Select(key => MemoryMarshal.Read<TKey>(key));
    }

    /// <summary>Pins the map to a path in a BPF filesystem (bpf_obj_pin), so it outlives this process.</summary>
    /// <param name="path">A path in a mounted bpffs whose parent directory exists.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not in a BPF filesystem.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">The path exists (EEXIST) or pinning failed otherwise.</exception>
    public void Pin(string path)
    {
        BpfFileSystem.RequirePinPath(path);
        using var lease = Lease();
        int result = LibBpf.ObjPin(lease.Fd, path);
        if (result < 0)
        {
            throw KernelErrors.FromResult("bpf_obj_pin", $"Pinning BPF map '{Name}' at '{path}'", result);
        }

        PinPath = path;
    }

    /// <summary>Removes the pin made by <see cref="Pin"/> or opened with <see cref="OpenPinned"/>; does nothing when none.</summary>
    /// <remarks>The kernel frees the map once no pin, descriptor or program refers to it.</remarks>
    public void Unpin()
    {
        if (PinPath is { } path)
        {
            File.Delete(path);
            PinPath = null;
        }
    }

    /// <summary>Closes the descriptor of a map opened with <see cref="OpenPinned"/>; does nothing for a map of a <see cref="BpfObject"/>.</summary>
    public void Dispose()
    {
        if (_object is null)
        {
            _owner.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"BPF map '{Name}' ({Type}, key {KeySize} B, value {ValueSize} B, max {MaxEntries})";

    internal void OnLoaded()
    {
        _fd = LibBpf.MapFd(Pointer);
        RefreshFromLibBpf();
    }

    internal FdLease Lease()
    {
        if (_fd < 0)
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            throw new InvalidOperationException($"BPF map '{Name}' does not exist in the kernel yet; load its object first.");
        }

        return new FdLease(_owner, _fd);
    }

    /// <summary>Keeps the map's descriptor open until the returned owner is released (DangerousRelease).</summary>
    internal SafeHandle AddRef(out int fd)
    {
        using (Lease())
        {
        }

        bool added = false;
        _owner.DangerousAddRef(ref added);
        fd = _fd;
        return _owner;
    }

    private static int ReadPossibleCpuCount()
    {
        int count = LibBpf.NumPossibleCpus();
        return count > 0 ? count : throw KernelErrors.FromResult("libbpf_num_possible_cpus", "Counting the possible CPUs (/sys/devices/system/cpu/possible)", count);
    }

    /// <summary>
    /// Whether a failed batch call did nothing because the map type has no batch operation (ENOTSUPP, EOPNOTSUPP) or
    /// the kernel refused the batch as a whole (EINVAL before the first element: the count comes back untouched or 0).
    /// An EINVAL after some elements is an element's own failure.
    /// </summary>
    private static bool IsBatchUnsupported(int result, uint done, uint requested) =>
        Errno.IsNotSupported(-result) || (result == -Errno.EINVAL && (done == 0 || done == requested));

    private void RefreshFromLibBpf()
    {
        Type = (BpfMapType)LibBpf.MapType(Pointer);
        KeySize = (int)LibBpf.MapKeySize(Pointer);
        ValueSize = (int)LibBpf.MapValueSize(Pointer);
        MaxEntries = LibBpf.MapMaxEntries(Pointer);
        Flags = LibBpf.MapFlags(Pointer);
    }

    private void RequireConfigurable(string what)
    {
        if (_object is null)
        {
            throw new InvalidOperationException($"{what} is possible only for a map of a BpfObject before load; '{Name}' was opened from a pin.");
        }

        _object.ThrowIfNotConfigurable(what);
    }

    private void RequirePerCpu()
    {
        if (!IsPerCpu)
        {
            throw new InvalidOperationException($"BPF map '{Name}' is a {Type} map, not a per-CPU map.");
        }
    }

    private void RequireDeletable()
    {
        if (Type is BpfMapType.Array or BpfMapType.PerCpuArray)
        {
            throw new InvalidOperationException($"BPF map '{Name}' is a {Type} map: its elements always exist and cannot be deleted; write a zero value instead.");
        }
    }

    private void CheckKey(int length, string parameterName)
    {
        if (length != KeySize)
        {
            throw new ArgumentException($"BPF map '{Name}' has {KeySize}-byte keys; got {length} bytes.", parameterName);
        }
    }

    private void CheckValue(int length, string parameterName)
    {
        if (length != ValueBufferSize)
        {
            string perCpu = IsPerCpu ? $" ({PossibleCpuCount} possible CPUs x {AlignedValueSize} bytes; see TryLookupPerCpu)" : string.Empty;
            throw new ArgumentException($"BPF map '{Name}' needs {ValueBufferSize}-byte value buffers{perCpu}; got {length} bytes.", parameterName);
        }
    }

    private void CheckBatch(int length, int count, int elementSize, string parameterName)
    {
        if ((long)count * elementSize != length)
        {
            throw new ArgumentException($"BPF map '{Name}': {count} elements of {elementSize} bytes need {(long)count * elementSize} bytes; got {length}.", parameterName);
        }
    }

    private KernelOperationException Failure(string operation, string action, int result) =>
        KernelErrors.FromResult(operation, $"{action} BPF map '{Name}'", result);

    private IEnumerable<byte[]> EnumerateKeys()
    {
        byte[]? current = null;
        while (true)
        {
            byte[] next = new byte[KeySize];
            if (!NextKey(current, next))
            {
                yield break;
            }

            yield return next;
            current = next;
        }
    }

    private bool NextKey(byte[]? current, byte[] next)
    {
        using var lease = Lease();
        int result;
        fixed (byte* c = current)
        fixed (byte* n = next)
        {
            result = LibBpf.MapGetNextKey(lease.Fd, c, n);
        }

        if (result == -Errno.ENOENT)
        {
            return false;
        }

        return result >= 0 ? true : throw Failure("bpf_map_get_next_key", "Enumerating the keys of", result);
    }
}
