using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;
using BpfMapType = NetPolicy.Loader.Bpf.BpfMapType;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>Opens the embedded datapath with small maps (the defaults preallocate tens of MB) and loads it.</summary>
internal static class TestDatapath
{
    public const uint SmallEntries = 1024;
    public const uint SmallArrayEntries = 16;

    public static BpfObject Open(uint endpoint = 7)
    {
        var obj = BpfObject.OpenDatapath();
        try
        {
            foreach (var map in obj.Maps)
            {
                if (map.Type is BpfMapType.Hash or BpfMapType.LruHash or BpfMapType.LpmTrie)
                {
                    map.SetMaxEntries(SmallEntries);
                }
                else if (map.Type == BpfMapType.Array && !map.IsInternal)
                {
                    map.SetMaxEntries(SmallArrayEntries);
                }
            }

            obj.SetReadOnlyData(new BpfConfig(endpoint, mode: 0, flags: 0, abi: 1));
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    public static BpfObject Load(uint endpoint = 7)
    {
        var obj = Open(endpoint);
        try
        {
            obj.Load();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }
}
