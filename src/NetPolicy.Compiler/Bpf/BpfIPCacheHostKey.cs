using System.Net;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The key of <c>np_ipcache_host</c> (<c>struct np_ipcache_host_key</c>): one exact /32 or /128 address.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfIPCacheHostKey
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ipcache_host_key)</c>.</summary>
    public const int Size = 16;

    private readonly BpfAddress _addr;

    /// <summary>Initializes a key.</summary>
    /// <param name="address">The address (IPv4-mapped for IPv4).</param>
    public BpfIPCacheHostKey(BpfAddress address)
    {
        _addr = address;
    }

    /// <summary>Gets the address (<c>addr</c>).</summary>
    public BpfAddress Address => _addr;

    /// <summary>Creates the key of an address.</summary>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <returns>The key.</returns>
    public static BpfIPCacheHostKey FromIPAddress(IPAddress address) => new(BpfAddress.FromIPAddress(address));

    /// <summary>Reads a key from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The key.</returns>
    public static BpfIPCacheHostKey ReadFrom(ReadOnlySpan<byte> source) => new(BpfAddress.FromBytes(source[..Size]));

    /// <summary>Writes the key's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination) => _addr.CopyTo(destination[..Size]);
}
