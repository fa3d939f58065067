using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Tests.Bpf;

// Test mirrors of bpf-templates/include/netpolicy_maps.h (the product mirrors live in NetPolicy.Compiler.Bpf).

[StructLayout(LayoutKind.Sequential)]
internal struct NpConfig
{
    public uint Endpoint;
    public uint Mode;
    public uint Flags;
    public uint Abi;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NpPolicyKey
{
    public uint RuleSet;
    public uint Remote;
    public ushort Port;
    public byte Protocol;
    public byte PrefixLength;
    public byte Direction;
    public byte Pad0;
    public byte Pad1;
    public byte Pad2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NpPolicyValue
{
    public uint RuleId;
    public byte Action;
    public byte Tier;
    public ushort Priority;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NpIPCacheLpmKey
{
    public uint PrefixLength;
    public fixed byte Address[16];

    public static NpIPCacheLpmKey IPv4(byte a, byte b, byte c, byte d, int prefixLength)
    {
        var key = new NpIPCacheLpmKey { PrefixLength = (uint)(96 + prefixLength) };
        key.Address[10] = 0xff;
        key.Address[11] = 0xff;
        key.Address[12] = a;
        key.Address[13] = b;
        key.Address[14] = c;
        key.Address[15] = d;
        return key;
    }
}

[StructLayout(LayoutKind.Sequential)]
internal struct NpIPCacheValue
{
    public uint Identity;
    public uint AddressClass;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NpEndpointValue
{
    public uint Identity;
    public uint IngressRuleSet;
    public uint EgressRuleSet;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NpEvent
{
    public ulong TimestampNs;
    public uint Endpoint;
    public uint LocalIdentity;
    public uint RemoteIdentity;
    public uint RemoteClass;
    public uint RuleId;
    public ushort Reason;
    public byte Verdict;
    public byte Direction;
    public byte Family;
    public byte Protocol;
    public ushort SourcePort;
    public ushort DestinationPort;
    public ushort Pad;
    public fixed byte SourceAddress[16];
    public fixed byte DestinationAddress[16];
}
