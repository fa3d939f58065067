using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The value of <c>np_endpoints</c> (<c>struct np_endpoint_value</c>), indexed by endpoint id.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfEndpointValue
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_endpoint_value)</c>.</summary>
    public const int Size = 16;

    private readonly uint _identity;
    private readonly uint _ingressRuleset;
    private readonly uint _egressRuleset;
    private readonly uint _flags;

    /// <summary>Initializes a value.</summary>
    /// <param name="identity">The pod's security identity.</param>
    /// <param name="ingressRuleSet">The ingress rule-set id, or 0 when not isolated for ingress.</param>
    /// <param name="egressRuleSet">The egress rule-set id, or 0 when not isolated for egress.</param>
    /// <param name="flags"><c>NP_EP_*</c> flags (<see cref="BpfConstants.EndpointPresent"/>, ...).</param>
    public BpfEndpointValue(uint identity, uint ingressRuleSet, uint egressRuleSet, uint flags)
    {
        _identity = identity;
        _ingressRuleset = ingressRuleSet;
        _egressRuleset = egressRuleSet;
        _flags = flags;
    }

    /// <summary>Gets the pod's security identity (<c>identity</c>).</summary>
    public uint Identity => _identity;

    /// <summary>Gets the ingress rule-set id (<c>ingress_ruleset</c>), 0 when not isolated.</summary>
    public uint IngressRuleSet => _ingressRuleset;

    /// <summary>Gets the egress rule-set id (<c>egress_ruleset</c>), 0 when not isolated.</summary>
    public uint EgressRuleSet => _egressRuleset;

    /// <summary>Gets the <c>NP_EP_*</c> flags (<c>flags</c>).</summary>
    public uint Flags => _flags;

    /// <summary>Reads a value from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The value.</returns>
    public static BpfEndpointValue ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Writes the value's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _identity);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], _ingressRuleset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], _egressRuleset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], _flags);
    }
}
