using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Iptables;

/// <summary>Exact address ranges of the ipcache's longest-prefix-match table: the address space of one family cut into
/// intervals on which <see cref="CompiledPolicySet.Lookup(IPAddress)"/> gives one entry, and those intervals as CIDRs.</summary>
internal static class IptablesAddressRanges
{
    /// <summary>Cuts the family's address space into maximal intervals of constant lookup result, in ascending order.</summary>
    public static List<(UInt128 First, UInt128 Last, IPCacheEntry Entry)> Partition(CompiledPolicySet policySet, AddressFamily family)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var max = MaxValue(bits);
        var boundaries = new SortedSet<UInt128> { UInt128.Zero };
        foreach (var prefix in policySet.IPCache.Keys)
        {
            if (prefix.BaseAddress.AddressFamily != family)
            {
                continue;
            }

            var first = IPAddressBits.Mask(IPAddressBits.ToUInt128(prefix.BaseAddress), prefix.PrefixLength, bits);
            var last = first | HostMask(bits, prefix.PrefixLength);
            boundaries.Add(first);
            if (last != max)
            {
                boundaries.Add(last + 1);
            }
        }

        var starts = boundaries.ToList();
        var result = new List<(UInt128, UInt128, IPCacheEntry)>(starts.Count);
        for (var i = 0; i < starts.Count; i++)
        {
            var first = starts[i];
            var last = i + 1 < starts.Count ? starts[i + 1] - 1 : max;
            result.Add((first, last, policySet.Lookup(IPAddressBits.FromUInt128(first, family))));
        }

        return result;
    }

    /// <summary>The smallest list of CIDRs, ascending, covering exactly the intervals at <paramref name="indices"/>
    /// (ascending positions in <paramref name="partition"/>): adjacent positions are adjacent ranges, so each run of
    /// consecutive positions is one range.</summary>
    public static List<IPNetwork> Select(List<(UInt128 First, UInt128 Last, IPCacheEntry Entry)> partition, AddressFamily family, List<int> indices)
    {
        var result = new List<IPNetwork>();
        for (var i = 0; i < indices.Count;)
        {
            var j = i;
            while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1)
            {
                j++;
            }

            AddCidrs(result, partition[indices[i]].First, partition[indices[j]].Last, family);
            i = j + 1;
        }

        return result;
    }

    /// <summary>The smallest list of CIDRs, ascending, covering exactly the intervals whose entry satisfies <paramref name="predicate"/>.</summary>
    public static List<IPNetwork> Select(List<(UInt128 First, UInt128 Last, IPCacheEntry Entry)> partition, AddressFamily family, Func<IPCacheEntry, bool> predicate)
    {
        var result = new List<IPNetwork>();
        UInt128? runFirst = null;
        var runLast = UInt128.Zero;
        foreach (var (first, last, entry) in partition)
        {
            if (predicate(entry))
            {
                runFirst ??= first;
                runLast = last;
            }
            else if (runFirst is UInt128 start)
            {
                AddCidrs(result, start, runLast, family);
                runFirst = null;
            }
        }

        if (runFirst is UInt128 tail)
        {
            AddCidrs(result, tail, runLast, family);
        }

        return result;
    }

    /// <summary>Splits the interval [<paramref name="first"/>, <paramref name="last"/>] into aligned CIDR blocks.</summary>
    public static void AddCidrs(List<IPNetwork> result, UInt128 first, UInt128 last, AddressFamily family)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var max = MaxValue(bits);
        while (true)
        {
            var size = first == UInt128.Zero ? bits : TrailingZeros(first);
            while (first + HostMask(bits, bits - size) > last)
            {
                size--;
            }

            var blockLast = first + HostMask(bits, bits - size);
            result.Add(new IPNetwork(IPAddressBits.FromUInt128(first, family), bits - size));
            if (blockLast == last || blockLast == max)
            {
                return;
            }

            first = blockLast + 1;
        }
    }

    /// <summary>The positions of a partition's intervals by remote identity and by address class, so the intervals a peer
    /// set matches are found from its identities and classes instead of a scan of the whole partition per peer set
    /// (tens of thousands of peer sets times a hundred thousand intervals at the 100k-pod scale).</summary>
    public sealed class Index
    {
        private readonly int _count;
        private readonly Dictionary<uint, List<int>> _byIdentity = [];
        private readonly Dictionary<uint, List<int>> _byClass = [];

        public Index(List<(UInt128 First, UInt128 Last, IPCacheEntry Entry)> partition)
        {
            _count = partition.Count;
            for (var i = 0; i < partition.Count; i++)
            {
                var entry = partition[i].Entry;
                Add(_byIdentity, entry.Identity, i);
                Add(_byClass, entry.AddressClass, i);
            }
        }

        /// <summary>The ascending positions of the intervals whose entry <paramref name="peers"/> matches
        /// (<see cref="PeerSet.Matches(uint, uint)"/>).</summary>
        public List<int> Matching(PeerSet peers)
        {
            if (peers.IsAny)
            {
                return [.. Enumerable.Range(0, _count)];
            }

            var result = new List<int>();
            foreach (var identity in peers.Identities)
            {
                if (_byIdentity.TryGetValue(identity, out var positions))
                {
                    result.AddRange(positions);
                }
            }

            foreach (var addressClass in peers.AddressClasses)
            {
                if (_byClass.TryGetValue(addressClass, out var positions))
                {
                    result.AddRange(positions);
                }
            }

            // One key's positions are ascending; several keys' are merged by sorting, and an interval that matches by
            // identity and by class is kept once.
            if (peers.Identities.Length + peers.AddressClasses.Length > 1)
            {
                result.Sort();
                var kept = 0;
                for (var i = 0; i < result.Count; i++)
                {
                    if (kept == 0 || result[kept - 1] != result[i])
                    {
                        result[kept++] = result[i];
                    }
                }

                result.RemoveRange(kept, result.Count - kept);
            }

            return result;
        }

        private static void Add(Dictionary<uint, List<int>> index, uint key, int position)
        {
            if (!index.TryGetValue(key, out var positions))
            {
                index[key] = positions = [];
            }

            positions.Add(position);
        }
    }

    private static int TrailingZeros(UInt128 value) => (int)UInt128.TrailingZeroCount(value);

    private static UInt128 MaxValue(int bits) => bits == 32 ? uint.MaxValue : UInt128.MaxValue;

    /// <summary>The host bits of a prefix of <paramref name="length"/> bits in a <paramref name="bits"/>-bit address.</summary>
    private static UInt128 HostMask(int bits, int length) => length >= bits ? UInt128.Zero : MaxValue(bits) >> length;
}
