using System.Runtime.InteropServices;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class BpfMapTests
{
    [KernelFact]
    public void Hash_UpdateLookupDelete_RoundTrips()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var key = new NpPolicyKey { RuleSet = 3, Remote = 1 << 24, Port = 8080, Protocol = 6, PrefixLength = 16 };

        map.Update(key, new NpPolicyValue { RuleId = 77, Action = 1, Tier = 1 });
        bool found = map.TryLookup(key, out NpPolicyValue value);
        bool deleted = map.Delete(key);
        bool deletedAgain = map.Delete(key);
        bool foundAfterDelete = map.TryLookup(key, out NpPolicyValue _);

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
        var key = new NpPolicyKey { RuleSet = 1 };
        map.Update(key, new NpPolicyValue { RuleId = 1 });

        var exception = Assert.Throws<KernelOperationException>(() => map.Update(key, new NpPolicyValue { RuleId = 2 }, BpfMapUpdateMode.NoExist));

        Assert.Equal(Errno.EEXIST, exception.Errno);
        Assert.Equal("bpf_map_update_elem", exception.Operation);
        Assert.StartsWith("Updating an element of BPF map 'np_policy' failed: bpf_map_update_elem returned EEXIST (File exists).", exception.Message);
    }

    [KernelFact]
    public void Update_ExistOnAbsentKey_ThrowsEnoent()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<KernelOperationException>(() =>
            obj.GetMap("np_policy").Update(new NpPolicyKey { RuleSet = 9 }, new NpPolicyValue(), BpfMapUpdateMode.Exist));

        Assert.Equal(Errno.ENOENT, exception.Errno);
    }

    [KernelFact]
    public void Update_FullHash_ThrowsE2big()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        for (uint i = 0; i < TestDatapath.SmallEntries; i++)
        {
            map.Update(new NpPolicyKey { RuleSet = i }, new NpPolicyValue());
        }

        var exception = Assert.Throws<KernelOperationException>(() => map.Update(new NpPolicyKey { RuleSet = 5000 }, new NpPolicyValue()));

        Assert.Equal(Errno.E2BIG, exception.Errno);
        Assert.Contains("The map is full", exception.Message);
    }

    [KernelFact]
    public void WrongSizes_ThrowArgumentException()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");

        var key = Assert.Throws<ArgumentException>(() => map.TryLookup(42u, out NpPolicyValue _));
        var value = Assert.Throws<ArgumentException>(() => map.Update(new NpPolicyKey(), 1u, BpfMapUpdateMode.Any));
        var raw = Assert.Throws<ArgumentException>(() => map.Update(new byte[16], new byte[7]));

        Assert.Equal("BPF map 'np_policy' has 16-byte keys; got 4 bytes. (Parameter 'key')", key.Message);
        Assert.Equal("value", value.ParamName);
        Assert.Equal("BPF map 'np_policy' needs 8-byte value buffers; got 7 bytes. (Parameter 'value')", raw.Message);
    }

    [KernelFact]
    public void Operations_BeforeLoad_ThrowInvalidOperation()
    {
        using var obj = TestDatapath.Open();

        var exception = Assert.Throws<InvalidOperationException>(() => obj.GetMap("np_policy").TryLookup(new NpPolicyKey(), out NpPolicyValue _));

        Assert.Equal("BPF map 'np_policy' does not exist in the kernel yet; load its object first.", exception.Message);
    }

    [KernelFact]
    public void Hash_UpdateBatchGetKeysDeleteBatch_HandleEveryElement()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_policy");
        var keys = Enumerable.Range(0, 100).Select(i => new NpPolicyKey { RuleSet = (uint)i, Remote = 2, Protocol = 6 }).ToArray();
        var values = Enumerable.Range(0, 100).Select(i => new NpPolicyValue { RuleId = (uint)i + 1000 }).ToArray();

        int written = map.UpdateBatch<NpPolicyKey, NpPolicyValue>(keys, values);
        var listed = map.GetKeys<NpPolicyKey>().Select(k => k.RuleSet).Order().ToList();
        var toDelete = keys.Take(50).Append(new NpPolicyKey { RuleSet = 999 }).Concat(keys.Take(3)).ToArray();
        int deleted = map.DeleteBatch<NpPolicyKey>(toDelete);

        Assert.Equal(100, written);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (uint)i), listed);
        Assert.True(map.TryLookup(keys[99], out NpPolicyValue last));
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
        map.Update(new NpPolicyKey { RuleSet = 1 }, new NpPolicyValue());
        NpPolicyKey[] keys = [new() { RuleSet = 0 }, new() { RuleSet = 1 }];

        var exception = Assert.Throws<KernelOperationException>(() => map.UpdateBatch<NpPolicyKey, NpPolicyValue>(keys, new NpPolicyValue[2], BpfMapUpdateMode.NoExist));

        Assert.True(exception.Errno == Errno.EEXIST, exception.Message);
        Assert.True(map.TryLookup(new NpPolicyKey { RuleSet = 0 }, out NpPolicyValue _));
    }

    [KernelFact]
    public void LpmTrie_BatchFallsBackPerElementAndLooksUpLongestPrefix()
    {
        using var obj = TestDatapath.Load();
        var map = obj.GetMap("np_ipcache_lpm");
        NpIPCacheLpmKey[] keys =
        [
            NpIPCacheLpmKey.IPv4(198, 18, 0, 0, 15),
            NpIPCacheLpmKey.IPv4(198, 18, 4, 0, 24),
            NpIPCacheLpmKey.IPv4(0, 0, 0, 0, 0),
        ];
        NpIPCacheValue[] values = [new() { Identity = 2, AddressClass = 1 << 24 }, new() { Identity = 2, AddressClass = (1 << 24) + 1 }, new() { Identity = 2 }];

        int written = map.UpdateBatch<NpIPCacheLpmKey, NpIPCacheValue>(keys, values);
        map.TryLookup(NpIPCacheLpmKey.IPv4(198, 18, 4, 9, 32), out NpIPCacheValue inner);
        map.TryLookup(NpIPCacheLpmKey.IPv4(198, 19, 200, 1, 32), out NpIPCacheValue outer);
        map.TryLookup(NpIPCacheLpmKey.IPv4(203, 0, 113, 1, 32), out NpIPCacheValue world);
        int listed = map.GetKeys().Count();
        int deleted = map.DeleteBatch<NpIPCacheLpmKey>(keys);

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

        map.Update(5u, new NpEndpointValue { Identity = 11, IngressRuleSet = 1, EgressRuleSet = 2, Flags = 7 });
        int written = map.UpdateBatch<uint, NpEndpointValue>([1u, 2u], [new() { Identity = 1 }, new() { Identity = 2 }]);
        map.TryLookup(5u, out NpEndpointValue five);
        map.TryLookup(2u, out NpEndpointValue two);
        map.TryLookup(9u, out NpEndpointValue unset);

        Assert.Equal(2, written);
        Assert.Equal((11u, 1u, 2u, 7u), (five.Identity, five.IngressRuleSet, five.EgressRuleSet, five.Flags));
        Assert.Equal(2u, two.Identity);
        Assert.Equal(default, unset);
        Assert.Equal(Enumerable.Range(0, (int)TestDatapath.SmallArrayEntries).Select(i => (uint)i), map.GetKeys<uint>());
        Assert.False(map.TryLookup(TestDatapath.SmallArrayEntries, out NpEndpointValue _));
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
        map.Update(new NpPolicyKey { RuleSet = 4 }, new NpPolicyValue { RuleId = 44 });

        map.Pin(path);
        using (var pinned = BpfMap.OpenPinned(path))
        {
            Assert.Equal(("np_policy", BpfMapType.Hash, 16, 8, TestDatapath.SmallEntries), (pinned.Name, pinned.Type, pinned.KeySize, pinned.ValueSize, pinned.MaxEntries));
            Assert.Equal(path, pinned.PinPath);
            Assert.True(pinned.TryLookup(new NpPolicyKey { RuleSet = 4 }, out NpPolicyValue value));
            Assert.Equal(44u, value.RuleId);
            pinned.Update(new NpPolicyKey { RuleSet = 5 }, new NpPolicyValue { RuleId = 55 });
            Assert.Throws<InvalidOperationException>(() => pinned.SetMaxEntries(5));
        }

        Assert.True(map.TryLookup(new NpPolicyKey { RuleSet = 5 }, out NpPolicyValue fromPin));
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
}
