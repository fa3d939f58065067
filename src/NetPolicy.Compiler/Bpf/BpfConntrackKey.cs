using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The key of <c>np_conntrack</c> (<c>struct np_ct_key</c>): one (flow, endpoint, direction) the endpoint allowed.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfConntrackKey
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ct_key)</c>.</summary>
    public const int Size = 44;

    private readonly BpfAddress _saddr;
    private readonly BpfAddress _daddr;
    private readonly ushort _sport;
    private readonly ushort _dport;
    private readonly uint _endpoint;
    private readonly byte _proto;
    private readonly byte _direction;
    private readonly byte _pad0;
    private readonly byte _pad1;

    /// <summary>Initializes a key; the padding is zero.</summary>
    /// <param name="sourceAddress">The source address.</param>
    /// <param name="destinationAddress">The destination address.</param>
    /// <param name="sourcePort">The source port.</param>
    /// <param name="destinationPort">The destination port.</param>
    /// <param name="endpoint">The endpoint id of the program that created the entry.</param>
    /// <param name="protocol">The IP protocol.</param>
    /// <param name="direction">The <c>NP_DIR_*</c> of the program that created the entry.</param>
    public BpfConntrackKey(BpfAddress sourceAddress, BpfAddress destinationAddress, ushort sourcePort, ushort destinationPort, uint endpoint, byte protocol, byte direction)
    {
        _saddr = sourceAddress;
        _daddr = destinationAddress;
        _sport = sourcePort;
        _dport = destinationPort;
        _endpoint = endpoint;
        _proto = protocol;
        _direction = direction;
        _pad0 = 0;
        _pad1 = 0;
    }

    /// <summary>Gets the source address (<c>saddr</c>).</summary>
    public BpfAddress SourceAddress => _saddr;

    /// <summary>Gets the destination address (<c>daddr</c>).</summary>
    public BpfAddress DestinationAddress => _daddr;

    /// <summary>Gets the source port (<c>sport</c>).</summary>
    public ushort SourcePort => _sport;

    /// <summary>Gets the destination port (<c>dport</c>).</summary>
    public ushort DestinationPort => _dport;

    /// <summary>Gets the endpoint id (<c>endpoint</c>).</summary>
    public uint Endpoint => _endpoint;

    /// <summary>Gets the IP protocol (<c>proto</c>).</summary>
    public byte Protocol => _proto;

    /// <summary>Gets the direction, <c>NP_DIR_*</c> (<c>direction</c>).</summary>
    public byte Direction => _direction;

    /// <summary>Reads a key from its little-endian map bytes (the padding is ignored).</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The key.</returns>
    public static BpfConntrackKey ReadFrom(ReadOnlySpan<byte> source) => new(
        BpfAddress.FromBytes(source[..16]),
        BpfAddress.FromBytes(source.Slice(16, 16)),
        BinaryPrimitives.ReadUInt16LittleEndian(source[32..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[34..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[36..]),
        source[40],
        source[41]);

    /// <summary>Writes the key's map bytes (little-endian integers, as on x86-64 and arm64; zero padding).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        _saddr.CopyTo(destination[..16]);
        _daddr.CopyTo(destination.Slice(16, 16));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[32..], _sport);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[34..], _dport);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[36..], _endpoint);
        destination[40] = _proto;
        destination[41] = _direction;
        destination[42] = 0;
        destination[43] = 0;
    }
}
