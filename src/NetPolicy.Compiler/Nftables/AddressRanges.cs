using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Nftables;

/// <summary>An inclusive range of addresses of one family, as 128-bit integers (IPv4 in the low 32 bits).</summary>
internal readonly record struct AddressRange(bool IsIPv4, UInt128 First, UInt128 Last)
{
    public bool Contains(IPAddress address) =>
        (address.AddressFamily == AddressFamily.InterNetwork) == IsIPv4 && IPAddressBits.ToUInt128(address) is var v && v >= First && v <= Last;

    public override string ToString()
    {
        var family = IsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var first = IPAddressBits.FromUInt128(First, family).ToString();
        return First == Last ? first : first + "-" + IPAddressBits.FromUInt128(Last, family);
    }
}

/// <summary>The exact address ranges of every identity and address class of a compile, computed from the ipcache's
/// longest-prefix-match table: a prefix owns its addresses minus those of the longer prefixes inside it.</summary>
internal sealed class AddressRanges
{
    private AddressRanges(Dictionary<uint, List<AddressRange>> byIdentity, Dictionary<uint, List<AddressRange>> byClass)
    {
        ByIdentity = byIdentity;
        ByClass = byClass;
    }

    /// <summary>Gets the sorted, merged ranges of every identity that owns an address.</summary>
    public IReadOnlyDictionary<uint, List<AddressRange>> ByIdentity { get; }

    /// <summary>Gets the sorted, merged ranges of every address class that owns an address.</summary>
    public IReadOnlyDictionary<uint, List<AddressRange>> ByClass { get; }

    public static AddressRanges Compute(CompiledPolicySet policySet)
    {
        ArgumentNullException.ThrowIfNull(policySet);
        var leaves = new List<(AddressRange Range, IPCacheEntry Entry)>();
        foreach (var v4 in new[] { true, false })
        {
            Sweep(policySet.IPCache.Values.Where(e => (e.Prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork) == v4), v4, leaves);
        }

        return new AddressRanges(Group(leaves, static e => e.Identity), Group(leaves, static e => e.AddressClass));
    }

    /// <summary>Merges ranges of one family into sorted, non-overlapping, non-adjacent ranges.</summary>
    public static List<AddressRange> Merge(IEnumerable<AddressRange> ranges)
    {
        var merged = new List<AddressRange>();
        foreach (var range in ranges.OrderBy(r => r.First))
        {
            if (merged.Count > 0 && merged[^1] is var last && (last.Last == UInt128.MaxValue || last.Last + 1 >= range.First))
            {
                if (range.Last > last.Last)
                {
                    merged[^1] = last with { Last = range.Last };
                }
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged;
    }

    private static Dictionary<uint, List<AddressRange>> Group(List<(AddressRange Range, IPCacheEntry Entry)> leaves, Func<IPCacheEntry, uint> key) =>
        leaves.GroupBy(l => key(l.Entry)).ToDictionary(
            g => g.Key,
            g => Merge(g.Where(l => l.Range.IsIPv4).Select(l => l.Range)).Concat(Merge(g.Where(l => !l.Range.IsIPv4).Select(l => l.Range))).ToList());

    private static void Sweep(IEnumerable<IPCacheEntry> entries, bool v4, List<(AddressRange, IPCacheEntry)> leaves)
    {
        var bits = v4 ? 32 : 128;
        var max = v4 ? (UInt128)uint.MaxValue : UInt128.MaxValue;
        var sorted = entries
            .Select(e => (Entry: e, First: IPAddressBits.Mask(IPAddressBits.ToUInt128(e.Prefix.BaseAddress), e.Prefix.PrefixLength, bits), Length: e.Prefix.PrefixLength))
            .OrderBy(e => e.First).ThenBy(e => e.Length)
            .ToList();

        // Addresses no prefix covers get what the lookup returns for them: the default route entry.
        var root = new IPCacheEntry(new IPNetwork(v4 ? IPAddress.Any : IPAddress.IPv6Any, 0), ReservedIdentities.World, ReservedIdentities.FirstAddressClass);
        var stack = new Stack<(IPCacheEntry Entry, UInt128 Last)>();
        stack.Push((root, max));
        UInt128 cursor = 0;
        var exhausted = false;

        void Emit(IPCacheEntry entry, UInt128 last)
        {
            if (!exhausted && cursor <= last)
            {
                leaves.Add((new AddressRange(v4, cursor, last), entry));
            }

            if (last == max)
            {
                exhausted = true;
            }
            else if (last + 1 > cursor)
            {
                cursor = last + 1;
            }
        }

        foreach (var (entry, first, length) in sorted)
        {
            var last = length == bits ? first : first | (max >> length);
            while (stack.Peek().Last < first)
            {
                var done = stack.Pop();
                Emit(done.Entry, done.Last);
            }

            if (first > cursor)
            {
                Emit(stack.Peek().Entry, first - 1);
            }

            if (length == 0)
            {
                // The family's default route replaces the implicit root.
                stack.Pop();
            }

            stack.Push((entry, last));
        }

        while (stack.Count > 0)
        {
            var done = stack.Pop();
            Emit(done.Entry, done.Last);
        }
    }
}
