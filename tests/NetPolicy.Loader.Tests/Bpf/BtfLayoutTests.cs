using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>The C# mirrors in NetPolicy.Compiler.Bpf must have exactly the sizes and member offsets that the BTF of the
/// embedded datapath object gives its C structs (bpf-templates/include/netpolicy_maps.h).</summary>
public sealed class BtfLayoutTests
{
    public static TheoryData<string, Type> Mirrors() => new()
    {
        { "np_ipcache_host_key", typeof(BpfIPCacheHostKey) },
        { "np_ipcache_lpm_key", typeof(BpfIPCacheLpmKey) },
        { "np_ipcache_value", typeof(BpfIPCacheValue) },
        { "np_endpoint_value", typeof(BpfEndpointValue) },
        { "np_ruleset_value", typeof(BpfRuleSetValue) },
        { "np_policy_key", typeof(BpfPolicyKey) },
        { "np_policy_value", typeof(BpfPolicyValue) },
        { "np_ct_key", typeof(BpfConntrackKey) },
        { "np_ct_value", typeof(BpfConntrackValue) },
        { "np_config", typeof(BpfConfig) },
    };

    [Theory]
    [MemberData(nameof(Mirrors))]
    public void Mirror_SizeAndOffsets_EqualBtfOfDatapathObject(string cName, Type mirror)
    {
        var btf = BtfTypeInfo.ReadStructs(DatapathObject.Elf.Span)[cName];

        var size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(mirror).Invoke(null, null)!;

        Assert.Equal(btf.Size, size);
        Assert.Equal(btf.Size, Marshal.SizeOf(mirror));
        var fields = mirror.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).ToDictionary(f => f.Name);
        foreach (var member in btf.Members)
        {
            var name = "_" + string.Concat(member.Name.Split('_').Select((part, i) => i == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
            var field = fields.GetValueOrDefault(name) ?? fields.GetValueOrDefault(name + "0");
            Assert.True(field is not null, $"{mirror.Name} has no field for {cName}.{member.Name} (expected {name})");
            Assert.Equal(member.ByteOffset, (int)Marshal.OffsetOf(mirror, field!.Name));
        }
    }

    [Fact]
    public void Event_SizeEqualsCHeaderAssertion()
    {
        // np_event only travels through the ring buffer, so clang emits no BTF for it; the header pins its layout with
        // _Static_assert (size 72, addresses at 40 and 56), and so does this test for the mirror.
        Assert.Equal(72, Unsafe.SizeOf<BpfEvent>());
        Assert.Equal(72, BpfEvent.Size);
    }
}
