using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>One record of the <c>np_events</c> ring buffer (<c>struct np_event</c>): a verdict the datapath reports.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfEvent
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_event)</c>.</summary>
    public const int Size = 72;

    private readonly ulong _timestampNs;
    private readonly uint _endpoint;
    private readonly uint _localIdentity;
    private readonly uint _remoteIdentity;
    private readonly uint _remoteClass;
    private readonly uint _ruleId;
    private readonly ushort _reason;
    private readonly byte _verdict;
    private readonly byte _direction;
    private readonly byte _family;
    private readonly byte _proto;
    private readonly ushort _sport;
    private readonly ushort _dport;
    private readonly ushort _pad;
    private readonly BpfAddress _saddr;
    private readonly BpfAddress _daddr;

    /// <summary>Initializes an event; the padding is zero.</summary>
    /// <param name="timestampNanoseconds">The <c>bpf_ktime_get_ns()</c> time.</param>
    /// <param name="endpoint">The endpoint id of the program.</param>
    /// <param name="localIdentity">The endpoint's identity (0 when it has no <c>np_endpoints</c> entry).</param>
    /// <param name="remoteIdentity">The remote side's identity (0 when not looked up).</param>
    /// <param name="remoteClass">The remote side's address class (0 when not looked up).</param>
    /// <param name="ruleId">A policy rule id or an <c>NP_RULE_*</c> special.</param>
    /// <param name="reason">An <c>NP_REASON_*</c> value.</param>
    /// <param name="verdict">An <c>NP_VERDICT_*</c> value.</param>
    /// <param name="direction">An <c>NP_DIR_*</c> value.</param>
    /// <param name="family">4 or 6.</param>
    /// <param name="protocol">The IP protocol.</param>
    /// <param name="sourcePort">The source port.</param>
    /// <param name="destinationPort">The destination port.</param>
    /// <param name="sourceAddress">The source address.</param>
    /// <param name="destinationAddress">The destination address.</param>
    public BpfEvent(
        ulong timestampNanoseconds, uint endpoint, uint localIdentity, uint remoteIdentity, uint remoteClass, uint ruleId, ushort reason, byte verdict,
        byte direction, byte family, byte protocol, ushort sourcePort, ushort destinationPort, BpfAddress sourceAddress, BpfAddress destinationAddress)
    {
        _timestampNs = timestampNanoseconds;
        _endpoint = endpoint;
        _localIdentity = localIdentity;
        _remoteIdentity = remoteIdentity;
        _remoteClass = remoteClass;
        _ruleId = ruleId;
        _reason = reason;
        _verdict = verdict;
        _direction = direction;
        _family = family;
        _proto = protocol;
        _sport = sourcePort;
        _dport = destinationPort;
        _pad = 0;
        _saddr = sourceAddress;
        _daddr = destinationAddress;
    }

    /// <summary>Gets the monotonic time in nanoseconds (<c>timestamp_ns</c>).</summary>
    public ulong TimestampNanoseconds => _timestampNs;

    /// <summary>Gets the endpoint id (<c>endpoint</c>).</summary>
    public uint Endpoint => _endpoint;

    /// <summary>Gets the endpoint's identity (<c>local_identity</c>).</summary>
    public uint LocalIdentity => _localIdentity;

    /// <summary>Gets the remote identity (<c>remote_identity</c>).</summary>
    public uint RemoteIdentity => _remoteIdentity;

    /// <summary>Gets the remote address class (<c>remote_class</c>).</summary>
    public uint RemoteClass => _remoteClass;

    /// <summary>Gets the rule id or <c>NP_RULE_*</c> special (<c>rule_id</c>).</summary>
    public uint RuleId => _ruleId;

    /// <summary>Gets the <c>NP_REASON_*</c> value (<c>reason</c>).</summary>
    public ushort Reason => _reason;

    /// <summary>Gets the <c>NP_VERDICT_*</c> value (<c>verdict</c>).</summary>
    public byte Verdict => _verdict;

    /// <summary>Gets the <c>NP_DIR_*</c> value (<c>direction</c>).</summary>
    public byte Direction => _direction;

    /// <summary>Gets the address family, 4 or 6 (<c>family</c>).</summary>
    public byte Family => _family;

    /// <summary>Gets the IP protocol (<c>proto</c>).</summary>
    public byte Protocol => _proto;

    /// <summary>Gets the source port (<c>sport</c>).</summary>
    public ushort SourcePort => _sport;

    /// <summary>Gets the destination port (<c>dport</c>).</summary>
    public ushort DestinationPort => _dport;

    /// <summary>Gets the source address (<c>saddr</c>).</summary>
    public BpfAddress SourceAddress => _saddr;

    /// <summary>Gets the destination address (<c>daddr</c>).</summary>
    public BpfAddress DestinationAddress => _daddr;

    /// <summary>Reads an event from its little-endian bytes (a ring-buffer record; the padding is ignored).</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The event.</returns>
    public static BpfEvent ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[20..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[24..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[28..]),
        source[30],
        source[31],
        source[32],
        source[33],
        BinaryPrimitives.ReadUInt16LittleEndian(source[34..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[36..]),
        BpfAddress.FromBytes(source.Slice(40, 16)),
        BpfAddress.FromBytes(source.Slice(56, 16)));

    /// <summary>Writes the event's bytes (little-endian integers, as on x86-64 and arm64; zero padding).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _timestampNs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], _endpoint);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], _localIdentity);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], _remoteIdentity);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], _remoteClass);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], _ruleId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[28..], _reason);
        destination[30] = _verdict;
        destination[31] = _direction;
        destination[32] = _family;
        destination[33] = _proto;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[34..], _sport);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[36..], _dport);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[38..], 0);
        _saddr.CopyTo(destination.Slice(40, 16));
        _daddr.CopyTo(destination.Slice(56, 16));
    }
}
