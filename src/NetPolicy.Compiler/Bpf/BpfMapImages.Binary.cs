using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

/// <content>The binary image format.</content>
public sealed partial class BpfMapImages
{
    /// <summary>The version of the binary format <see cref="WriteBinary"/> writes.</summary>
    public const int BinaryFormatVersion = 1;

    private const int FileHeaderSize = 16;
    private const int SectionHeaderSize = 16;
    private const int MapHeaderSize = 40;
    private const int MapNameSize = 16;
    private const uint MapSection = 1;
    private const uint EndpointIdsSection = 2;
    private const uint RuleAttributionSection = 3;

    private static ReadOnlySpan<byte> Magic => "NPBPFIMG"u8;

    /// <summary>Writes the images in the binary image format: a file header, one section per map (a map header, then
    /// fixed-size key|value records sorted by key bytes), then the endpoint ids and the rule attribution.</summary>
    /// <param name="stream">The stream to write to.</param>
    /// <remarks>
    /// All integers are little-endian. The layout (version <see cref="BinaryFormatVersion"/>):
    /// <code>
    /// file header      16 bytes: magic "NPBPFIMG" | u16 format version (1) | u16 NP_ABI_VERSION | u32 section count
    /// section header   16 bytes: u32 kind | u32 reserved (0) | u64 body length; readers skip kinds they do not know
    /// kind 1, map      40 bytes: char name[16] (NUL-padded) | u32 BPF_MAP_TYPE_* | u32 key size | u32 value size
    ///                            | u32 max_entries | u32 map_flags | u32 entry count
    ///                  then entry count records of key size + value size bytes: the key, then the value
    /// kind 2, ids      u32 count, then per pod: u32 endpoint id | u32 length | UTF-8 pod key
    /// kind 3, rules    u32 count, then per rule id: u32 rule id | u32 reference count, then per reference:
    ///                  u32 length | UTF-8 policy key | u8 direction (0 ingress, 1 egress) | i32 rule index
    ///                  | i32 peer index (-1: none) | i32 port index (-1: none)
    /// </code>
    /// Sections come in the order of <see cref="Maps"/>, then kind 2, then kind 3. The same images always give the
    /// same bytes.
    /// </remarks>
    public void WriteBinary(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[FileHeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], BinaryFormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], (ushort)BpfConstants.AbiVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)Maps.Length + 2);
        stream.Write(header);

        Span<byte> mapHeader = stackalloc byte[MapHeaderSize];
        foreach (var map in Maps)
        {
            var records = map.Records;
            WriteSectionHeader(stream, MapSection, (ulong)(MapHeaderSize + records.Length));
            mapHeader.Clear();
            Encoding.ASCII.GetBytes(map.Name, mapHeader[..MapNameSize]);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[16..], (uint)map.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[20..], (uint)map.KeySize);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[24..], (uint)map.ValueSize);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[28..], (uint)map.MaxEntries);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[32..], map.Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(mapHeader[36..], (uint)map.Count);
            stream.Write(mapHeader);
            stream.Write(records);
        }

        using (var body = new MemoryStream())
        {
            WriteUInt32(body, (uint)EndpointIds.Count);
            foreach (var (pod, id) in EndpointIds)
            {
                WriteUInt32(body, id);
                WriteString(body, pod);
            }

            WriteSectionHeader(stream, EndpointIdsSection, (ulong)body.Length);
            body.WriteTo(stream);
        }

        using (var body = new MemoryStream())
        {
            WriteUInt32(body, (uint)RuleAttribution.Count);
            foreach (var (id, references) in RuleAttribution)
            {
                WriteUInt32(body, id);
                WriteUInt32(body, (uint)references.Length);
                foreach (var reference in references)
                {
                    WriteString(body, reference.Policy);
                    body.WriteByte((byte)reference.Direction);
                    WriteUInt32(body, (uint)reference.RuleIndex);
                    WriteUInt32(body, (uint)(reference.PeerIndex ?? -1));
                    WriteUInt32(body, (uint)(reference.PortIndex ?? -1));
                }
            }

            WriteSectionHeader(stream, RuleAttributionSection, (ulong)body.Length);
            body.WriteTo(stream);
        }
    }

    /// <summary>Reads images written by <see cref="WriteBinary"/>.</summary>
    /// <param name="stream">The stream, positioned at the file header; read to its end.</param>
    /// <returns>The images, equal to those written.</returns>
    /// <exception cref="InvalidDataException">The data is not a binary image of a known version, is truncated, or
    /// holds maps whose layout differs from this library's (<see cref="BpfConstants.AbiVersion"/>).</exception>
    public static BpfMapImages ReadBinary(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] data;
        using (var buffer = new MemoryStream())
        {
            stream.CopyTo(buffer);
            data = buffer.ToArray();
        }

        var span = new ReadOnlySpan<byte>(data);
        if (span.Length < FileHeaderSize || !span[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a NetPolicy BPF map image: the file does not start with \"NPBPFIMG\".");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]);
        var abi = BinaryPrimitives.ReadUInt16LittleEndian(span[10..]);
        if (version != BinaryFormatVersion || abi != BpfConstants.AbiVersion)
        {
            throw new InvalidDataException($"The BPF map image has format version {version} and ABI version {abi}; this library reads format {BinaryFormatVersion}, ABI {BpfConstants.AbiVersion}.");
        }

        var sections = BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        var offset = FileHeaderSize;
        var maps = new List<BpfMapImage>();
        var endpointIds = ImmutableSortedDictionary.CreateBuilder<string, uint>(ObjectKeyComparer.Instance);
        var ruleAttribution = ImmutableSortedDictionary.CreateBuilder<uint, ImmutableArray<RuleReference>>();
        for (var s = 0u; s < sections; s++)
        {
            Require(span, offset, SectionHeaderSize, "a section header");
            var kind = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(span[(offset + 8)..]);
            offset += SectionHeaderSize;
            if (length > (ulong)(span.Length - offset))
            {
                throw new InvalidDataException($"The BPF map image is truncated: section {s} needs {length} bytes at offset {offset}, and {span.Length - offset} remain.");
            }

            var body = span.Slice(offset, (int)length);
            var reader = new Reader(body);
            switch (kind)
            {
                case MapSection:
                    maps.Add(ReadMap(data, offset, body));
                    break;
                case EndpointIdsSection:
                    for (var count = reader.UInt32(); count > 0; count--)
                    {
                        var id = reader.UInt32();
                        var pod = reader.String();
                        if (!endpointIds.TryAdd(pod, id))
                        {
                            throw new InvalidDataException($"The BPF map image lists pod {pod} twice in its endpoint ids.");
                        }
                    }

                    break;
                case RuleAttributionSection:
                    for (var count = reader.UInt32(); count > 0; count--)
                    {
                        var id = reader.UInt32();
                        var references = ImmutableArray.CreateBuilder<RuleReference>();
                        for (var n = reader.UInt32(); n > 0; n--)
                        {
                            var policy = reader.String();
                            var direction = reader.Byte() == 0 ? PolicyDirection.Ingress : PolicyDirection.Egress;
                            var rule = (int)reader.UInt32();
                            var peer = (int)reader.UInt32();
                            var port = (int)reader.UInt32();
                            references.Add(new RuleReference(policy, direction, rule, peer < 0 ? null : peer, port < 0 ? null : port));
                        }

                        if (!ruleAttribution.TryAdd(id, references.ToImmutable()))
                        {
                            throw new InvalidDataException($"The BPF map image lists rule id {id} twice.");
                        }
                    }

                    break;
                default:
                    break; // a later format's section: skip it
            }

            offset += (int)length;
        }

        var byName = maps.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var missing = BpfMapDefinition.All.Where(d => !byName.ContainsKey(d.Name)).Select(d => d.Name).ToList();
        if (missing.Count > 0 || maps.Count != BpfMapDefinition.All.Length)
        {
            throw new InvalidDataException($"The BPF map image must hold each of {string.Join(", ", BpfMapDefinition.All.Select(d => d.Name))} once; missing: {string.Join(", ", missing)}.");
        }

        return new BpfMapImages([.. BpfMapDefinition.All.Select(d => byName[d.Name])], endpointIds.ToImmutable(), ruleAttribution.ToImmutable());
    }

    private static BpfMapImage ReadMap(byte[] data, int offset, ReadOnlySpan<byte> body)
    {
        Require(body, 0, MapHeaderSize, "a map header");
        var name = Encoding.ASCII.GetString(body[..MapNameSize].TrimEnd((byte)0));
        var definition = BpfMapDefinition.All.FirstOrDefault(d => d.Name == name)
            ?? throw new InvalidDataException($"The BPF map image holds an unknown map '{name}'.");
        var type = BinaryPrimitives.ReadUInt32LittleEndian(body[16..]);
        var keySize = BinaryPrimitives.ReadUInt32LittleEndian(body[20..]);
        var valueSize = BinaryPrimitives.ReadUInt32LittleEndian(body[24..]);
        var maxEntries = BinaryPrimitives.ReadUInt32LittleEndian(body[28..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(body[32..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body[36..]);
        if (type != (uint)definition.Type || keySize != definition.KeySize || valueSize != definition.ValueSize || flags != definition.Flags || maxEntries is 0 or > int.MaxValue)
        {
            throw new InvalidDataException(
                $"The BPF map image's {name} has type {type}, key size {keySize}, value size {valueSize}, flags {flags}, max entries {maxEntries}; " +
                $"this library's {name} is type {(uint)definition.Type}, key size {definition.KeySize}, value size {definition.ValueSize}, flags {definition.Flags}.");
        }

        if ((ulong)count * (ulong)definition.RecordSize != (ulong)(body.Length - MapHeaderSize))
        {
            throw new InvalidDataException($"The BPF map image's {name} claims {count} entries of {definition.RecordSize} bytes but its section holds {body.Length - MapHeaderSize} bytes of records.");
        }

        var records = data.AsSpan(offset + MapHeaderSize, body.Length - MapHeaderSize).ToArray();
        return BpfMapImage.FromSorted(definition, (int)maxEntries, records);
    }

    private static void Require(ReadOnlySpan<byte> span, int offset, int length, string what)
    {
        if (offset + length > span.Length)
        {
            throw new InvalidDataException($"The BPF map image is truncated: {what} needs {length} bytes at offset {offset}.");
        }
    }

    private static void WriteSectionHeader(Stream stream, uint kind, ulong length)
    {
        Span<byte> header = stackalloc byte[SectionHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, kind);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], length);
        stream.Write(header);
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteString(Stream stream, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt32(stream, (uint)bytes.Length);
        stream.Write(bytes);
    }

    private ref struct Reader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _offset;

        public uint UInt32()
        {
            Require(_span, _offset, 4, "a number");
            var value = BinaryPrimitives.ReadUInt32LittleEndian(_span[_offset..]);
            _offset += 4;
            return value;
        }

        public byte Byte()
        {
            Require(_span, _offset, 1, "a byte");
            return _span[_offset++];
        }

        public string String()
        {
            var length = UInt32();
            if (length > int.MaxValue)
            {
                throw new InvalidDataException($"The BPF map image has a string of {length} bytes.");
            }

            Require(_span, _offset, (int)length, "a string");
            var value = Encoding.UTF8.GetString(_span.Slice(_offset, (int)length));
            _offset += (int)length;
            return value;
        }
    }
}
