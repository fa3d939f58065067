using System.Runtime.InteropServices;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Tests.Bpf.TestObjects;
using NetPolicy.Loader.Tests.Support;
using BpfMapType = NetPolicy.Loader.Bpf.BpfMapType;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class BpfObjectTests
{
    private static readonly string[] s_datapathMaps =
        ["np_ipcache_host", "np_ipcache_lpm", "np_endpoints", "np_rulesets", "np_policy", "np_conntrack", "np_events", "np_stats"];

    [KernelFact]
    public void OpenDatapath_ListsEveryMapAndProgram()
    {
        using var obj = BpfObject.OpenDatapath();

        Assert.Equal(DatapathObject.Name, obj.Name);
        Assert.Equal(s_datapathMaps.Order(), obj.Maps.Where(m => !m.IsInternal).Select(m => m.Name).Order());
        Assert.Single(obj.Maps, m => m.IsInternal);
        Assert.Equal([DatapathObject.FromPodProgram, DatapathObject.ToPodProgram], obj.Programs.Select(p => p.Name).Order());
        Assert.All(obj.Programs, p => Assert.Equal(BpfProgramType.SchedClassifier, p.Type));
        Assert.False(obj.IsLoaded);
    }

    [KernelFact]
    public void OpenDatapath_MapsDescribeTheirDefinitions()
    {
        using var obj = BpfObject.OpenDatapath();

        var lpm = obj.GetMap("np_ipcache_lpm");
        var stats = obj.GetMap("np_stats");
        var rodata = obj.GetMap(".rodata");

        Assert.Equal((BpfMapType.LpmTrie, 20, 8, 65536u, 1u), (lpm.Type, lpm.KeySize, lpm.ValueSize, lpm.MaxEntries, lpm.Flags));
        Assert.Equal((BpfMapType.PerCpuArray, 4, 8, 4u), (stats.Type, stats.KeySize, stats.ValueSize, stats.MaxEntries));
        Assert.True(stats.IsPerCpu);
        Assert.Equal(8 * BpfMap.PossibleCpuCount, stats.ValueBufferSize);
        Assert.Equal(BpfMapType.RingBuffer, obj.GetMap("np_events").Type);
        Assert.Equal((BpfMapType.Array, 16), (rodata.Type, rodata.ValueSize));
        Assert.True(rodata.IsInternal);
    }

    [KernelFact]
    public void GetMapAndGetProgram_Unknown_ThrowArgumentExceptionListingNames()
    {
        using var obj = BpfObject.OpenDatapath();

        var map = Assert.Throws<ArgumentException>(() => obj.GetMap("nope"));
        var program = Assert.Throws<ArgumentException>(() => obj.GetProgram("nope"));

        Assert.Contains("has no map 'nope'; it has np_ipcache_host", map.Message);
        Assert.Contains("has no program 'nope'; it has np_from_pod, np_to_pod", program.Message);
        Assert.False(obj.TryGetMap("nope", out _));
    }

    [KernelFact]
    public void Load_Datapath_PassesVerifier()
    {
        using var obj = TestDatapath.Load();

        Assert.True(obj.IsLoaded);
        Assert.All(obj.Programs, p => Assert.True(p.IsLoaded));
        Assert.All(obj.Programs, p => Assert.NotEqual(0u, p.Id));
        Assert.All(obj.Maps, m => Assert.True(m.IsCreated));
    }

    [KernelFact]
    public void Load_DatapathWithDefaultSizes_PassesVerifier()
    {
        using var obj = BpfObject.OpenDatapath();
        obj.SetReadOnlyData(new BpfConfig(endpoint: 1, mode: 0, flags: 0, abi: 1));

        obj.Load();

        Assert.True(obj.IsLoaded);
        Assert.Equal(262144u, obj.GetMap("np_policy").MaxEntries);
    }

    [KernelFact]
    public void Load_TwoObjectsReusingMaps_ShareOneSetOfMaps()
    {
        using var first = TestDatapath.Load(endpoint: 1);
        using var second = TestDatapath.Open(endpoint: 2);
        foreach (var map in first.Maps.Where(m => !m.IsInternal))
        {
            second.GetMap(map.Name).ReuseFrom(map);
        }

        second.Load();
        first.GetMap("np_endpoints").Update(3u, new BpfEndpointValue(identity: 42, ingressRuleSet: 0, egressRuleSet: 0, flags: 1));
        second.GetMap("np_policy").Update(PolicyKey(ruleSet: 1, remote: 2), new BpfPolicyValue(ruleId: 9, action: 1, tier: 0, priority: 0));

        Assert.True(second.IsLoaded);
        Assert.All(second.Programs, p => Assert.True(p.IsLoaded));
        Assert.True(second.GetMap("np_endpoints").TryLookup(3u, out BpfEndpointValue endpoint));
        Assert.Equal(42u, endpoint.Identity);
        Assert.True(first.GetMap("np_policy").TryLookup(PolicyKey(ruleSet: 1, remote: 2), out BpfPolicyValue policy));
        Assert.Equal(9u, policy.RuleId);
        Assert.True(first.GetMap(".rodata").TryLookup(0u, out BpfConfig firstConfig));
        Assert.True(second.GetMap(".rodata").TryLookup(0u, out BpfConfig secondConfig));
        Assert.Equal((1u, 2u), (firstConfig.Endpoint, secondConfig.Endpoint));
    }

    [KernelFact]
    public void Load_MapsReusedFromDisposedObject_StillShared()
    {
        using var second = TestDatapath.Open(endpoint: 2);
        using (var first = TestDatapath.Load(endpoint: 1))
        {
            foreach (var map in first.Maps.Where(m => !m.IsInternal))
            {
                second.GetMap(map.Name).ReuseFrom(map);
            }

            first.GetMap("np_endpoints").Update(3u, new BpfEndpointValue(identity: 42, ingressRuleSet: 0, egressRuleSet: 0, flags: 0));
        }

        second.Load();

        Assert.True(second.GetMap("np_endpoints").TryLookup(3u, out BpfEndpointValue endpoint));
        Assert.Equal(42u, endpoint.Identity);
    }

    [KernelFact]
    public void ReuseFrom_MapOfAnotherShape_ThrowsArgumentException()
    {
        using var first = TestDatapath.Load();
        using var second = TestDatapath.Open();

        var exception = Assert.Throws<ArgumentException>(() => second.GetMap("np_policy").ReuseFrom(first.GetMap("np_endpoints")));

        Assert.Equal("loadedMap", exception.ParamName);
        Assert.Contains("BPF map 'np_policy' (Hash, key 16 bytes, value 8 bytes) cannot reuse map 'np_endpoints' (Array, key 4 bytes, value 16 bytes)", exception.Message);
    }

    [KernelFact]
    public void ReuseFrom_MapNotCreated_ThrowsInvalidOperation()
    {
        using var first = TestDatapath.Open();
        using var second = TestDatapath.Open();

        Assert.Throws<InvalidOperationException>(() => second.GetMap("np_policy").ReuseFrom(first.GetMap("np_policy")));
    }

    [KernelFact]
    public void SetReadOnlyData_BeforeLoad_ReachesTheKernel()
    {
        using var obj = BpfObject.OpenDatapath();
        foreach (var map in obj.Maps.Where(m => m.Type is BpfMapType.Hash or BpfMapType.LruHash or BpfMapType.LpmTrie))
        {
            map.SetMaxEntries(64);
        }

        obj.SetReadOnlyData(new BpfConfig(endpoint: 7, mode: 1, flags: 4, abi: 1));
        obj.Load();

        Assert.True(obj.GetMap(".rodata").TryLookup(0u, out BpfConfig config));
        Assert.Equal((7u, 1u, 4u, 1u), (config.Endpoint, config.Mode, config.Flags, config.Abi));
    }

    [KernelFact]
    public void SetReadOnlyData_WrongSize_ThrowsArgumentException()
    {
        using var obj = BpfObject.OpenDatapath();

        var exception = Assert.Throws<ArgumentException>(() => obj.SetReadOnlyData(42UL));

        Assert.Equal("value", exception.ParamName);
        Assert.StartsWith("The .rodata of BPF object 'policy_tc' is 16 bytes but UInt64 is 8 bytes;", exception.Message);
    }

    [KernelFact]
    public void SetReadOnlyData_AfterLoad_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Load();

        Assert.Throws<InvalidOperationException>(() => obj.SetReadOnlyData(default(BpfConfig)));
        Assert.Throws<InvalidOperationException>(() => obj.GetMap("np_policy").SetMaxEntries(8));
    }

    [KernelFact]
    public void Load_Twice_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<InvalidOperationException>(obj.Load);

        Assert.Equal("BPF object 'policy_tc' is already loaded.", exception.Message);
    }

    [KernelFact]
    public void Load_ProgramTheVerifierRejects_ThrowsBpfVerifierExceptionWithLog()
    {
        using var obj = BpfObject.Open(VerifierRejectObject.Elf, "reject");

        var exception = Assert.Throws<BpfVerifierException>(obj.Load);

        Assert.Equal(VerifierRejectObject.ProgramName, exception.ProgramName);
        Assert.Equal(Errno.EACCES, exception.Errno);
        Assert.Contains("invalid access to packet", exception.VerifierLog);
        Assert.StartsWith("The kernel verifier rejected BPF program 'bad_packet_read' of object 'reject' (EACCES, Permission denied): ", exception.Message);
        Assert.Contains("invalid access to packet", exception.Message);
        Assert.False(obj.IsLoaded);
        Assert.Equal(
            "A previous load of BPF object 'reject' failed and libbpf cannot retry it; open the object again.",
            Assert.Throws<InvalidOperationException>(obj.Load).Message);
    }

    [KernelFact]
    public void Open_NotAnElfObject_ThrowsKernelOperationException()
    {
        var exception = Assert.Throws<KernelOperationException>(() => BpfObject.Open([1, 2, 3, 4], "junk"));

        Assert.Equal("bpf_object__open_mem", exception.Operation);
        Assert.StartsWith("Opening BPF object 'junk' failed: bpf_object__open_mem returned libbpf error 4001 (BPF object format invalid). libbpf could not process the object", exception.Message);
        Assert.EndsWith($"{Environment.NewLine}libbpf: elf: 'junk' is not a proper ELF object", exception.Message); // captured from libbpf's print callback
    }

    [KernelFact]
    public void Dispose_ThenUseMap_ThrowsObjectDisposed()
    {
        var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var program = obj.GetProgram(DatapathObject.ToPodProgram);

        obj.Dispose();
        obj.Dispose();

        Assert.Throws<ObjectDisposedException>(() => map.TryLookup(default(BpfPolicyKey), out BpfPolicyValue _));
        Assert.Throws<ObjectDisposedException>(() => program.TestRun(new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => obj.GetMap("np_policy"));
        Assert.False(obj.IsLoaded);
    }

    [KernelFact]
    public void DatapathObject_BuildInfo_RecordsHashesAndClang()
    {
        Assert.Contains("source-sha256: ", DatapathObject.BuildInfo);
        Assert.Contains("clang: ", DatapathObject.BuildInfo);
        Assert.Equal(0x7F, DatapathObject.Elf.Span[0]);
        Assert.True(MemoryMarshal.Read<uint>(DatapathObject.Elf.Span) == 0x464C457F);
    }

    private static BpfPolicyKey PolicyKey(uint ruleSet, uint remote) =>
        new(ruleSet, remote, port: 0, protocol: 0, portPrefixLength: 0, direction: 0);
}
