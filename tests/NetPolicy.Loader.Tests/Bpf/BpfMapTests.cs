using System.Net;
using System.Runtime.InteropServices;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Tests.Support;
using BpfMapType = NetPolicy.Loader.Bpf.BpfMapType;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class BpfMapTests
{
    [KernelFact]
    public void Hash_UpdateLookupDelete_RoundTrips()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var key = PolicyKey(ruleSet: 3, remote: 1 << 24, port: 8080, protocol: 6, portPrefixLength: 16);

        map.Update(key, new BpfPolicyValue(ruleId: 77, action: 1, tier: 1, priority: 0));
        bool found = map.TryLookup(key, out BpfPolicyValue value);
        bool deleted = map.Delete(key);
        bool deletedAgain = map.Delete(key);
        bool foundAfterDelete = map.TryLookup(key, out BpfPolicyValue _);

        Assert.True(found);
        Assert.Equal((77u, (byte)1, (byte)1), (value.RuleId, value.Action, value.Tier));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.False(foundAfterDelete);
    }

    [KernelFact]
    public void Hash_RawBytes_RoundTrip()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_ipcache_host");
        byte[] key = new byte[16];
        key[10] = 0xff;
        key[11] = 0xff;
        key[12] = 198;
        key[13] = 18;
        key[15] = 1;
        byte[] value = [5, 0, 0, 0, 0, 0, 0, 1];
        byte[] read = new byte[8];

        map.Update(key, value);

        Assert.True(map.TryLookup(key, read));
        Assert.Equal(value, read);
    }

    [KernelFact]
    public void Update_NoExistOnPresentKey_ThrowsEexist()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var key = PolicyKey(ruleSet: 1);
        map.Update(key, PolicyValue(ruleId: 1));

        var exception = Assert.Throws<KernelOperationException>(() => map.Update(key, PolicyValue(ruleId: 2), BpfMapUpdateMode.NoExist));

        Assert.Equal(Errno.EEXIST, exception.Errno);
        Assert.Equal("bpf_map_update_elem", exception.Operation);
        Assert.StartsWith("Updating an element of BPF map 'np_policy' failed: bpf_map_update_elem returned EEXIST (File exists).", exception.Message);
    }

    [KernelFact]
    public void Update_ExistOnAbsentKey_ThrowsEnoent()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<KernelOperationException>(() =>
            obj.GetMap("np_policy").Update(PolicyKey(ruleSet: 9), default(BpfPolicyValue), BpfMapUpdateMode.Exist));

        Assert.Equal(Errno.ENOENT, exception.Errno);
    }

    [KernelFact]
    public void Update_FullHash_ThrowsE2big()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        for (uint i = 0; i < TestDatapath.SmallEntries; i++)
        {
            map.Update(PolicyKey(ruleSet: i), default(BpfPolicyValue));
        }

        var exception = Assert.Throws<KernelOperationException>(() => map.Update(PolicyKey(ruleSet: 5000), default(BpfPolicyValue)));

        Assert.Equal(Errno.E2BIG, exception.Errno);
        Assert.Contains("The map is full", exception.Message);
    }

    [KernelFact]
    public void WrongSizes_ThrowArgumentException()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");

        var key = Assert.Throws<ArgumentException>(() => map.TryLookup(42u, out BpfPolicyValue _));
        var value = Assert.Throws<ArgumentException>(() => map.Update(default(BpfPolicyKey), 1u, BpfMapUpdateMode.Any));
        var raw = Assert.Throws<ArgumentException>(() => map.Update(new byte[16], new byte[7]));

        Assert.Equal("BPF map 'np_policy' has 16-byte keys; got 4 bytes. (Parameter 'key')", key.Message);
        Assert.Equal("value", value.ParamName);
        Assert.Equal("BPF map 'np_policy' needs 8-byte value buffers; got 7 bytes. (Parameter 'value')", raw.Message);
    }

    [KernelFact]
    public void Operations_BeforeLoad_ThrowInvalidOperation()
    {
        using var obj = TestDatapath.Open();

        var exception = Assert.Throws<InvalidOperationException>(() => obj.GetMap("np_policy").TryLookup(default(BpfPolicyKey), out BpfPolicyValue _));

        Assert.Equal("BPF map 'np_policy' does not exist in the kernel yet; load its object first.", exception.Message);
    }

    [KernelFact]
    public void Hash_UpdateBatchGetKeysDeleteBatch_HandleEveryElement()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var keys = Enumerable.Range(0, 100).Select(i => PolicyKey(ruleSet: (uint)i, remote: 2, protocol: 6)).ToArray();
        var values = Enumerable.Range(0, 100).Select(i => PolicyValue(ruleId: (uint)i + 1000)).ToArray();

        int written = map.UpdateBatch<BpfPolicyKey, BpfPolicyValue>(keys, values);
        var listed = map.GetKeys<BpfPolicyKey>().Select(k => k.RuleSet).Order().ToList();
        var toDelete = keys.Take(50).Append(PolicyKey(ruleSet: 999)).Concat(keys.Take(3)).ToArray();
        int deleted = map.DeleteBatch<BpfPolicyKey>(toDelete);

        Assert.Equal(100, written);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (uint)i), listed);
        Assert.True(map.TryLookup(keys[99], out BpfPolicyValue last));
        Assert.Equal(1099u, last.RuleId);
        Assert.Equal(50, deleted);
        Assert.Equal(50, map.GetKeys().Count());
        Assert.All(map.GetKeys(), k => Assert.Equal(16, k.Length));
    }

    [KernelFact]
    public void Hash_UpdateBatchNoExistOnPresentKey_Throws()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        map.Update(PolicyKey(ruleSet: 1), default(BpfPolicyValue));
        BpfPolicyKey[] keys = [PolicyKey(ruleSet: 0), PolicyKey(ruleSet: 1)];

        var exception = Assert.Throws<KernelOperationException>(() => map.UpdateBatch<BpfPolicyKey, BpfPolicyValue>(keys, new BpfPolicyValue[2], BpfMapUpdateMode.NoExist));

        Assert.True(exception.Errno == Errno.EEXIST, exception.Message);
        Assert.True(map.TryLookup(PolicyKey(ruleSet: 0), out BpfPolicyValue _));
    }

    [KernelFact]
    public void LpmTrie_BatchFallsBackPerElementAndLooksUpLongestPrefix()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_ipcache_lpm");
        BpfIPCacheLpmKey[] keys = [LpmKey("198.18.0.0/15"), LpmKey("198.18.4.0/24"), LpmKey("0.0.0.0/0")];
        BpfIPCacheValue[] values = [new(identity: 2, addressClass: 1 << 24), new(identity: 2, addressClass: (1 << 24) + 1), new(identity: 2, addressClass: 0)];

        int written = map.UpdateBatch<BpfIPCacheLpmKey, BpfIPCacheValue>(keys, values);
        map.TryLookup(LpmKey("198.18.4.9/32"), out BpfIPCacheValue inner);
        map.TryLookup(LpmKey("198.19.200.1/32"), out BpfIPCacheValue outer);
        map.TryLookup(LpmKey("203.0.113.1/32"), out BpfIPCacheValue world);
        int listed = map.GetKeys().Count();
        int deleted = map.DeleteBatch<BpfIPCacheLpmKey>(keys);

        Assert.Equal(3, written);
        Assert.Equal((1u << 24) + 1, inner.AddressClass);
        Assert.Equal(1u << 24, outer.AddressClass);
        Assert.Equal((2u, 0u), (world.Identity, world.AddressClass));
        Assert.Equal(3, listed);
        Assert.Equal(3, deleted);
        Assert.Empty(map.GetKeys());
    }

    [KernelFact]
    public void Array_UpdateLookupBatchAndKeys()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_endpoints");

        map.Update(5u, new BpfEndpointValue(identity: 11, ingressRuleSet: 1, egressRuleSet: 2, flags: 7));
        int written = map.UpdateBatch<uint, BpfEndpointValue>([1u, 2u], [EndpointValue(identity: 1), EndpointValue(identity: 2)]);
        map.TryLookup(5u, out BpfEndpointValue five);
        map.TryLookup(2u, out BpfEndpointValue two);
        map.TryLookup(9u, out BpfEndpointValue unset);

        Assert.Equal(2, written);
        Assert.Equal((11u, 1u, 2u, 7u), (five.Identity, five.IngressRuleSet, five.EgressRuleSet, five.Flags));
        Assert.Equal(2u, two.Identity);
        Assert.Equal(default, unset);
        Assert.Equal(Enumerable.Range(0, (int)TestDatapath.SmallArrayEntries).Select(i => (uint)i), map.GetKeys<uint>());
        Assert.False(map.TryLookup(TestDatapath.SmallArrayEntries, out BpfEndpointValue _));
    }

    [KernelFact]
    public void Array_Delete_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_endpoints");

        var exception = Assert.Throws<InvalidOperationException>(() => map.Delete(1u));

        Assert.Equal("BPF map 'np_endpoints' is a Array map: its elements always exist and cannot be deleted; write a zero value instead.", exception.Message);
        Assert.Throws<InvalidOperationException>(() => map.DeleteBatch<uint>([1u]));
    }

    [KernelFact]
    public void PerCpuArray_LooksUpAndUpdatesEveryCpu()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_stats");
        ulong[] values = Enumerable.Range(1, BpfMap.PossibleCpuCount).Select(i => (ulong)i * 10).ToArray();

        map.UpdatePerCpu<uint, ulong>(2u, values);
        Assert.True(map.TryLookupPerCpu(2u, out System.Collections.Immutable.ImmutableArray<ulong> read));
        Assert.True(map.TryLookupPerCpu(1u, out System.Collections.Immutable.ImmutableArray<ulong> zero));
        byte[] raw = new byte[map.ValueBufferSize];
        Assert.True(map.TryLookup(BitConverter.GetBytes(2u), raw));

        Assert.Equal(values, read);
        Assert.All(zero, v => Assert.Equal(0UL, v));
        Assert.Equal(BpfMap.PossibleCpuCount, zero.Length);
        Assert.Equal(values[^1], MemoryMarshal.Read<ulong>(raw.AsSpan(raw.Length - 8)));
    }

    [KernelFact]
    public void PerCpuArray_SingleValueBuffer_ThrowsNamingTryLookupPerCpu()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<ArgumentException>(() => obj.GetMap("np_stats").TryLookup(0u, out ulong _));

        Assert.Contains("possible CPUs x 8 bytes; see TryLookupPerCpu", exception.Message);
    }

    [KernelFact]
    public void TryLookupPerCpu_NotPerCpuMap_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Load();

        Assert.Throws<InvalidOperationException>(() => obj.GetMap("np_endpoints").TryLookupPerCpu(0u, out System.Collections.Immutable.ImmutableArray<ulong> _));
    }

    [KernelFact]
    public void SetMaxEntries_BeforeLoad_IsCreatedWithIt()
    {
        using var obj = TestDatapath.Open();
        obj.GetMap("np_policy").SetMaxEntries(100);

        obj.Load();

        Assert.Equal(100u, obj.GetMap("np_policy").MaxEntries);
    }

    [KernelFact]
    public void PinOpenPinnedUnpin_InOwnBpfFileSystem()
    {
        using var bpffs = new TestBpfFileSystem();
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        string path = Path.Combine(bpffs.Path, "np_policy");
        map.Update(PolicyKey(ruleSet: 4), PolicyValue(ruleId: 44));

        map.Pin(path);
        using (var pinned = BpfMap.OpenPinned(path))
        {
            Assert.Equal(("np_policy", BpfMapType.Hash, 16, 8, TestDatapath.SmallEntries), (pinned.Name, pinned.Type, pinned.KeySize, pinned.ValueSize, pinned.MaxEntries));
            Assert.Equal(path, pinned.PinPath);
            Assert.True(pinned.TryLookup(PolicyKey(ruleSet: 4), out BpfPolicyValue value));
            Assert.Equal(44u, value.RuleId);
            pinned.Update(PolicyKey(ruleSet: 5), PolicyValue(ruleId: 55));
            Assert.Throws<InvalidOperationException>(() => pinned.SetMaxEntries(5));
        }

        Assert.True(map.TryLookup(PolicyKey(ruleSet: 5), out BpfPolicyValue fromPin));
        Assert.Equal(55u, fromPin.RuleId);
        Assert.Equal(path, map.PinPath);
        map.Unpin();
        Assert.False(File.Exists(path));
        Assert.Null(map.PinPath);
        map.Unpin();
    }

    [KernelFact]
    public void Pin_OutsideBpfFileSystem_ThrowsArgumentException()
    {
        using var obj = TestDatapath.Load();
        string path = Path.Combine(Path.GetTempPath(), "np_policy_pin");

        var exception = Assert.Throws<ArgumentException>(() => obj.GetMap("np_policy").Pin(path));

        Assert.Contains("is not in a mounted BPF filesystem; mount one with BpfFileSystem.EnsureMounted", exception.Message);
    }

    [KernelFact]
    public void OpenPinned_Missing_ThrowsEnoent()
    {
        using var bpffs = new TestBpfFileSystem();

        var exception = Assert.Throws<KernelOperationException>(() => BpfMap.OpenPinned(Path.Combine(bpffs.Path, "missing")));

        Assert.Equal(Errno.ENOENT, exception.Errno);
        Assert.Equal("bpf_obj_get", exception.Operation);
    }

    private static BpfPolicyKey PolicyKey(uint ruleSet, uint remote = 0, ushort port = 0, byte protocol = 0, byte portPrefixLength = 0) =>
        new(ruleSet, remote, port, protocol, portPrefixLength, direction: 0);

    private static BpfPolicyValue PolicyValue(uint ruleId) => new(ruleId, action: 0, tier: 0, priority: 0);

    private static BpfEndpointValue EndpointValue(uint identity) => new(identity, ingressRuleSet: 0, egressRuleSet: 0, flags: 0);

    // IPv4 prefixes are stored IPv4-mapped: ::ffff:a.b.c.d/(96 + n).
    private static BpfIPCacheLpmKey LpmKey(string prefix) => BpfIPCacheLpmKey.FromNetwork(IPNetwork.Parse(prefix));
}
