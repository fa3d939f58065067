using System.Net;

namespace NetPolicy.Compiler.Model;

/// <summary>Addresses as 128-bit integers, for prefix arithmetic in longest-prefix-match tables.</summary>
internal static class IPAddressBits
{
    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        UInt128 value = 0;
        for (var i = 0; i < length; i++)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    public static IPAddress FromUInt128(UInt128 value, System.Net.Sockets.AddressFamily family)
    {
        var length = family == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 16;
        Span<byte> bytes = stackalloc byte[length];
        for (var i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xFF);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }

    /// <summary>Clears all but the first <paramref name="length"/> bits of a value of <paramref name="bits"/> bits (32 or 128).</summary>
    public static UInt128 Mask(UInt128 value, int length, int bits) =>
        length == 0 ? UInt128.Zero : value & (UInt128.MaxValue << (bits - length)) & (bits == 32 ? (UInt128)uint.MaxValue : UInt128.MaxValue);
}
