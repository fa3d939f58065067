using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The key of <c>np_policy</c> (<c>struct np_policy_key</c>): rule set, remote, and a prefix-masked destination port.</summary>
/// <remarks>A port range is stored as aligned blocks (see <see cref="BpfPortBlock"/>): <see cref="Port"/> holds the
/// block's first port and <see cref="PortPrefixLength"/> its prefix length (16 = one port, 0 = every port, with port
/// 0). Protocol 0 with prefix length 0 and port 0 matches every protocol.</remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfPolicyKey
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_policy_key)</c>.</summary>
    public const int Size = 16;

    private readonly uint _ruleset;
    private readonly uint _remote;
    private readonly ushort _port;
    private readonly byte _proto;
    private readonly byte _plen;
    private readonly byte _direction;
    private readonly byte _pad0;
    private readonly byte _pad1;
    private readonly byte _pad2;

    /// <summary>Initializes a key; the padding is zero.</summary>
    /// <param name="ruleSet">The rule-set id.</param>
    /// <param name="remote">The remote identity, address class, or <see cref="BpfConstants.RemoteAny"/>.</param>
    /// <param name="port">The destination port masked to <paramref name="portPrefixLength"/> bits; 0 when the length is 0.</param>
    /// <param name="protocol">The IP protocol (6, 17, 132), or 0 for every protocol.</param>
    /// <param name="portPrefixLength">The port prefix length, 0–16.</param>
    /// <param name="direction"><see cref="BpfConstants.DirectionIngress"/> or <see cref="BpfConstants.DirectionEgress"/>.</param>
    public BpfPolicyKey(uint ruleSet, uint remote, ushort port, byte protocol, byte portPrefixLength, byte direction)
    {
        _ruleset = ruleSet;
        _remote = remote;
        _port = port;
        _proto = protocol;
        _plen = portPrefixLength;
        _direction = direction;
        _pad0 = 0;
        _pad1 = 0;
        _pad2 = 0;
    }

    /// <summary>Gets the rule-set id (<c>ruleset</c>).</summary>
    public uint RuleSet => _ruleset;

    /// <summary>Gets the remote identity, address class or <see cref="BpfConstants.RemoteAny"/> (<c>remote</c>).</summary>
    public uint Remote => _remote;

    /// <summary>Gets the prefix-masked destination port (<c>port</c>).</summary>
    public ushort Port => _port;

    /// <summary>Gets the IP protocol, 0 for every protocol (<c>proto</c>).</summary>
    public byte Protocol => _proto;

    /// <summary>Gets the port prefix length, 0–16 (<c>plen</c>).</summary>
    public byte PortPrefixLength => _plen;

    /// <summary>Gets the direction, <c>NP_DIR_*</c> (<c>direction</c>).</summary>
    public byte Direction => _direction;

    /// <summary>Reads a key from its little-endian map bytes (the padding is ignored).</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The key.</returns>
    public static BpfPolicyKey ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        source[10],
        source[11],
        source[12]);

    /// <summary>Writes the key's map bytes (little-endian integers, as on x86-64 and arm64; zero padding).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _ruleset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], _remote);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], _port);
        destination[10] = _proto;
        destination[11] = _plen;
        destination[12] = _direction;
        destination.Slice(13, 3).Clear();
    }
}
