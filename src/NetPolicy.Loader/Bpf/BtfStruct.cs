using System.Collections.Immutable;

namespace NetPolicy.Loader.Bpf;

/// <summary>A named struct or union described by the BTF of a BPF object: its size and member layout.</summary>
public sealed class BtfStruct : IEquatable<BtfStruct>
{
    /// <summary>Gets the struct name (without the <c>struct</c> keyword).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the size in bytes, padding included (sizeof).</summary>
    public required int Size { get; init; }

    /// <summary>Gets whether this is a union rather than a struct.</summary>
    public bool IsUnion { get; init; }

    /// <summary>Gets the members in declaration order.</summary>
    public ImmutableArray<BtfMember> Members { get; init; } = [];

    /// <summary>Gets a member by name.</summary>
    /// <param name="name">The member name.</param>
    /// <returns>The member.</returns>
    /// <exception cref="KeyNotFoundException">The struct has no such member.</exception>
    public BtfMember GetMember(string name) =>
        Members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"struct {Name} has no member '{name}'; it has {string.Join(", ", Members.Select(m => m.Name))}.");

    /// <inheritdoc/>
    public bool Equals(BtfStruct? other) =>
        other is not null
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && Size == other.Size
        && IsUnion == other.IsUnion
        && Members.SequenceEqual(other.Members);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BtfStruct);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        hash.Add(Size);
        hash.Add(IsUnion);
        foreach (var member in Members)
        {
            hash.Add(member);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(IsUnion ? "union" : "struct")} {Name} ({Size} bytes): {string.Join(", ", Members.Select(m => $"{m.Name}@{m.ByteOffset}"))}";
}
