using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;

namespace NetPolicy.Loader.Bpf;

/// <summary>Reads the struct layouts recorded in the BTF (<c>.BTF</c> section) of a BPF ELF object, in managed code.</summary>
/// <remarks>
/// A node agent can compare them with its C# mirrors of the map keys and values before loading an object, to catch
/// an ABI mismatch as a clear error instead of corrupt maps. The format is described in the kernel's
/// Documentation/bpf/btf.rst; only ELF64 little-endian objects (what clang -target bpf produces on x86-64 and arm64)
/// are read.
/// </remarks>
/// <example>
/// <code>
/// var structs = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span);
/// BtfStruct key = structs["np_policy_key"];
/// Debug.Assert(key.Size == 16 &amp;&amp; key.GetMember("port").ByteOffset == 8);
/// </code>
/// </example>
public static class BtfTypeInfo
{
    private const ushort BtfMagic = 0xEB9F;
    private const int TypeHeaderSize = 12;
    private const int MaxDepth = 32;

    private const int KindInt = 1;
    private const int KindPtr = 2;
    private const int KindArray = 3;
    private const int KindStruct = 4;
    private const int KindUnion = 5;
    private const int KindEnum = 6;
    private const int KindFwd = 7;
    private const int KindTypedef = 8;
    private const int KindVolatile = 9;
    private const int KindConst = 10;
    private const int KindRestrict = 11;
    private const int KindFunc = 12;
    private const int KindFuncProto = 13;
    private const int KindVar = 14;
    private const int KindDatasec = 15;
    private const int KindFloat = 16;
    private const int KindDeclTag = 17;
    private const int KindTypeTag = 18;
    private const int KindEnum64 = 19;

