using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>
/// bpf(2) commands libbpf 1.1 does not wrap for our purposes (tcx arrived in Linux 6.6 and libbpf 1.3), issued with
/// syscall(2). Each command uses a zeroed attribute block laid out as in include/uapi/linux/bpf.h.
/// </summary>
internal static unsafe class BpfSyscall
{
    public const int BPF_PROG_QUERY = 16;
    public const int BPF_LINK_CREATE = 28;

    public const uint BPF_TCX_INGRESS = 46;
    public const uint BPF_TCX_EGRESS = 47;

    public const uint BPF_LINK_TYPE_TCX = 11;

    /// <summary>bpf(2): 321 on x86-64, 280 on arm64 (asm-generic).</summary>
    public static nint SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 280,
        _ => throw new PlatformNotSupportedException($"NetPolicy.Loader does not know the bpf(2) syscall number on {RuntimeInformation.ProcessArchitecture}."),
    };

    /// <summary>BPF_LINK_CREATE for tcx: returns the link fd, or a negative errno.</summary>
    public static int TcxLinkCreate(int programFd, int interfaceIndex, uint attachType)
    {
        LinkCreateAttr attr = default;
        attr.ProgramFd = (uint)programFd;
        attr.TargetInterfaceIndex = (uint)interfaceIndex;
        attr.AttachType = attachType;
        return Invoke(BPF_LINK_CREATE, &attr, sizeof(LinkCreateAttr));
    }

    /// <summary>BPF_PROG_QUERY for tcx: the ids of the programs attached to an interface, in run order.</summary>
    /// <returns>0 or a negative errno.</returns>
    public static int TcxQuery(int interfaceIndex, uint attachType, out uint[] programIds)
    {
        programIds = [];
        ProgQueryAttr attr = default;
        attr.TargetInterfaceIndex = (uint)interfaceIndex;
        attr.AttachType = attachType;
        int result = Invoke(BPF_PROG_QUERY, &attr, sizeof(ProgQueryAttr));
        if (result < 0 || attr.ProgramCount == 0)
        {
            return result;
        }

        var ids = new uint[attr.ProgramCount];
        fixed (uint* p = ids)
        {
            attr = default;
            attr.TargetInterfaceIndex = (uint)interfaceIndex;
            attr.AttachType = attachType;
            attr.ProgramIds = (ulong)p;
            attr.ProgramCount = (uint)ids.Length;
            result = Invoke(BPF_PROG_QUERY, &attr, sizeof(ProgQueryAttr));
        }

        if (result >= 0)
        {
            programIds = ids[..(int)Math.Min(attr.ProgramCount, (uint)ids.Length)];
        }

        return result;
    }

    /// <summary>bpf_obj_get_info_by_fd for a program: its kernel id.</summary>
    public static int GetProgramId(int programFd, out uint id)
    {
        ProgramInfo info = default;
        uint length = (uint)sizeof(ProgramInfo);
        int result = LibBpf.ObjGetInfoByFd(programFd, &info, &length);
        id = info.Id;
        return result;
    }

    /// <summary>bpf_obj_get_info_by_fd for a map.</summary>
    public static int GetMapInfo(int mapFd, out MapInfo info)
    {
        MapInfo value = default;
        uint length = (uint)sizeof(MapInfo);
        int result = LibBpf.ObjGetInfoByFd(mapFd, &value, &length);
        info = value;
        return result;
    }

    /// <summary>bpf_obj_get_info_by_fd for a link.</summary>
    public static int GetLinkInfo(int linkFd, out LinkInfo info)
    {
        LinkInfo value = default;
        uint length = (uint)sizeof(LinkInfo);
        int result = LibBpf.ObjGetInfoByFd(linkFd, &value, &length);
        info = value;
        return result;
    }

    private static int Invoke(int command, void* attr, int size)
    {
        nint result = LibC.Syscall(SyscallNumber, command, attr, size);
        return result < 0 ? -Marshal.GetLastPInvokeError() : (int)result;
    }

    /// <summary>union bpf_attr, BPF_LINK_CREATE member, zero-padded to 64 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct LinkCreateAttr
    {
        [FieldOffset(0)] public uint ProgramFd;
        [FieldOffset(4)] public uint TargetInterfaceIndex;
        [FieldOffset(8)] public uint AttachType;
        [FieldOffset(12)] public uint Flags;
        [FieldOffset(16)] public uint RelativeFdOrId;
        [FieldOffset(24)] public ulong ExpectedRevision;
    }

    /// <summary>union bpf_attr, BPF_PROG_QUERY member (64 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct ProgQueryAttr
    {
        [FieldOffset(0)] public uint TargetInterfaceIndex;
        [FieldOffset(4)] public uint AttachType;
        [FieldOffset(8)] public uint QueryFlags;
        [FieldOffset(12)] public uint AttachFlags;
        [FieldOffset(16)] public ulong ProgramIds;
        [FieldOffset(24)] public uint ProgramCount;
        [FieldOffset(32)] public ulong ProgramAttachFlags;
        [FieldOffset(40)] public ulong LinkIds;
        [FieldOffset(48)] public ulong LinkAttachFlags;
        [FieldOffset(56)] public ulong Revision;
    }

    /// <summary>The head of struct bpf_prog_info (the kernel fills min(its size, ours)).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ProgramInfo
    {
        public uint Type;
        public uint Id;
        public ulong Tag;
    }

    /// <summary>struct bpf_map_info (88 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MapInfo
    {
        public uint Type;
        public uint Id;
        public uint KeySize;
        public uint ValueSize;
        public uint MaxEntries;
        public uint MapFlags;
        public fixed byte Name[16];
        public uint InterfaceIndex;
        public uint BtfVmlinuxValueTypeId;
        public ulong NetnsDev;
        public ulong NetnsInode;
        public uint BtfId;
        public uint BtfKeyTypeId;
        public uint BtfValueTypeId;
        public uint Reserved;
        public ulong MapExtra;
    }

    /// <summary>The head of struct bpf_link_info with its tcx member.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 48)]
    public struct LinkInfo
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Id;
        [FieldOffset(8)] public uint ProgramId;
        [FieldOffset(16)] public uint TcxInterfaceIndex;
        [FieldOffset(20)] public uint TcxAttachType;
    }
}
