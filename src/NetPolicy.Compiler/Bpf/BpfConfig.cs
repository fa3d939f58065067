using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The per-endpoint template constants (<c>struct np_config</c>, the <c>.rodata</c> variable
/// <see cref="BpfConstants.ConfigVariableName"/>), set before the programs are loaded.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfConfig
{
    /// <summary>The size in bytes, equal to <c>sizeof(struct np_config)</c>.</summary>
    public const int Size = 16;

    private readonly uint _endpoint;
    private readonly uint _mode;
    private readonly uint _flags;
    private readonly uint _abi;

    /// <summary>Initializes a configuration.</summary>
    /// <param name="endpoint">The endpoint id: the index into <c>np_endpoints</c> (see <see cref="BpfMapImages.EndpointIds"/>).</param>
    /// <param name="mode"><see cref="BpfConstants.ModeConntrack"/> or <see cref="BpfConstants.ModeStrict"/>.</param>
    /// <param name="flags"><c>NP_CFG_*</c> flags.</param>
    /// <param name="abi">The ABI version, <see cref="BpfConstants.AbiVersion"/>.</param>
    public BpfConfig(uint endpoint, uint mode, uint flags, uint abi = BpfConstants.AbiVersion)
    {
        _endpoint = endpoint;
        _mode = mode;
        _flags = flags;
        _abi = abi;
    }

    /// <summary>Gets the endpoint id (<c>endpoint</c>).</summary>
    public uint Endpoint => _endpoint;

    /// <summary>Gets the enforcement mode, <c>NP_MODE_*</c> (<c>mode</c>).</summary>
    public uint Mode => _mode;

    /// <summary>Gets the <c>NP_CFG_*</c> flags (<c>flags</c>).</summary>
    public uint Flags => _flags;

    /// <summary>Gets the ABI version (<c>abi</c>).</summary>
    public uint Abi => _abi;

    /// <summary>Reads a configuration from its little-endian bytes.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    /// <returns>The configuration.</returns>
    public static BpfConfig ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Writes the configuration's bytes (little-endian integers, as on x86-64 and arm64).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, _endpoint);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], _mode);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], _flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], _abi);
    }
}
