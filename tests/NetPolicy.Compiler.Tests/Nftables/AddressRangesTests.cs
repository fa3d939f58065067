using System.Net;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Nftables.Tests;

/// <summary>The exact address ranges of identities and address classes, computed from the ipcache's longest-prefix-match table.</summary>
public sealed class AddressRangesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(21)]
    [InlineData(34)]
    public void Compute_RandomAddresses_MembershipEqualsLookup(int seed)
    {
        var policySet = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
        var ranges = AddressRanges.Compute(policySet);
        var random = new Random(seed);

        foreach (var address in Probes(policySet, random))
        {
            var entry = policySet.Lookup(address);
            var classes = ranges.ByClass.Where(c => c.Value.Any(r => r.Contains(address))).Select(c => c.Key).ToList();
            var identities = ranges.ByIdentity.Where(c => c.Value.Any(r => r.Contains(address))).Select(c => c.Key).ToList();
            Assert.True(classes.Count == 1 && classes[0] == entry.AddressClass, $"seed {seed}: {address} is in classes [{string.Join(',', classes)}], the ipcache says {entry.AddressClass}");
            Assert.True(identities.Count == 1 && identities[0] == entry.Identity, $"seed {seed}: {address} has identities [{string.Join(',', identities)}], the ipcache says {entry.Identity}");
        }
    }

    [Fact]
    public void Compute_IPBlockWithExceptAroundPod_SplitsTheBlockAroundTheExceptAndThePod()
    {
        // 198.18.0.0/16 except y's /24: the /32 entries of x's pods lie inside the block and share its class (ipBlocks
        // match pod IPs), while y's pods, inside the except, do not; the raw /16 prefix would wrongly include y's /24.
        var policySet = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "egress").Egress(Netpol.EgressRule([Netpol.IPBlock("198.18.0.0/16", NetpolModel.NamespaceCidr("y"))])))).ThrowIfErrors();
        var ranges = AddressRanges.Compute(policySet);
        var blockClass = policySet.Lookup(IPAddress.Parse("198.18.200.1")).AddressClass;

        var block = ranges.ByClass[blockClass].Select(r => r.ToString()).ToList();

        Assert.Equal(["198.18.0.0-198.18.10.255", "198.18.12.0-198.18.255.255"], block);
        Assert.Contains(ranges.ByClass[blockClass], r => r.Contains(NetpolModel.IPv4Of("x/a")));
        Assert.Equal([NetpolModel.IPv4Of("x/a").ToString()], ranges.ByIdentity[policySet.Lookup(NetpolModel.IPv4Of("x/a")).Identity].Select(r => r.ToString()));
    }

    [Fact]
    public void Merge_OverlappingAndAdjacentRanges_BecomeOne()
    {
        var merged = AddressRanges.Merge([new(true, 10, 20), new(true, 21, 30), new(true, 15, 18), new(true, 40, 40)]);

        Assert.Equal([new AddressRange(true, 10, 30), new AddressRange(true, 40, 40)], merged);
    }

    private static IEnumerable<IPAddress> Probes(CompiledPolicySet policySet, Random random)
    {
        foreach (var prefix in policySet.IPCache.Keys)
        {
            var v4 = prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
            var bits = v4 ? 32 : 128;
            var max = v4 ? (UInt128)uint.MaxValue : UInt128.MaxValue;
            var first = IPAddressBits.ToUInt128(prefix.BaseAddress);
            var last = prefix.PrefixLength == bits ? first : first | (max >> prefix.PrefixLength);
            var family = prefix.BaseAddress.AddressFamily;
            foreach (var value in new[] { first, last, first == 0 ? first : first - 1, last == max ? last : last + 1 })
            {
                yield return IPAddressBits.FromUInt128(value, family);
            }

            for (var i = 0; i < 8; i++)
            {
                var offset = (UInt128)random.NextInt64() * (UInt128)(ulong)random.NextInt64();
                var span = last - first;
                yield return IPAddressBits.FromUInt128(first + (span == max ? offset : offset % (span + 1)), family);
            }
        }

        for (var i = 0; i < 200; i++)
        {
            yield return IPAddressBits.FromUInt128((UInt128)(uint)random.Next() ^ ((UInt128)(uint)random.Next(4) << 31), System.Net.Sockets.AddressFamily.InterNetwork);
        }
    }
}
