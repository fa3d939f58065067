using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The key of <c>np_ipcache_lpm</c> (<c>struct np_ipcache_lpm_key</c>): a prefix length and an address, as
/// <c>BPF_MAP_TYPE_LPM_TRIE</c> wants them.</summary>
/// <remarks>IPv4 prefixes are stored IPv4-mapped with prefix length 96 + n, so <c>0.0.0.0/0</c> is
/// <c>::ffff:0:0/96</c>.</remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfIPCacheLpmKey
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ipcache_lpm_key)</c>.</summary>
    public const int Size = 20;

    private readonly uint _prefixlen;
    private readonly BpfAddress _addr;

    /// <summary>Initializes a key.</summary>
    /// <param name="prefixLength">The prefix length, 0–128 (96 + n for IPv4).</param>
    /// <param name="address">The address; bits after the prefix should be zero.</param>
    public BpfIPCacheLpmKey(uint prefixLength, BpfAddress address)
    {
        _prefixlen = prefixLength;
        _addr = address;
    }

    /// <summary>Gets the prefix length (<c>prefixlen</c>).</summary>
    public uint PrefixLength => _prefixlen;

    /// <summary>Gets the address (<c>addr</c>).</summary>
    public BpfAddress Address => _addr;

    /// <summary>Creates the key of a prefix: IPv6 as is, IPv4 as <c>::ffff:a.b.c.d/(96 + n)</c>.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <returns>The key.</returns>
    public static BpfIPCacheLpmKey FromNetwork(IPNetwork prefix)
    {
        var v4 = prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
        var length = prefix.PrefixLength + (v4 ? 96 : 0);
        return new BpfIPCacheLpmKey((uint)length, BpfAddress.FromIPAddress(prefix.BaseAddress).Mask(length));
    }

    /// <summary>Converts back to a prefix: IPv4-mapped keys of length 96 and more become IPv4 prefixes.</summary>
    /// <returns>The prefix.</returns>
    public IPNetwork ToNetwork()
    {
        var length = (int)Math.Min(_prefixlen, 128);
        if (length >= 96 && _addr.IsIPv4Mapped)
        {
            return new IPNetwork(_addr.ToIPAddress(), length - 96);
        }

        ReadOnlySpan<byte> bytes = _addr;
        return new IPNetwork(new IPAddress(bytes), length);
    }

    /// <summary>Reads a key from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The key.</returns>
    public static BpfIPCacheLpmKey ReadFrom(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(source), BpfAddress.FromBytes(source.Slice(4, BpfAddress.Length)));

    /// <summary>Writes the key's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _prefixlen);
        _addr.CopyTo(destination.Slice(4, BpfAddress.Length));
    }

    /// <summary>Formats the key as its prefix, for example <c>198.18.0.0/15</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{ToNetwork()} (prefixlen {_prefixlen})";
}
