using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The value of <c>np_policy</c> (<c>struct np_policy_value</c>): the rule id (attribution) and the action.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfPolicyValue
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_policy_value)</c>.</summary>
    public const int Size = 8;

    private readonly uint _ruleId;
    private readonly byte _action;
    private readonly byte _tier;
    private readonly ushort _priority;

    /// <summary>Initializes a value.</summary>
    /// <param name="ruleId">The rule id (see <see cref="BpfMapImages.RuleAttribution"/>).</param>
    /// <param name="action">The action, <see cref="BpfConstants.ActionAllow"/>.</param>
    /// <param name="tier">The tier (1 = NetworkPolicy).</param>
    /// <param name="priority">The priority within the tier.</param>
    public BpfPolicyValue(uint ruleId, byte action, byte tier, ushort priority)
    {
        _ruleId = ruleId;
        _action = action;
        _tier = tier;
        _priority = priority;
    }

    /// <summary>Gets the rule id (<c>rule_id</c>).</summary>
    public uint RuleId => _ruleId;

    /// <summary>Gets the action (<c>action</c>).</summary>
    public byte Action => _action;

    /// <summary>Gets the tier (<c>tier</c>): 1 = NetworkPolicy.</summary>
    public byte Tier => _tier;

    /// <summary>Gets the priority within the tier (<c>priority</c>).</summary>
    public ushort Priority => _priority;

    /// <summary>Reads a value from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The value.</returns>
    public static BpfPolicyValue ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        source[4],
        source[5],
        BinaryPrimitives.ReadUInt16LittleEndian(source[6..]));

    /// <summary>Writes the value's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _ruleId);
        destination[4] = _action;
        destination[5] = _tier;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], _priority);
    }
}
