using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The value of <c>np_conntrack</c> (<c>struct np_ct_value</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfConntrackValue
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ct_value)</c>.</summary>
    public const int Size = 16;

    private readonly ulong _lastSeenNs;
    private readonly uint _ruleId;
    private readonly uint _flags;

    /// <summary>Initializes a value.</summary>
    /// <param name="lastSeenNanoseconds">The <c>bpf_ktime_get_ns()</c> time the flow was last seen.</param>
    /// <param name="ruleId">The rule that allowed the first packet, or an <c>NP_RULE_*</c> special.</param>
    /// <param name="flags">Reserved, zero.</param>
    public BpfConntrackValue(ulong lastSeenNanoseconds, uint ruleId, uint flags)
    {
        _lastSeenNs = lastSeenNanoseconds;
        _ruleId = ruleId;
        _flags = flags;
    }

    /// <summary>Gets the monotonic time the flow was last seen, in nanoseconds (<c>last_seen_ns</c>).</summary>
    public ulong LastSeenNanoseconds => _lastSeenNs;

    /// <summary>Gets the rule that allowed the first packet (<c>rule_id</c>).</summary>
    public uint RuleId => _ruleId;

    /// <summary>Gets the flags, reserved and zero (<c>flags</c>).</summary>
    public uint Flags => _flags;

    /// <summary>Reads a value from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The value.</returns>
    public static BpfConntrackValue ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Writes the value's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _lastSeenNs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], _ruleId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], _flags);
    }
}
