using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>A 16-byte address as the datapath stores it (<c>__u8 addr[16]</c>): IPv6 as is, IPv4 IPv4-mapped
/// (<c>::ffff:a.b.c.d</c>), in network byte order.</summary>
/// <remarks>An inline array of <see cref="Length"/> bytes: it converts to <see cref="Span{T}"/> and
/// <see cref="ReadOnlySpan{T}"/> and can be indexed.</remarks>
[InlineArray(Length)]
public struct BpfAddress : IEquatable<BpfAddress>
{
    /// <summary>The size in bytes.</summary>
    public const int Length = 16;

    private byte _element0;

    /// <summary>Gets a value indicating whether the address is IPv4-mapped (<c>::ffff:0:0/96</c>).</summary>
    public readonly bool IsIPv4Mapped
    {
        get
        {
            ReadOnlySpan<byte> bytes = this;
            return bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xff && bytes[11] == 0xff;
        }
    }

    /// <summary>Converts an address: IPv4 (and IPv4-mapped IPv6) addresses become <c>::ffff:a.b.c.d</c>.</summary>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <returns>The address.</returns>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    public static BpfAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var result = default(BpfAddress);
        Span<byte> bytes = result;
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                bytes[10] = 0xff;
                bytes[11] = 0xff;
                address.TryWriteBytes(bytes[12..], out _);
                break;
            case AddressFamily.InterNetworkV6:
                address.TryWriteBytes(bytes, out _);
                break;
            default:
                throw new ArgumentException($"'{address}' is not an IPv4 or IPv6 address.", nameof(address));
        }

        return result;
    }

    /// <summary>Copies 16 bytes into an address.</summary>
    /// <param name="bytes">Exactly <see cref="Length"/> bytes, network byte order.</param>
    /// <returns>The address.</returns>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 16 bytes long.</exception>
    public static BpfAddress FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A BPF address is {Length} bytes; got {bytes.Length}.", nameof(bytes));
        }

        var result = default(BpfAddress);
        bytes.CopyTo(result);
        return result;
    }

    /// <summary>Converts back to an <see cref="IPAddress"/>; IPv4-mapped addresses become IPv4 addresses.</summary>
    /// <returns>The address.</returns>
    public readonly IPAddress ToIPAddress()
    {
        ReadOnlySpan<byte> bytes = this;
        return IsIPv4Mapped ? new IPAddress(bytes[12..]) : new IPAddress(bytes);
    }

    /// <summary>Copies the 16 bytes to a span.</summary>
    /// <param name="destination">At least <see cref="Length"/> bytes.</param>
    public readonly void CopyTo(Span<byte> destination)
    {
        ReadOnlySpan<byte> bytes = this;
        bytes.CopyTo(destination);
    }

    /// <summary>Returns the address with every bit after the first <paramref name="prefixLength"/> cleared.</summary>
    /// <param name="prefixLength">0 to 128.</param>
    /// <returns>The masked address.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="prefixLength"/> is outside 0–128.</exception>
    public readonly BpfAddress Mask(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 128);
        ReadOnlySpan<byte> bytes = this;
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        var mask = prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);
        var result = default(BpfAddress);
        BinaryPrimitives.WriteUInt128BigEndian(result, value & mask);
        return result;
    }

    /// <inheritdoc/>
    public readonly bool Equals(BpfAddress other)
    {
        ReadOnlySpan<byte> bytes = this;
        ReadOnlySpan<byte> others = other;
        return bytes.SequenceEqual(others);
    }

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is BpfAddress other && Equals(other);

    /// <inheritdoc/>
    public override readonly int GetHashCode()
    {
        var hash = new HashCode();
        ReadOnlySpan<byte> bytes = this;
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }

    /// <summary>Formats the address as <see cref="ToIPAddress"/> does (IPv4-mapped addresses as IPv4).</summary>
    /// <returns>The text.</returns>
    public override readonly string ToString() => ToIPAddress().ToString();

    /// <summary>Compares two addresses byte by byte.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(BpfAddress left, BpfAddress right) => left.Equals(right);

    /// <summary>Compares two addresses byte by byte.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns><see langword="true"/> when different.</returns>
    public static bool operator !=(BpfAddress left, BpfAddress right) => !left.Equals(right);
}
