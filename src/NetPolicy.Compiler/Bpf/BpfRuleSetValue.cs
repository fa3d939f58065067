using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The value of <c>np_rulesets</c> (<c>struct np_ruleset_value</c>), indexed by rule-set id: which policy
/// lookups can hit.</summary>
/// <remarks>Bit <c>p</c> (0–16) of a protocol's mask is set when some policy entry of the rule set for that protocol
/// has port prefix length <c>p</c>; the datapath looks up only those lengths.</remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfRuleSetValue
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ruleset_value)</c>.</summary>
    public const int Size = 16;

    private readonly uint _flags;
    private readonly uint _tcpPlens;
    private readonly uint _udpPlens;
    private readonly uint _sctpPlens;

    /// <summary>Initializes a value.</summary>
    /// <param name="flags"><c>NP_RS_*</c> flags (<see cref="BpfConstants.RuleSetPresent"/>, ...).</param>
    /// <param name="tcpPortPrefixLengths">The TCP port-prefix-length mask.</param>
    /// <param name="udpPortPrefixLengths">The UDP port-prefix-length mask.</param>
    /// <param name="sctpPortPrefixLengths">The SCTP port-prefix-length mask.</param>
    public BpfRuleSetValue(uint flags, uint tcpPortPrefixLengths, uint udpPortPrefixLengths, uint sctpPortPrefixLengths)
    {
        _flags = flags;
        _tcpPlens = tcpPortPrefixLengths;
        _udpPlens = udpPortPrefixLengths;
        _sctpPlens = sctpPortPrefixLengths;
    }

    /// <summary>Gets the <c>NP_RS_*</c> flags (<c>flags</c>).</summary>
    public uint Flags => _flags;

    /// <summary>Gets the TCP port-prefix-length mask (<c>tcp_plens</c>).</summary>
    public uint TcpPortPrefixLengths => _tcpPlens;

    /// <summary>Gets the UDP port-prefix-length mask (<c>udp_plens</c>).</summary>
    public uint UdpPortPrefixLengths => _udpPlens;

    /// <summary>Gets the SCTP port-prefix-length mask (<c>sctp_plens</c>).</summary>
    public uint SctpPortPrefixLengths => _sctpPlens;

    /// <summary>Returns the port-prefix-length mask of an IP protocol, as the datapath's <c>np_plens</c> does.</summary>
    /// <param name="protocol">The IP protocol number (6, 17, 132; any other gives 0).</param>
    /// <returns>The mask.</returns>
    public uint PortPrefixLengths(byte protocol) => protocol switch
    {
        BpfConstants.ProtocolTcp => _tcpPlens,
        BpfConstants.ProtocolUdp => _udpPlens,
        BpfConstants.ProtocolSctp => _sctpPlens,
        _ => 0,
    };

    /// <summary>Reads a value from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The value.</returns>
    public static BpfRuleSetValue ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Writes the value's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], _tcpPlens);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], _udpPlens);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], _sctpPlens);
    }
}
