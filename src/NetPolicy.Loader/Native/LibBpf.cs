using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>
/// The subset of libbpf 1.x (libbpf.so.1) the loader calls. libbpf 1.0+ runs in strict mode: functions returning
/// <see cref="int"/> return a negative errno on failure; functions returning a pointer return <c>NULL</c> and set
/// errno. Signatures follow /usr/include/bpf/libbpf.h and bpf.h of libbpf 1.1, the oldest version supported.
/// </summary>
internal static unsafe partial class LibBpf
{
    public const string Library = "libbpf.so.1";

    // ---- bpf_object ----

    [LibraryImport(Library, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
    public static partial nint ObjectOpenMem(byte* buffer, nuint size, ObjectOpenOptions* options);

    [LibraryImport(Library, EntryPoint = "bpf_object__load", SetLastError = true)]
    public static partial int ObjectLoad(nint obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__close", SetLastError = true)]
    public static partial void ObjectClose(nint obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__name", SetLastError = true)]
    public static partial byte* ObjectName(nint obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__next_map", SetLastError = true)]
    public static partial nint ObjectNextMap(nint obj, nint previous);

    [LibraryImport(Library, EntryPoint = "bpf_object__next_program", SetLastError = true)]
    public static partial nint ObjectNextProgram(nint obj, nint previous);

    [LibraryImport(Library, EntryPoint = "bpf_object__find_map_by_name", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ObjectFindMapByName(nint obj, string name);

    // ---- bpf_map (libbpf-side description, before and after load) ----

    [LibraryImport(Library, EntryPoint = "bpf_map__name", SetLastError = true)]
    public static partial byte* MapName(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__type", SetLastError = true)]
    public static partial int MapType(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__key_size", SetLastError = true)]
    public static partial uint MapKeySize(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__value_size", SetLastError = true)]
    public static partial uint MapValueSize(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__max_entries", SetLastError = true)]
    public static partial uint MapMaxEntries(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__map_flags", SetLastError = true)]
    public static partial uint MapFlags(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__set_max_entries", SetLastError = true)]
    public static partial int MapSetMaxEntries(nint map, uint maxEntries);

    [LibraryImport(Library, EntryPoint = "bpf_map__reuse_fd", SetLastError = true)]
    public static partial int MapReuseFd(nint map, int fd);

    [LibraryImport(Library, EntryPoint = "bpf_map__fd", SetLastError = true)]
    public static partial int MapFd(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__is_internal", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool MapIsInternal(nint map);

    [LibraryImport(Library, EntryPoint = "bpf_map__initial_value", SetLastError = true)]
    public static partial void* MapInitialValue(nint map, nuint* size);

    // ---- bpf_program ----

    [LibraryImport(Library, EntryPoint = "bpf_program__name", SetLastError = true)]
    public static partial byte* ProgramName(nint program);

    [LibraryImport(Library, EntryPoint = "bpf_program__type", SetLastError = true)]
    public static partial int ProgramType(nint program);

    [LibraryImport(Library, EntryPoint = "bpf_program__fd", SetLastError = true)]
    public static partial int ProgramFd(nint program);

    [LibraryImport(Library, EntryPoint = "bpf_program__set_log_buf", SetLastError = true)]
    public static partial int ProgramSetLogBuffer(nint program, byte* buffer, nuint size);

    // ---- fd-based map operations (bpf.h) ----

    [LibraryImport(Library, EntryPoint = "bpf_map_update_elem", SetLastError = true)]
    public static partial int MapUpdateElement(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Library, EntryPoint = "bpf_map_lookup_elem", SetLastError = true)]
    public static partial int MapLookupElement(int fd, void* key, void* value);

    [LibraryImport(Library, EntryPoint = "bpf_map_delete_elem", SetLastError = true)]
    public static partial int MapDeleteElement(int fd, void* key);

    [LibraryImport(Library, EntryPoint = "bpf_map_get_next_key", SetLastError = true)]
    public static partial int MapGetNextKey(int fd, void* key, void* nextKey);

    [LibraryImport(Library, EntryPoint = "bpf_map_update_batch", SetLastError = true)]
    public static partial int MapUpdateBatch(int fd, void* keys, void* values, uint* count, MapBatchOptions* options);

    [LibraryImport(Library, EntryPoint = "bpf_map_delete_batch", SetLastError = true)]
    public static partial int MapDeleteBatch(int fd, void* keys, uint* count, MapBatchOptions* options);

    // ---- objects in bpffs, info, links, test runs ----

    [LibraryImport(Library, EntryPoint = "bpf_obj_pin", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ObjPin(int fd, string path);

    [LibraryImport(Library, EntryPoint = "bpf_obj_get", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ObjGet(string path);

    [LibraryImport(Library, EntryPoint = "bpf_obj_get_info_by_fd", SetLastError = true)]
    public static partial int ObjGetInfoByFd(int fd, void* info, uint* infoLength);

    [LibraryImport(Library, EntryPoint = "bpf_prog_test_run_opts", SetLastError = true)]
    public static partial int ProgramTestRun(int programFd, TestRunOptions* options);

    [LibraryImport(Library, EntryPoint = "bpf_link_detach", SetLastError = true)]
    public static partial int LinkDetach(int linkFd);

    // ---- tc (netlink, classic clsact qdisc + cls_bpf filter) ----

    [LibraryImport(Library, EntryPoint = "bpf_tc_hook_create", SetLastError = true)]
    public static partial int TcHookCreate(TcHook* hook);

    [LibraryImport(Library, EntryPoint = "bpf_tc_hook_destroy", SetLastError = true)]
    public static partial int TcHookDestroy(TcHook* hook);

    [LibraryImport(Library, EntryPoint = "bpf_tc_attach", SetLastError = true)]
    public static partial int TcAttach(TcHook* hook, TcOptions* options);

    [LibraryImport(Library, EntryPoint = "bpf_tc_detach", SetLastError = true)]
    public static partial int TcDetach(TcHook* hook, TcOptions* options);

    [LibraryImport(Library, EntryPoint = "bpf_tc_query", SetLastError = true)]
    public static partial int TcQuery(TcHook* hook, TcOptions* options);

    // ---- ring buffer ----

    [LibraryImport(Library, EntryPoint = "ring_buffer__new", SetLastError = true)]
    public static partial nint RingBufferNew(int mapFd, delegate* unmanaged[Cdecl]<void*, void*, nuint, int> sampleCallback, void* context, RingBufferOptions* options);

    [LibraryImport(Library, EntryPoint = "ring_buffer__free", SetLastError = true)]
    public static partial void RingBufferFree(nint ringBuffer);

    [LibraryImport(Library, EntryPoint = "ring_buffer__poll", SetLastError = true)]
    public static partial int RingBufferPoll(nint ringBuffer, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "ring_buffer__consume", SetLastError = true)]
    public static partial int RingBufferConsume(nint ringBuffer);

    // ---- library ----

    [LibraryImport(Library, EntryPoint = "libbpf_strerror", SetLastError = true)]
    public static partial int StrError(int error, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "libbpf_probe_bpf_prog_type", SetLastError = true)]
    public static partial int ProbeProgramType(int programType, void* options);

    [LibraryImport(Library, EntryPoint = "libbpf_num_possible_cpus", SetLastError = true)]
    public static partial int NumPossibleCpus();

    [LibraryImport(Library, EntryPoint = "libbpf_set_print", SetLastError = true)]
    public static partial delegate* unmanaged[Cdecl]<int, byte*, nint, int> SetPrint(delegate* unmanaged[Cdecl]<int, byte*, nint, int> print);

    /// <summary>Converts a libbpf 1.x return value (negative errno on failure) to a positive errno, 0 on success.</summary>
    public static int ErrnoOf(int result) => result < 0 ? -result : 0;

    /// <summary>Gets the errno left by the last pointer-returning call that returned <c>NULL</c>.</summary>
    public static int LastErrno()
    {
        int errno = Marshal.GetLastPInvokeError();
        return errno == 0 ? Errno.EINVAL : errno;
    }

    /// <summary>Reads a NUL-terminated UTF-8 string owned by libbpf.</summary>
    public static string ReadString(byte* value) => value == null ? string.Empty : Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;

    // ---- option structs: the libbpf 1.1 layouts; sz is the size we pass, so newer libbpf versions accept them ----

    /// <summary>struct bpf_object_open_opts (libbpf 1.1: 80 bytes on 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ObjectOpenOptions
    {
        public nuint Size;
        public byte* ObjectName;
        public byte RelaxedMaps;
        public byte* PinRootPath;
        public uint Reserved;
        public byte* Kconfig;
        public byte* BtfCustomPath;
        public byte* KernelLogBuffer;
        public nuint KernelLogSize;
        public uint KernelLogLevel;
    }

    /// <summary>struct bpf_map_batch_opts (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MapBatchOptions
    {
        public nuint Size;
        public ulong ElementFlags;
        public ulong Flags;
    }

    /// <summary>struct bpf_test_run_opts (libbpf 1.1: 80 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TestRunOptions
    {
        public nuint Size;
        public void* DataIn;
        public void* DataOut;
        public uint DataSizeIn;
        public uint DataSizeOut;
        public void* ContextIn;
        public void* ContextOut;
        public uint ContextSizeIn;
        public uint ContextSizeOut;
        public uint ReturnValue;
        public int Repeat;
        public uint Duration;
        public uint Flags;
        public uint Cpu;
        public uint BatchSize;
    }

    /// <summary>struct bpf_tc_hook (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TcHook
    {
        public nuint Size;
        public int InterfaceIndex;
        public int AttachPoint;
        public uint Parent;
    }

    /// <summary>struct bpf_tc_opts (32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TcOptions
    {
        public nuint Size;
        public int ProgramFd;
        public uint Flags;
        public uint ProgramId;
        public uint Handle;
        public uint Priority;
    }

    /// <summary>struct ring_buffer_opts (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RingBufferOptions
    {
        public nuint Size;
    }

    /// <summary>enum bpf_tc_attach_point.</summary>
    public const int TcIngress = 1;

    /// <summary>enum bpf_tc_attach_point.</summary>
    public const int TcEgress = 2;
}
