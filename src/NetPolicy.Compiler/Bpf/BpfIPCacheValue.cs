using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The value of both ipcache maps (<c>struct np_ipcache_value</c>): the identity and address class of an address.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfIPCacheValue
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_ipcache_value)</c>.</summary>
    public const int Size = 8;

    private readonly uint _identity;
    private readonly uint _addrClass;

    /// <summary>Initializes a value.</summary>
    /// <param name="identity">A pod identity, <see cref="BpfConstants.IdentityHost"/> or <see cref="BpfConstants.IdentityWorld"/>.</param>
    /// <param name="addressClass">The address class (at least <see cref="BpfConstants.FirstAddressClass"/>).</param>
    public BpfIPCacheValue(uint identity, uint addressClass)
    {
        _identity = identity;
        _addrClass = addressClass;
    }

    /// <summary>Gets the security identity (<c>identity</c>).</summary>
    public uint Identity => _identity;

    /// <summary>Gets the address class (<c>addr_class</c>).</summary>
    public uint AddressClass => _addrClass;

    /// <summary>Reads a value from its little-endian map bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The value.</returns>
    public static BpfIPCacheValue ReadFrom(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));

    /// <summary>Writes the value's map bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _identity);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], _addrClass);
    }
}