    /// <summary>Reads every named struct and union of an object's BTF.</summary>
    /// <param name="elfObject">The ELF bytes of a BPF object built with <c>-g</c>.</param>
    /// <returns>The structs and unions by name (without the <c>struct</c> keyword).</returns>
    /// <exception cref="ArgumentException">The bytes are not an ELF64 little-endian object, have no <c>.BTF</c> section, or the BTF is malformed.</exception>
    public static FrozenDictionary<string, BtfStruct> ReadStructs(ReadOnlySpan<byte> elfObject)
    {
        var btf = FindBtfSection(elfObject);
        var types = ParseTypes(btf);
        var structs = new Dictionary<string, BtfStruct>(StringComparer.Ordinal);
        for (int id = 1; id < types.Count; id++)
        {
            var type = types[id];
            if (type.Kind is not (KindStruct or KindUnion) || type.Name.Length == 0)
            {
                continue;
            }

            var members = ImmutableArray.CreateBuilder<BtfMember>(type.Members.Length);
            foreach (var member in type.Members)
            {
                int bitOffset = type.KindFlag ? (int)(member.Offset & 0xFFFFFF) : (int)member.Offset;
                int bitfieldSize = type.KindFlag ? (int)(member.Offset >> 24) : 0;
                members.Add(new BtfMember
                {
                    Name = member.Name,
                    BitOffset = bitOffset,
                    ByteOffset = bitOffset / 8,
                    BitfieldSize = bitfieldSize,
                    Size = SizeOf(types, member.Type, 0),
                    TypeName = NameOf(types, member.Type, 0),
                });
            }

            var result = new BtfStruct
            {
                Name = type.Name,
                Size = (int)type.SizeOrType,
                IsUnion = type.Kind == KindUnion,
                Members = members.MoveToImmutable(),
            };
            if (!structs.TryGetValue(type.Name, out var existing) || (existing.Members.IsEmpty && !result.Members.IsEmpty))
            {
                structs[type.Name] = result;
            }
        }

        return structs.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static ReadOnlySpan<byte> FindBtfSection(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw Malformed("The bytes are not an ELF object.");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw Malformed("Only ELF64 little-endian objects are supported.");
        }

        ulong sectionHeaders = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        int namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3E..]);
        if (entrySize < 64 || namesIndex >= count || sectionHeaders + ((ulong)count * (ulong)entrySize) > (ulong)elf.Length)
        {
            throw Malformed("The ELF section header table is malformed.");
        }

        var names = Section(elf, (int)sectionHeaders + (namesIndex * entrySize));
        for (int i = 0; i < count; i++)
        {
            var header = elf.Slice((int)sectionHeaders + (i * entrySize), entrySize);
            int nameOffset = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (CString(names, nameOffset) == ".BTF")
            {
                return Section(elf, (int)sectionHeaders + (i * entrySize));
            }
        }

        throw Malformed("The ELF object has no .BTF section; build it with clang -g.");
    }

    private static ReadOnlySpan<byte> Section(ReadOnlySpan<byte> elf, int headerOffset)
    {
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(elf[(headerOffset + 24)..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(elf[(headerOffset + 32)..]);
        if (offset + size > (ulong)elf.Length || offset + size < offset)
        {
            throw Malformed("An ELF section lies outside the object.");
        }

        return elf.Slice((int)offset, (int)size);
    }

    private static List<BtfType> ParseTypes(ReadOnlySpan<byte> btf)
    {
        if (btf.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(btf) != BtfMagic)
        {
            throw Malformed("The .BTF section has no little-endian BTF header (magic 0xEB9F).");
        }

        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[4..]);
        uint typeOffset = BinaryPrimitives.ReadUInt32LittleEndian(btf[8..]);
        uint typeLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[12..]);
        uint stringOffset = BinaryPrimitives.ReadUInt32LittleEndian(btf[16..]);
        uint stringLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[20..]);
        if ((ulong)headerLength + typeOffset + typeLength > (ulong)btf.Length || (ulong)headerLength + stringOffset + stringLength > (ulong)btf.Length)
        {
            throw Malformed("The BTF header points outside the .BTF section.");
        }

        var typeData = btf.Slice((int)(headerLength + typeOffset), (int)typeLength);
        var strings = btf.Slice((int)(headerLength + stringOffset), (int)stringLength);
        var types = new List<BtfType> { new(0, false, string.Empty, 0, [], 0, 0) }; // id 0 is void
        int position = 0;
        while (position < typeData.Length)
        {
            if (position + TypeHeaderSize > typeData.Length)
            {
                throw Malformed("A BTF type record is truncated.");
            }

            var record = typeData[position..];
            string name = CString(strings, (int)BinaryPrimitives.ReadUInt32LittleEndian(record));
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
            uint sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(record[8..]);
            int vlen = (int)(info & 0xFFFF);
            int kind = (int)((info >> 24) & 0x1F);
            bool kindFlag = (info >> 31) != 0;
            position += TypeHeaderSize;
            int extra = kind switch
            {
                KindInt or KindVar or KindDeclTag => 4,
                KindArray => 12,
                KindStruct or KindUnion or KindDatasec or KindEnum64 => 12 * vlen,
                KindEnum or KindFuncProto => 8 * vlen,
                KindPtr or KindFwd or KindTypedef or KindVolatile or KindConst or KindRestrict or KindFunc or KindFloat or KindTypeTag => 0,
                _ => throw Malformed($"BTF type {types.Count} has unknown kind {kind}."),
            };
            if (position + extra > typeData.Length)
            {
                throw Malformed($"BTF type {types.Count} is truncated.");
            }

            var data = typeData.Slice(position, extra);
            BtfRawMember[] members = [];
            uint arrayElement = 0;
            uint arrayLength = 0;
            if (kind is KindStruct or KindUnion)
            {
                members = new BtfRawMember[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    var member = data[(i * 12)..];
                    members[i] = new BtfRawMember(
                        CString(strings, (int)BinaryPrimitives.ReadUInt32LittleEndian(member)),
                        BinaryPrimitives.ReadUInt32LittleEndian(member[4..]),
                        BinaryPrimitives.ReadUInt32LittleEndian(member[8..]));
                }
            }
            else if (kind == KindArray)
            {
                arrayElement = BinaryPrimitives.ReadUInt32LittleEndian(data);
                arrayLength = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
            }

            types.Add(new BtfType(kind, kindFlag, name, sizeOrType, members, arrayElement, arrayLength));
            position += extra;
        }

        return types;
    }

    private static int? SizeOf(List<BtfType> types, uint id, int depth)
    {
        if (id == 0 || id >= (uint)types.Count || depth > MaxDepth)
        {
            return null;
        }

        var type = types[(int)id];
        return type.Kind switch
        {
            KindInt or KindStruct or KindUnion or KindEnum or KindEnum64 or KindFloat or KindDatasec => (int)type.SizeOrType,
            KindPtr => 8, // BPF is a 64-bit target
            KindArray => SizeOf(types, type.ArrayElement, depth + 1) is int element ? checked(element * (int)type.ArrayLength) : null,
            KindTypedef or KindVolatile or KindConst or KindRestrict or KindTypeTag or KindVar => SizeOf(types, type.SizeOrType, depth + 1),
            _ => null,
        };
    }

    private static string NameOf(List<BtfType> types, uint id, int depth)
    {
        if (id == 0)
        {
            return "void";
        }

        if (id >= (uint)types.Count || depth > MaxDepth)
        {
            return "?";
        }

        var type = types[(int)id];
        string Named(string keyword) => type.Name.Length == 0 ? $"{keyword} (anonymous)" : $"{keyword} {type.Name}";
        return type.Kind switch
        {
            KindStruct => Named("struct"),
            KindUnion => Named("union"),
            KindEnum or KindEnum64 => Named("enum"),
            KindFwd => Named(type.KindFlag ? "union" : "struct"),
            KindPtr => NameOf(types, type.SizeOrType, depth + 1) + "*",
            KindArray => $"{NameOf(types, type.ArrayElement, depth + 1)}[{type.ArrayLength}]",
            KindConst => "const " + NameOf(types, type.SizeOrType, depth + 1),
            KindVolatile => "volatile " + NameOf(types, type.SizeOrType, depth + 1),
            KindRestrict => NameOf(types, type.SizeOrType, depth + 1) + " restrict",
            KindTypeTag => NameOf(types, type.SizeOrType, depth + 1),
            KindFuncProto => "function",
            _ => type.Name,
        };
    }

#pragma warning disable CA2208 // The helpers validate the elfObject argument of ReadStructs and report it by that name.
    private static ArgumentException Malformed(string message) => new(message, "elfObject");
#pragma warning restore CA2208

    private static string CString(ReadOnlySpan<byte> strings, int offset)
    {
        if (offset < 0 || offset >= strings.Length)
        {
            return string.Empty;
        }

        var rest = strings[offset..];
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private sealed record BtfType(int Kind, bool KindFlag, string Name, uint SizeOrType, BtfRawMember[] Members, uint ArrayElement, uint ArrayLength);

    private readonly record struct BtfRawMember(string Name, uint Type, uint Offset);
}
