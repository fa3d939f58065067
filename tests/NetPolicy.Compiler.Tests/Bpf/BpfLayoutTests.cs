using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Compiler.Tests.Bpf;

/// <summary>The C# mirrors must have the layouts of <c>bpf-templates/include/netpolicy_maps.h</c>, and <see cref="BpfConstants"/>
/// its values. The header is parsed here (member types, natural alignment), so a change to it fails these tests until the
/// mirrors follow. Mapping rule for the BTF test: C member <c>snake_case</c> is the private field <c>_camelCase</c>; a
/// <c>__u8 pad[n]</c> is <c>_pad0</c>..<c>_pad{n-1}</c>; a <c>__u8 addr[16]</c> is one <see cref="BpfAddress"/> field.</summary>
public sealed partial class BpfLayoutTests
{
    /// <summary>C struct → C# mirror.</summary>
    public static TheoryData<string, Type> Structs() => new()
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
        { "np_event", typeof(BpfEvent) },
        { "np_config", typeof(BpfConfig) },
    };

    /// <summary>Sizes measured with gcc on the header (offsetof/sizeof), pinned in case the parser below is wrong too.</summary>
    public static TheoryData<Type, int> MeasuredSizes() => new()
    {
        { typeof(BpfIPCacheHostKey), 16 }, { typeof(BpfIPCacheLpmKey), 20 }, { typeof(BpfIPCacheValue), 8 }, { typeof(BpfEndpointValue), 16 },
        { typeof(BpfRuleSetValue), 16 }, { typeof(BpfPolicyKey), 16 }, { typeof(BpfPolicyValue), 8 }, { typeof(BpfConntrackKey), 44 },
        { typeof(BpfConntrackValue), 16 }, { typeof(BpfEvent), 72 }, { typeof(BpfConfig), 16 }, { typeof(BpfAddress), 16 },
    };

    [Theory]
    [MemberData(nameof(Structs))]
    public void Mirror_SizeAndOffsets_MatchHeader(string cStruct, Type type)
    {
        var (members, size) = ParseStruct(cStruct);

        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.Equal(size, UnsafeSizeOf(type));
        Assert.Equal(size, (int)type.GetField("Size")!.GetRawConstantValue()!);
        var fields = type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        var expectedFields = new List<string>();
        foreach (var (name, elementSize, count, offset) in members)
        {
            var field = "_" + Camel(name);
            if (count > 1 && fields.All(f => f.Name != field))
            {
                for (var i = 0; i < count; i++)
                {
                    Assert.Equal(offset + (i * elementSize), (int)Marshal.OffsetOf(type, field + i));
                    expectedFields.Add(field + i);
                }

                continue;
            }

            Assert.True(fields.Any(f => f.Name == field), $"{type.Name} has no field {field} for {cStruct}.{name}");
            Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));
            Assert.Equal(elementSize * count, UnsafeSizeOf(fields.Single(f => f.Name == field).FieldType));
            expectedFields.Add(field);
        }

        // Same members in the same order, nothing else.
        Assert.Equal(expectedFields, fields.OrderBy(f => (int)Marshal.OffsetOf(type, f.Name)).Select(f => f.Name));
    }

    [Theory]
    [MemberData(nameof(MeasuredSizes))]
    public void Mirror_Size_MatchesGccMeasurement(Type type, int size)
    {
        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.Equal(size, UnsafeSizeOf(type));
    }

    [Fact]
    public void Mirror_GccMeasuredOffsets_Match()
    {
        Assert.Equal(4, (int)Marshal.OffsetOf<BpfIPCacheLpmKey>("_addr"));
        Assert.Equal(13, (int)Marshal.OffsetOf<BpfPolicyKey>("_pad0"));
        Assert.Equal(6, (int)Marshal.OffsetOf<BpfPolicyValue>("_priority"));
        Assert.Equal(36, (int)Marshal.OffsetOf<BpfConntrackKey>("_endpoint"));
        Assert.Equal(42, (int)Marshal.OffsetOf<BpfConntrackKey>("_pad0"));
        Assert.Equal(8, (int)Marshal.OffsetOf<BpfConntrackValue>("_ruleId"));
        Assert.Equal(28, (int)Marshal.OffsetOf<BpfEvent>("_reason"));
        Assert.Equal(38, (int)Marshal.OffsetOf<BpfEvent>("_pad"));
        Assert.Equal(40, (int)Marshal.OffsetOf<BpfEvent>("_saddr"));
        Assert.Equal(56, (int)Marshal.OffsetOf<BpfEvent>("_daddr"));
    }

    [Fact]
    public void Constants_EveryHeaderDefine_IsMirroredWithItsValue()
    {
        var expected = new Dictionary<string, ulong>
        {
            ["NP_ABI_VERSION"] = BpfConstants.AbiVersion,
            ["NP_DIR_INGRESS"] = BpfConstants.DirectionIngress,
            ["NP_DIR_EGRESS"] = BpfConstants.DirectionEgress,
            ["NP_MODE_CONNTRACK"] = BpfConstants.ModeConntrack,
            ["NP_MODE_STRICT"] = BpfConstants.ModeStrict,
            ["NP_REMOTE_ANY"] = BpfConstants.RemoteAny,
            ["NP_IDENTITY_HOST"] = BpfConstants.IdentityHost,
            ["NP_IDENTITY_WORLD"] = BpfConstants.IdentityWorld,
            ["NP_FIRST_ADDRESS_CLASS"] = BpfConstants.FirstAddressClass,
            ["NP_RULE_NONE"] = BpfConstants.RuleNone,
            ["NP_RULE_DEFAULT_DENY"] = BpfConstants.RuleDefaultDeny,
            ["NP_RULE_NOT_PROGRAMMED"] = BpfConstants.RuleNotProgrammed,
            ["NP_RULE_HOST"] = BpfConstants.RuleHost,
            ["NP_RULE_SPOOFED"] = BpfConstants.RuleSpoofed,
            ["NP_EP_PRESENT"] = BpfConstants.EndpointPresent,
            ["NP_EP_INGRESS_ISOLATED"] = BpfConstants.EndpointIngressIsolated,
            ["NP_EP_EGRESS_ISOLATED"] = BpfConstants.EndpointEgressIsolated,
            ["NP_RS_PRESENT"] = BpfConstants.RuleSetPresent,
            ["NP_RS_REMOTE_IDENTITY"] = BpfConstants.RuleSetRemoteIdentity,
            ["NP_RS_REMOTE_CLASS"] = BpfConstants.RuleSetRemoteClass,
            ["NP_RS_REMOTE_ANY"] = BpfConstants.RuleSetRemoteAny,
            ["NP_RS_ANY_PROTOCOL"] = BpfConstants.RuleSetAnyProtocol,
            ["NP_ACTION_ALLOW"] = BpfConstants.ActionAllow,
            ["NP_VERDICT_ALLOW"] = BpfConstants.VerdictAllow,
            ["NP_VERDICT_DROP"] = BpfConstants.VerdictDrop,
            ["NP_REASON_POLICY"] = BpfConstants.ReasonPolicy,
            ["NP_REASON_NOT_ISOLATED"] = BpfConstants.ReasonNotIsolated,
            ["NP_REASON_HOST"] = BpfConstants.ReasonHost,
            ["NP_REASON_DEFAULT_DENY"] = BpfConstants.ReasonDefaultDeny,
            ["NP_REASON_NOT_PROGRAMMED"] = BpfConstants.ReasonNotProgrammed,
            ["NP_REASON_REVOKED"] = BpfConstants.ReasonRevoked,
            ["NP_REASON_SPOOFED"] = BpfConstants.ReasonSpoofed,
            ["NP_STAT_ALLOWED"] = BpfConstants.StatAllowed,
            ["NP_STAT_DROPPED"] = BpfConstants.StatDropped,
            ["NP_STAT_EVENTS_LOST"] = BpfConstants.StatEventsLost,
            ["NP_STAT_NON_IP"] = BpfConstants.StatNonIP,
            ["NP_STAT_COUNT"] = BpfConstants.StatCount,
            ["NP_CFG_EMIT_ALLOW"] = BpfConstants.ConfigEmitAllow,
            ["NP_CFG_FAIL_OPEN"] = BpfConstants.ConfigFailOpen,
            ["NP_CFG_POLICE_HOST"] = BpfConstants.ConfigPoliceHost,
        };

        var defines = DefineRegex().Matches(Header()).ToDictionary(m => m.Groups[1].Value, m => Evaluate(m.Groups[2].Value));

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), defines.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, value) in expected)
        {
            Assert.True(value == defines[name], $"{name}: header {defines[name]}, BpfConstants {value}");
        }
    }

    [Fact]
    public void Constants_MapAndProgramNames_MatchTheProgram()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "bpf-templates", "policy_tc.bpf.c"));

        var maps = MapRegex().Matches(source).Select(m => m.Groups[1].Value).ToList();
        var programs = ProgramRegex().Matches(source).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(
            [BpfConstants.IPCacheHostMapName, BpfConstants.IPCacheLpmMapName, BpfConstants.EndpointsMapName, BpfConstants.RuleSetsMapName,
             BpfConstants.PolicyMapName, BpfConstants.ConntrackMapName, BpfConstants.EventsMapName, BpfConstants.StatsMapName],
            maps);
        Assert.Equal([BpfConstants.FromPodProgramName, BpfConstants.ToPodProgramName], programs);
        Assert.Contains($"const volatile struct np_config {BpfConstants.ConfigVariableName} ", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderOptions_Defaults_AreTheProgramsMaxEntries()
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "bpf-templates", "policy_tc.bpf.c"));
        var maxEntries = MaxEntriesRegex().Matches(source).ToDictionary(m => m.Groups[2].Value, m => int.Parse(m.Groups[1].Value));
        var options = new BpfRenderOptions();

        Assert.Equal(maxEntries[BpfConstants.IPCacheHostMapName], options.MaxIPCacheHostEntries);
        Assert.Equal(maxEntries[BpfConstants.IPCacheLpmMapName], options.MaxIPCacheLpmEntries);
        Assert.Equal(maxEntries[BpfConstants.EndpointsMapName], options.MaxEndpoints);
        Assert.Equal(maxEntries[BpfConstants.RuleSetsMapName], options.MaxRuleSets);
        Assert.Equal(maxEntries[BpfConstants.PolicyMapName], options.MaxPolicyEntries);
    }

    [Fact]
    public void WriteTo_OnLittleEndianHost_EqualsTheStructsMemory()
    {
        Assert.True(BitConverter.IsLittleEndian, "the images are little-endian; this host is not");
        var a = BpfAddress.FromIPAddress(IPAddress.Parse("198.18.0.10"));
        var b = BpfAddress.FromIPAddress(IPAddress.Parse("fd00::1"));

        AssertMemory(new BpfIPCacheHostKey(a), (v, s) => v.WriteTo(s), BpfIPCacheHostKey.ReadFrom);
        AssertMemory(new BpfIPCacheLpmKey(112, b), (v, s) => v.WriteTo(s), BpfIPCacheLpmKey.ReadFrom);
        AssertMemory(new BpfIPCacheValue(256, 16777217), (v, s) => v.WriteTo(s), BpfIPCacheValue.ReadFrom);
        AssertMemory(new BpfEndpointValue(257, 3, 0x10203, 7), (v, s) => v.WriteTo(s), BpfEndpointValue.ReadFrom);
        AssertMemory(new BpfRuleSetValue(0x1f, 1u << 16, 1u << 12 | 1, 0x1ffff), (v, s) => v.WriteTo(s), BpfRuleSetValue.ReadFrom);
        AssertMemory(new BpfPolicyKey(70000, 16777300, 8080, 6, 12, 1), (v, s) => v.WriteTo(s), BpfPolicyKey.ReadFrom);
        AssertMemory(new BpfPolicyValue(0x7abcdef0, 1, 1, 65535), (v, s) => v.WriteTo(s), BpfPolicyValue.ReadFrom);
        AssertMemory(new BpfConntrackKey(a, b, 40000, 443, 5, 17, 1), (v, s) => v.WriteTo(s), BpfConntrackKey.ReadFrom);
        AssertMemory(new BpfConntrackValue(0x0102030405060708, 9, 0), (v, s) => v.WriteTo(s), BpfConntrackValue.ReadFrom);
        AssertMemory(new BpfEvent(123456789012, 4, 256, 2, 16777216, 0xFFFFFFFF, 16, 1, 0, 4, 6, 40000, 80, a, b), (v, s) => v.WriteTo(s), BpfEvent.ReadFrom);
        AssertMemory(new BpfConfig(9, BpfConstants.ModeStrict, BpfConstants.ConfigEmitAllow), (v, s) => v.WriteTo(s), BpfConfig.ReadFrom);
    }

    [Fact]
    public void BpfAddress_IPv4_IsMappedInNetworkOrder()
    {
        var address = BpfAddress.FromIPAddress(IPAddress.Parse("198.18.0.10"));
        ReadOnlySpan<byte> bytes = address;

        Assert.Equal("00000000000000000000ffffc612000a", Convert.ToHexStringLower(bytes));
        Assert.True(address.IsIPv4Mapped);
        Assert.Equal(IPAddress.Parse("198.18.0.10"), address.ToIPAddress());
        Assert.Equal(address, BpfAddress.FromIPAddress(IPAddress.Parse("::ffff:198.18.0.10")));
        Assert.Equal("198.18.0.10", address.ToString());
    }

    [Fact]
    public void BpfAddress_IPv6_RoundTrips()
    {
        var address = BpfAddress.FromIPAddress(IPAddress.Parse("fd00:198::1"));
        ReadOnlySpan<byte> bytes = address;

        Assert.Equal("fd000198000000000000000000000001", Convert.ToHexStringLower(bytes));
        Assert.False(address.IsIPv4Mapped);
        Assert.Equal(IPAddress.Parse("fd00:198::1"), address.ToIPAddress());
        Assert.Equal(BpfAddress.FromIPAddress(IPAddress.Parse("fd00:198::")), address.Mask(64));
        Assert.Throws<ArgumentException>(() => BpfAddress.FromBytes(new byte[15]));
    }

    [Theory]
    [InlineData("0.0.0.0/0", 96, "00000000000000000000ffff00000000")]
    [InlineData("198.18.0.0/15", 111, "00000000000000000000ffffc6120000")]
    [InlineData("::/0", 0, "00000000000000000000000000000000")]
    [InlineData("fd00:198::/64", 64, "fd000198000000000000000000000000")]
    public void BpfIPCacheLpmKey_FromNetwork_MapsIPv4To96PlusN(string prefix, uint prefixLength, string address)
    {
        var key = BpfIPCacheLpmKey.FromNetwork(IPNetwork.Parse(prefix));
        var address0 = key.Address;
        ReadOnlySpan<byte> bytes = address0;

        Assert.Equal(prefixLength, key.PrefixLength);
        Assert.Equal(address, Convert.ToHexStringLower(bytes));
        Assert.Equal(IPNetwork.Parse(prefix), key.ToNetwork());
    }

    private static void AssertMemory<T>(T value, Action<T, Span<byte>> write, Func<ReadOnlySpan<byte>, T> read)
        where T : struct
    {
        var memory = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1)).ToArray();
        var written = new byte[memory.Length];
        write(value, written);

        Assert.Equal(Convert.ToHexString(memory), Convert.ToHexString(written));
        Assert.Equal(value, read(written));
    }

    private static int UnsafeSizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static string Camel(string snake)
    {
        var parts = snake.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    /// <summary>Parses one struct of the header and lays it out with natural alignment, as clang does for BPF and x86-64.</summary>
    private static (List<(string Name, int ElementSize, int Count, int Offset)> Members, int Size) ParseStruct(string name)
    {
        var body = Regex.Match(Header(), @"struct " + name + @" \{(?<body>.*?)\n\};", RegexOptions.Singleline);
        Assert.True(body.Success, $"struct {name} is not in the header");
        var members = new List<(string, int, int, int)>();
        int offset = 0, alignment = 1;
        foreach (Match m in MemberRegex().Matches(body.Groups["body"].Value))
        {
            var elementSize = m.Groups["type"].Value switch { "__u8" => 1, "__u16" => 2, "__u32" => 4, "__u64" => 8, var t => throw new InvalidOperationException(t) };
            var count = m.Groups["count"].Success ? int.Parse(m.Groups["count"].Value) : 1;
            offset = (offset + elementSize - 1) / elementSize * elementSize;
            members.Add((m.Groups["name"].Value, elementSize, count, offset));
            offset += elementSize * count;
            alignment = Math.Max(alignment, elementSize);
        }

        return (members, (offset + alignment - 1) / alignment * alignment);
    }

    private static ulong Evaluate(string expression)
    {
        var text = expression.Trim().Trim('(', ')').Replace("u", string.Empty, StringComparison.Ordinal);
        if (text.Contains("<<", StringComparison.Ordinal))
        {
            var parts = text.Split("<<");
            return Evaluate(parts[0]) << (int)Evaluate(parts[1]);
        }

        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? Convert.ToUInt64(text[2..], 16)
            : ulong.Parse(text);
    }

    private static string Header() => File.ReadAllText(Path.Combine(RepositoryRoot(), "bpf-templates", "include", "netpolicy_maps.h"));

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NetPolicy.Compiler.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No directory above {AppContext.BaseDirectory} holds NetPolicy.Compiler.sln.");
    }

    [GeneratedRegex(@"^#define (NP_\w+) ([^/\n]+?)\s*(?:/\*.*)?$", RegexOptions.Multiline)]
    private static partial Regex DefineRegex();

    [GeneratedRegex(@"^\s*(?<type>__u\d+) (?<name>\w+)(?:\[(?<count>\d+)\])?;", RegexOptions.Multiline)]
    private static partial Regex MemberRegex();

    [GeneratedRegex(@"\} (np_\w+) SEC\(""\.maps""\);")]
    private static partial Regex MapRegex();

    [GeneratedRegex(@"^int (np_\w+)\(struct __sk_buff \*skb\)", RegexOptions.Multiline)]
    private static partial Regex ProgramRegex();

    [GeneratedRegex(@"__uint\(max_entries, (\d+)\);(?:\s*__\w+\([^)]*\);)*\s*\} (np_\w+) SEC")]
    private static partial Regex MaxEntriesRegex();
}
