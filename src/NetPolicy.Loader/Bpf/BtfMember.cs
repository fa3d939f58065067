namespace NetPolicy.Loader.Bpf;

/// <summary>A member of a struct or union described by BTF.</summary>
public sealed record BtfMember
{
    /// <summary>Gets the member name; empty for an anonymous struct or union member.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the offset from the start of the struct in bytes (rounded down for bitfields).</summary>
    public required int ByteOffset { get; init; }

    /// <summary>Gets the offset from the start of the struct in bits.</summary>
    public required int BitOffset { get; init; }

    /// <summary>Gets the width of a bitfield member in bits; 0 when the member is not a bitfield.</summary>
    public int BitfieldSize { get; init; }

    /// <summary>Gets the size of the member's type in bytes; <see langword="null"/> when BTF cannot size it (a function, a forward declaration).</summary>
    public int? Size { get; init; }

    /// <summary>Gets the member's type as C would spell it, roughly (<c>__u32</c>, <c>__u8[16]</c>, <c>struct np_flow</c>).</summary>
    public required string TypeName { get; init; }
}
