namespace NetPolicy.Compiler.Bpf;

/// <summary>One entry of a map image or delta: the key bytes and the value bytes, exactly as the kernel map holds them.</summary>
/// <remarks>Compares by content. The memory is owned by the image and must not be modified.</remarks>
public readonly struct BpfMapEntry : IEquatable<BpfMapEntry>
{
    /// <summary>Initializes an entry.</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="value">The value bytes (empty for the deletion of a hash-map key).</param>
    public BpfMapEntry(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>Gets the key bytes.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>Gets the value bytes.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>Compares two entries by content.</summary>
    /// <param name="left">The first entry.</param>
    /// <param name="right">The second entry.</param>
    /// <returns><see langword="true"/> when the keys and values are byte-equal.</returns>
    public static bool operator ==(BpfMapEntry left, BpfMapEntry right) => left.Equals(right);

    /// <summary>Compares two entries by content.</summary>
    /// <param name="left">The first entry.</param>
    /// <param name="right">The second entry.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(BpfMapEntry left, BpfMapEntry right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(BpfMapEntry other) => Key.Span.SequenceEqual(other.Key.Span) && Value.Span.SequenceEqual(other.Value.Span);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BpfMapEntry other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Key.Span);
        hash.AddBytes(Value.Span);
        return hash.ToHashCode();
    }

    /// <summary>Formats the entry as hexadecimal <c>key =&gt; value</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Convert.ToHexStringLower(Key.Span)} => {Convert.ToHexStringLower(Value.Span)}";
}
