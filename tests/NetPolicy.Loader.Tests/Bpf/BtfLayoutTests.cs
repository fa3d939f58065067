using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Tests.Bpf;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>The C# mirrors in NetPolicy.Compiler.Bpf must have exactly the sizes and member offsets that the BTF of the
/// embedded datapath object gives its C structs (bpf-templates/include/netpolicy_maps.h).</summary>
public sealed class BtfLayoutTests
{
    // The compiler tests' list of mirrors, except np_event: it has no BTF in the object (see below).
    public static TheoryData<string, Type> Mirrors()
    {
        var data = new TheoryData<string, Type>();
        foreach (var row in (IEnumerable<object[]>)BpfLayoutTests.Structs())
        {
            if ((string)row[0] != "np_event")
            {
                data.Add((string)row[0], (Type)row[1]);
            }
        }

        return data;
    }

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
