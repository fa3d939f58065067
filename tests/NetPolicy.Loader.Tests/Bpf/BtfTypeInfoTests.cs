using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Tests.Bpf.TestObjects;

namespace NetPolicy.Loader.Tests.Bpf;

public sealed class BtfTypeInfoTests
{
    public static TheoryData<string, int> StructSizes() => new()
    {
        { "np_ipcache_host_key", 16 },
        { "np_ipcache_lpm_key", 20 },
        { "np_ipcache_value", 8 },
        { "np_endpoint_value", 16 },
        { "np_ruleset_value", 16 },
        { "np_policy_key", 16 },
        { "np_policy_value", 8 },
        { "np_ct_key", 44 },
        { "np_ct_value", 16 },
        { "np_config", 16 },
    };

    public static TheoryData<string, string, int, int> MemberLayouts() => new()
    {
        { "np_policy_key", "ruleset", 0, 4 },
        { "np_policy_key", "remote", 4, 4 },
        { "np_policy_key", "port", 8, 2 },
        { "np_policy_key", "proto", 10, 1 },
        { "np_policy_key", "plen", 11, 1 },
        { "np_policy_key", "direction", 12, 1 },
        { "np_policy_key", "pad", 13, 3 },
        { "np_ct_key", "endpoint", 36, 4 },
        { "np_ct_key", "proto", 40, 1 },
        { "np_ipcache_lpm_key", "addr", 4, 16 },
        { "np_config", "abi", 12, 4 },
        { "__sk_buff", "data", 76, 4 },
        { "__sk_buff", "data_end", 80, 4 },
        { "__sk_buff", "cb", 48, 20 },
        { "__sk_buff", "remote_ip6", 100, 16 },
        { "__sk_buff", "tstamp", 152, 8 },
    };

    [Theory]
    [MemberData(nameof(StructSizes))]
    public void ReadStructs_Datapath_StructHasHeaderSize(string name, int size)
    {
        var structs = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span);

        Assert.Equal(size, structs[name].Size);
        Assert.False(structs[name].IsUnion);
    }

    [Theory]
    [MemberData(nameof(MemberLayouts))]
    public void ReadStructs_Datapath_MemberHasHeaderOffsetAndSize(string structName, string member, int offset, int size)
    {
        var structs = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span);

        var actual = structs[structName].GetMember(member);

        Assert.Equal(offset, actual.ByteOffset);
        Assert.Equal(offset * 8, actual.BitOffset);
        Assert.Equal(size, actual.Size);
        Assert.Equal(0, actual.BitfieldSize);
    }

    [Fact]
    public void ReadStructs_Datapath_MembersInDeclarationOrderWithTypeNames()
    {
        var key = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span)["np_policy_key"];

        Assert.Equal(["ruleset", "remote", "port", "proto", "plen", "direction", "pad"], key.Members.Select(m => m.Name));
        Assert.Equal(["__u32", "__u32", "__u16", "__u8", "__u8", "__u8", "__u8[3]"], key.Members.Select(m => m.TypeName));
    }

    [Fact]
    public void ReadStructs_SameObjectTwice_ComparesEqual()
    {
        var first = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span)["np_ct_key"];
        var second = BtfTypeInfo.ReadStructs(DatapathObject.Elf.ToArray())["np_ct_key"];

        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
    }

    [Fact]
    public void ReadStructs_Datapath_AnonymousUnionMembersAreSized()
    {
        var skb = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span)["__sk_buff"];

        var anonymous = skb.Members.Where(m => m.Name.Length == 0).ToList();

        Assert.Equal(192, skb.Size);
        Assert.Equal([144, 168], anonymous.Select(m => m.ByteOffset));
        Assert.All(anonymous, m => Assert.Equal(8, m.Size));
        Assert.All(anonymous, m => Assert.Equal("union (anonymous)", m.TypeName));
    }

    [Fact]
    public void ReadStructs_Datapath_OmitsAnonymousStructsAndStructsOnlyUsedInCode()
    {
        var structs = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span);

        Assert.DoesNotContain(string.Empty, structs.Keys);
        Assert.False(structs.ContainsKey("np_event")); // only behind bpf_ringbuf_reserve: clang emits no BTF for it
    }

    [Fact]
    public void GetMember_Unknown_ThrowsKeyNotFoundNamingMembers()
    {
        var key = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span)["np_policy_key"];

        var exception = Assert.Throws<KeyNotFoundException>(() => key.GetMember("nope"));

        Assert.Contains("ruleset, remote, port", exception.Message);
    }

    [Fact]
    public void ReadStructs_NotElf_ThrowsArgumentException()
    {
        var exception = Assert.Throws<ArgumentException>(() => BtfTypeInfo.ReadStructs(new byte[100]));

        Assert.Equal("elfObject", exception.ParamName);
        Assert.StartsWith("The bytes are not an ELF object.", exception.Message);
    }

    [Fact]
    public void ReadStructs_ObjectWithoutBtf_ThrowsArgumentException()
    {
        var exception = Assert.Throws<ArgumentException>(() => BtfTypeInfo.ReadStructs(VerifierRejectObject.Elf));

        Assert.StartsWith("The ELF object has no .BTF section; build it with clang -g.", exception.Message);
    }

    [Fact]
    public void ReadStructs_TruncatedObject_ThrowsArgumentException()
    {
        byte[] elf = DatapathObject.Elf.ToArray();

        Assert.Throws<ArgumentException>(() => BtfTypeInfo.ReadStructs(elf.AsSpan(0, elf.Length / 2)));
    }
}
