using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Tests.Iptables;

/// <summary>The iptables renderer: golden files, determinism, iptables' name and multiport limits, and the exact
/// address ranges of peer sets.</summary>
/// <remarks>Run with <c>NETPOLICY_UPDATE_GOLDEN=1</c> to rewrite <c>Iptables/Golden/&lt;scenario&gt;/</c> in the source tree, then review the diff.</remarks>
public sealed partial class IptablesRendererTests
{
    private const string UpdateVariable = "NETPOLICY_UPDATE_GOLDEN";

    private static readonly string[] s_goldenFiles = ["ipsets.restore", "iptables.rules", "ip6tables.rules"];

    public static TheoryData<string> GoldenScenarios => [.. Scenarios().Keys];

    [Theory]
    [MemberData(nameof(GoldenScenarios))]
    public void Render_GoldenScenario_MatchesExpectedFiles(string scenario)
    {
        var (snapshot, options) = Scenarios()[scenario];

        var ruleset = IptablesRenderer.Render(Compile(snapshot), options);

        var actual = new[] { ruleset.IpsetRestore, ruleset.IPv4Rules, ruleset.IPv6Rules };
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            var directory = Path.Combine(FindSourceRoot(), "tests", "NetPolicy.Compiler.Tests", "Iptables", "Golden", scenario);
            Directory.CreateDirectory(directory);
            for (var i = 0; i < s_goldenFiles.Length; i++)
            {
                File.WriteAllText(Path.Combine(directory, s_goldenFiles[i]), actual[i]);
            }

            return;
        }

        for (var i = 0; i < s_goldenFiles.Length; i++)
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Iptables", "Golden", scenario, s_goldenFiles[i]);
            Assert.True(File.Exists(path), $"{path} is missing; run with {UpdateVariable}=1 and review the new files.");
            Assert.Equal(File.ReadAllText(path), actual[i]);
        }
    }

    [Fact]
    public void Render_TwoSeparateCompilations_GiveByteIdenticalFiles()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var first = IptablesRenderer.Render(Compile(RandomCluster.Create(seed)));
            var second = IptablesRenderer.Render(Compile(RandomCluster.Create(seed)));

            Assert.Equal(first.IpsetRestore, second.IpsetRestore);
            Assert.Equal(first.IPv4Rules, second.IPv4Rules);
            Assert.Equal(first.IPv6Rules, second.IPv6Rules);
            Assert.Equal(first, second);
        }
    }

    [Fact]
    public void Render_RandomClusters_StayWithinIptablesLimits()
    {
        for (var seed = 1; seed <= 40; seed++)
        {
            var ruleset = IptablesRenderer.Render(Compile(RandomCluster.Create(seed)));

            foreach (var rules in new[] { ruleset.IPv4Rules, ruleset.IPv6Rules })
            {
                Assert.StartsWith("*filter\n:NP-FORWARD - [0:0]\n", rules, StringComparison.Ordinal);
                Assert.EndsWith("\nCOMMIT\n", rules, StringComparison.Ordinal);
                foreach (Match chain in ChainReference().Matches(rules))
                {
                    Assert.StartsWith(IptablesRuleset.NamePrefix, chain.Groups[1].Value, StringComparison.Ordinal);
                    Assert.True(chain.Groups[1].Value.Length <= IptablesRuleset.MaxChainNameLength, chain.Value);
                }

                Assert.DoesNotContain("-A FORWARD", rules, StringComparison.Ordinal);
                foreach (Match multiport in Multiport().Matches(rules))
                {
                    Assert.True(multiport.Groups[1].Value.Split(',').Sum(p => p.Contains(':', StringComparison.Ordinal) ? 2 : 1) <= IptablesRuleset.MaxMultiportSlots, multiport.Value);
                }
            }

            foreach (Match set in SetName().Matches(ruleset.IpsetRestore))
            {
                Assert.True(set.Groups[1].Value.Length <= IptablesRuleset.MaxSetNameLength, set.Value);
            }
        }
    }

    [Fact]
    public void SetAndChainNames_LargestIds_FitIptablesLimits()
    {
        var name = IptablesRenderer.SetName(int.MaxValue, AddressFamily.InterNetworkV6, hosts: false) + "-tmp";

        Assert.Equal("NP-PS2147483647-v6-net-tmp", name);
        Assert.True(name.Length <= IptablesRuleset.MaxSetNameLength);
        Assert.True($"NP-EG-{int.MaxValue}".Length <= IptablesRuleset.MaxChainNameLength);
    }

    [Fact]
    public void PortMatches_ManyPortsAndRanges_SplitIntoMultiportsOfAtMost15Slots()
    {
        var ports = Enumerable.Range(1, 20).Select(i => (PortMatch?)new PortMatch(TransportProtocol.Tcp, 1000 + i * 10, 1000 + i * 10))
            .Append(new PortMatch(TransportProtocol.Tcp, 8080, 8095))
            .Append(new PortMatch(TransportProtocol.Tcp, 8090, 8100))
            .Append(new PortMatch(TransportProtocol.Sctp, 80, 80))
            .Append(new PortMatch(TransportProtocol.Udp, 0, 65535));

        var matches = IptablesRenderer.PortMatches(ports);

        Assert.Equal(
            [
                "-p tcp -m multiport --dports 1010,1020,1030,1040,1050,1060,1070,1080,1090,1100,1110,1120,1130,1140,1150",
                "-p tcp -m multiport --dports 1160,1170,1180,1190,1200,8080:8100",
                "-p udp",
                "-p sctp -m sctp --dport 80",
            ],
            matches);
    }

    [Fact]
    public void PortMatches_AnyRuleWithoutPorts_MatchesEveryProtocol()
    {
        var matches = IptablesRenderer.PortMatches([new PortMatch(TransportProtocol.Tcp, 80, 80), null]);

        Assert.Equal([string.Empty], matches);
    }

    [Fact]
    public void AddressRanges_EveryAddressClass_ContainsExactlyTheAddressesLookupMapsToIt()
    {
        var failures = new List<string>();
        for (var seed = 1; seed <= 30; seed++)
        {
            var policySet = Compile(RandomCluster.Create(seed));
            var random = new Random(seed);
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var partition = IptablesAddressRanges.Partition(policySet, family);
                var probes = Probes(policySet, family, random).ToList();
                foreach (var addressClass in policySet.AddressClasses.Select(c => c.Id).Append(NetPolicy.Compiler.Identities.ReservedIdentities.FirstAddressClass).Distinct())
                {
                    var cidrs = IptablesAddressRanges.Select(partition, family, e => e.AddressClass == addressClass);
                    foreach (var address in probes)
                    {
                        var inCidrs = cidrs.Any(c => c.Contains(address));
                        var inClass = policySet.Lookup(address).AddressClass == addressClass;
                        if (inCidrs != inClass)
                        {
                            failures.Add($"seed {seed}: {address} class {addressClass}: CIDRs {inCidrs}, lookup {inClass}");
                        }
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    /// <summary>The renderer finds a peer set's intervals through <see cref="IptablesAddressRanges.Index"/>; it must give
    /// exactly the intervals (and CIDRs) a scan of the whole partition with <see cref="Ir.PeerSet.Matches"/> gives.</summary>
    [Fact]
    public void AddressRanges_Index_MatchesTheScanForEveryPeerSet()
    {
        var checkedSets = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var policySet = Compile(RandomCluster.Create(seed));
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var partition = IptablesAddressRanges.Partition(policySet, family);
                var index = new IptablesAddressRanges.Index(partition);
                foreach (var peers in policySet.PeerSets.Values)
                {
                    var scanned = Enumerable.Range(0, partition.Count).Where(i => peers.Matches(partition[i].Entry.Identity, partition[i].Entry.AddressClass)).ToList();
                    var indexed = index.Matching(peers);
                    Assert.True(scanned.SequenceEqual(indexed), $"seed {seed} {family} {peers}: scan [{string.Join(',', scanned)}], index [{string.Join(',', indexed)}]");
                    Assert.Equal(
                        IptablesAddressRanges.Select(partition, family, e => peers.Matches(e.Identity, e.AddressClass)),
                        IptablesAddressRanges.Select(partition, family, indexed));
                    checkedSets++;
                }
            }
        }

        Assert.True(checkedSets > 200, $"{checkedSets} peer sets checked");
    }

    [Fact]
    public void AddressRanges_IPBlockWithExceptAndPod_CarveHolesOutOfTheClass()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "egress").Egress(Netpol.EgressRule([Netpol.IPBlock("198.18.0.0/16", "198.18.128.0/17")])));
        var policySet = Compile(snapshot);
        var partition = IptablesAddressRanges.Partition(policySet, AddressFamily.InterNetwork);
        var blockClass = policySet.Lookup(IPAddress.Parse("198.18.0.1")).AddressClass;

        var cidrs = IptablesAddressRanges.Select(partition, AddressFamily.InterNetwork, e => e.AddressClass == blockClass);

        Assert.Contains(cidrs, c => c.Contains(IPAddress.Parse("198.18.0.1")));
        Assert.DoesNotContain(cidrs, c => c.Contains(IPAddress.Parse("198.18.200.1")));
        Assert.DoesNotContain(cidrs, c => c.Contains(IPAddress.Parse("198.19.0.1")));
        Assert.True(cidrs.TrueForAll(c => c.PrefixLength >= 17));
    }

    [Fact]
    public void AddCidrs_WholeSpaceAndOddRanges_GiveMinimalAlignedBlocks()
    {
        var all = new List<IPNetwork>();
        var odd = new List<IPNetwork>();

        IptablesAddressRanges.AddCidrs(all, UInt128.Zero, UInt128.MaxValue, AddressFamily.InterNetworkV6);
        IptablesAddressRanges.AddCidrs(odd, 1, 6, AddressFamily.InterNetwork);

        Assert.Equal([IPNetwork.Parse("::/0")], all);
        Assert.Equal([IPNetwork.Parse("0.0.0.1/32"), IPNetwork.Parse("0.0.0.2/31"), IPNetwork.Parse("0.0.0.4/31"), IPNetwork.Parse("0.0.0.6/32")], odd);
    }

    [Fact]
    public void Render_PeerSetsMatchLookup_ForRandomAddresses()
    {
        // Each rendered set, parsed back, holds exactly the addresses whose lookup matches its peer set.
        var failures = new List<string>();
        for (var seed = 1; seed <= 20; seed++)
        {
            var policySet = Compile(RandomCluster.Create(seed));
            var ruleset = IptablesRenderer.Render(policySet);
            var members = new Dictionary<string, List<IPNetwork>>();
            foreach (var line in ruleset.IpsetRestore.Split('\n'))
            {
                var parts = line.Split(' ');
                if (parts is ["add", var set, var member] && SetIdentity().IsMatch(set))
                {
                    var name = set[..^"-tmp".Length];
                    members.TryAdd(name, []);
                    members[name].Add(member.Contains('/', StringComparison.Ordinal) ? IPNetwork.Parse(member) : new IPNetwork(IPAddress.Parse(member), member.Contains(':', StringComparison.Ordinal) ? 128 : 32));
                }
            }

            var random = new Random(seed);
            foreach (var (name, cidrs) in members.Where(m => SetIdentity().IsMatch(m.Key)))
            {
                var match = SetIdentity().Match(name);
                var peers = policySet.PeerSets[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)];
                var family = match.Groups[2].Value == "4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                foreach (var address in Probes(policySet, family, random))
                {
                    var entry = policySet.Lookup(address);
                    if (cidrs.Any(c => c.Contains(address)) != peers.Matches(entry.Identity, entry.AddressClass))
                    {
                        failures.Add($"seed {seed}: {name} and {address}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void Render_EgressNamedPortWithTwoPorts_UsesOneHashIpPortSetInsteadOfARulePerPort()
    {
        var ruleset = IptablesRenderer.Render(Compile(NetfilterScenarios.NamedPortEgress()));

        var create = Assert.Single(ruleset.IpsetRestore.Split('\n'), l => l.StartsWith("create NP-NP", StringComparison.Ordinal) && !l.Contains("-tmp", StringComparison.Ordinal));
        var name = create.Split(' ')[1];
        Assert.Matches("^NP-NP[0-9a-f]{8}-v4-ipport$", name);
        Assert.Contains(" hash:ip,port family inet ", create, StringComparison.Ordinal);
        var members = ruleset.IpsetRestore.Split('\n').Where(l => l.StartsWith($"add {name}-tmp ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(["198.18.11.10,tcp:80", "198.18.11.11,tcp:81", "198.18.11.12,tcp:80"], members);
        Assert.Contains($"-m set --match-set {name} dst,dst -m comment", ruleset.IPv4Rules, StringComparison.Ordinal);
        Assert.DoesNotContain("--dport", ruleset.IPv4Rules, StringComparison.Ordinal);
        Assert.DoesNotContain("NP-NP", ruleset.IPv6Rules, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RandomClustersWithNamedPortSets_StayDeterministicAndWithinNameLimits()
    {
        var sets = 0;
        for (var seed = 1; seed <= 40; seed++)
        {
            var ruleset = IptablesRenderer.Render(Compile(RandomCluster.Create(seed)));
            foreach (Match set in SetName().Matches(ruleset.IpsetRestore))
            {
                Assert.True(set.Groups[1].Value.Length + "-tmp".Length <= IptablesRuleset.MaxSetNameLength, set.Value);
                sets += set.Groups[1].Value.StartsWith("NP-NP", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.Equal(ruleset, IptablesRenderer.Render(Compile(RandomCluster.Create(seed))));
        }

        Assert.True(sets > 0, "no random cluster has an egress named port with two ports; the test proves nothing");
    }

    [Fact]
    public void Render_PodCidrs_FailClosedOnAddressesWithoutEndpointUnlessFailOpen()
    {
        var policySet = Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()));
        var closed = new IptablesRenderOptions { PodCidrs = [IPNetwork.Parse("198.18.0.0/16")] };
        var open = new IptablesRenderOptions { PodCidrs = [IPNetwork.Parse("198.18.0.0/16")], FailOpen = true };

        var closedRules = IptablesRenderer.Render(policySet, closed);
        var openRules = IptablesRenderer.Render(policySet, open);

        Assert.Contains("-A NP-FORWARD -s 198.18.0.0/16 -m set ! --match-set NP-EP-v4-ip src -m comment", closedRules.IPv4Rules, StringComparison.Ordinal);
        Assert.Contains("-A NP-TO-POD -d 198.18.0.0/16 -m set ! --match-set NP-EP-v4-ip dst -m comment", closedRules.IPv4Rules, StringComparison.Ordinal);
        var members = closedRules.IpsetRestore.Split('\n').Where(l => l.StartsWith("add NP-EP-v4-ip-tmp ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(NetpolModel.AllPods.Select(NetpolModel.IPv4Of).Select(a => a.ToString()).Order(StringComparer.Ordinal), members.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("NP-EP", closedRules.IPv6Rules, StringComparison.Ordinal);
        Assert.DoesNotContain("NP-EP", openRules.IpsetRestore + openRules.IPv4Rules, StringComparison.Ordinal);
        Assert.Equal(IptablesRenderer.Render(policySet), openRules);
    }

    [Fact]
    public void Render_HostAddresses_SkipIngressPolicyInToPodBeforeTheDispatch()
    {
        var policySet = Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()));

        var rules = IptablesRenderer.Render(policySet, new IptablesRenderOptions { HostAddresses = [IPAddress.Parse("::ffff:198.19.255.254")] }).IPv4Rules;

        var lines = rules.Split('\n').Where(l => l.StartsWith("-A NP-TO-POD ", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("-A NP-TO-POD -s 198.19.255.254/32 -m comment", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("-j RETURN", lines[0], StringComparison.Ordinal);
        Assert.Equal(["-A NP-TO-POD -d 198.18.10.0/24"], lines.Skip(1).Select(l => l[..l.IndexOf(" -m comment", StringComparison.Ordinal)]));
        var shard = "NP-TP-" + IptablesRenderer.Hash("198.18.10.0/24");
        Assert.EndsWith("-j " + shard, lines[1], StringComparison.Ordinal);
        Assert.Contains($"-A {shard} -d 198.18.10.10/32 -m comment --comment np:", rules, StringComparison.Ordinal);
        Assert.Contains("-A NP-OUTPUT -m comment --comment np:", rules, StringComparison.Ordinal);
        Assert.Contains("-j NP-TO-POD\n", rules, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("::/0")]
    public void Render_PodCidrOfLengthZero_ThrowsArgumentException(string cidr)
    {
        var ex = Assert.Throws<ArgumentException>(() => IptablesRenderer.Render(Compile(NetpolModel.IPv4.Snapshot()), new IptablesRenderOptions { PodCidrs = [IPNetwork.Parse(cidr)] }));

        Assert.StartsWith($"IptablesRenderOptions.PodCidrs holds '{cidr}': a pod CIDR of length 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DefaultHostAddresses_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => IptablesRenderer.Render(Compile(NetpolModel.IPv4.Snapshot()), new IptablesRenderOptions { HostAddresses = default }));

        Assert.StartsWith("IptablesRenderOptions.HostAddresses is a default ImmutableArray; use [] for none.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DiffFrom_SameRuleset_IsEmpty()
    {
        var ruleset = IptablesRenderer.Render(Compile(NetfilterScenarios.NamedPortEgress()));

        var delta = ruleset.DiffFrom(IptablesRenderer.Render(Compile(NetfilterScenarios.NamedPortEgress())));

        Assert.True(delta.IsEmpty);
        Assert.Equal("set members +0 -0, chains written 0, deleted 0", delta.ToString());
    }

    [Fact]
    public void DiffFrom_PodLeavesPeerSet_DeletesOneMemberAndWritesNoChain()
    {
        var policy = Netpol.Policy("x", "from-web").Ingress(Netpol.IngressRule([Netpol.Peer(podSelector: Netpol.Labels("app", "web"), namespaceSelector: Netpol.Everything())]));
        var modelA = NetpolModel.IPv4.WithPodLabel("y/a", "app", "web").WithPodLabel("y/b", "app", "web");
        var modelB = NetpolModel.IPv4.WithPodLabel("y/a", "app", "web").WithPodLabel("y/b", "app", "db");
        var a = Compile(modelA.Snapshot(policy));
        var b = new PolicyCompiler().Compile(modelB.Snapshot(policy), a).ThrowIfErrors();

        var delta = IptablesRenderer.Render(b).DiffFrom(IptablesRenderer.Render(a));

        Assert.Matches("^del NP-PS[0-9]+-v4-ip 198.18.11.11 -exist\n$", delta.IpsetRestore);
        Assert.Equal(string.Empty, delta.IPv4Rules + delta.IPv6Rules + delta.IpsetCleanup);
        Assert.Equal(1, delta.MembersDeleted);
    }

    [Fact]
    public void DiffFrom_PodBecomesIsolated_RewritesOnlyTheDispatchChainAndCreatesItsRuleChain()
    {
        var a = Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress", Netpol.Labels("pod", "a")).Ingress()));
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress", Netpol.Labels("pod", "a")).Ingress(), Netpol.Policy("y", "deny-egress").Egress()), a).ThrowIfErrors();
        var ra = IptablesRenderer.Render(a);
        var rb = IptablesRenderer.Render(b);

        var forward = rb.DiffFrom(ra);
        var backward = ra.DiffFrom(rb);

        var egressChain = Regex.Match(rb.IPv4Rules, "^:(NP-EG-[0-9]+) ", RegexOptions.Multiline).Groups[1].Value;
        var shard = "NP-FE-" + IptablesRenderer.Hash("198.18.11.0/24");
        Assert.Equal(4, forward.ChainsWritten); // IPv4: NP-FORWARD (one prefix rule more), the shard and the rule chain; IPv6: the rule chain
        Assert.StartsWith($"*filter\n:NP-FORWARD - [0:0]\n:{shard} - [0:0]\n:{egressChain} - [0:0]\n-A NP-FORWARD ", forward.IPv4Rules, StringComparison.Ordinal);
        Assert.DoesNotContain("NP-TO-POD - [0:0]", forward.IPv4Rules, StringComparison.Ordinal);
        Assert.EndsWith($"-A {egressChain} -m comment --comment np:{IptablesRenderer.Hash($"-A {egressChain} -j DROP")} -j DROP\nCOMMIT\n", forward.IPv4Rules, StringComparison.Ordinal);
        Assert.Equal(3, backward.ChainsDeleted); // the shard and the rule chain, the rule chain in both families
        Assert.EndsWith($"-X {shard}\n-X {egressChain}\nCOMMIT\n", backward.IPv4Rules, StringComparison.Ordinal);
        Assert.Equal(string.Empty, forward.IpsetRestore + backward.IpsetRestore);
    }

    [Fact]
    public void DiffFrom_PodJoinsRuleSet_RewritesOnlyItsDispatchShard()
    {
        var a = Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny", Netpol.Labels("pod", "a")).Ingress()));
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.WithPodLabel("x/b", "pod", "a").Snapshot(Netpol.Policy("x", "deny", Netpol.Labels("pod", "a")).Ingress()), a).ThrowIfErrors();

        var delta = IptablesRenderer.Render(b).DiffFrom(IptablesRenderer.Render(a));

        var shard = "NP-TP-" + IptablesRenderer.Hash("198.18.10.0/24");
        Assert.Equal(1, delta.ChainsWritten);
        Assert.StartsWith($"*filter\n:{shard} - [0:0]\n-A {shard} -d 198.18.10.10/32 ", delta.IPv4Rules, StringComparison.Ordinal);
        Assert.Contains($"-A {shard} -d 198.18.10.11/32 ", delta.IPv4Rules, StringComparison.Ordinal);
        Assert.Equal(string.Empty, delta.IPv6Rules);
    }

    [Fact]
    public void DiffFrom_NamedPortSetGone_DestroysItAfterTheRules()
    {
        var a = Compile(NetfilterScenarios.NamedPortEgress());
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(), a).ThrowIfErrors();

        var delta = IptablesRenderer.Render(b).DiffFrom(IptablesRenderer.Render(a));

        Assert.Matches("^destroy NP-NP[0-9a-f]{8}-v4-ipport\n$", delta.IpsetCleanup);
        Assert.Contains("-X NP-EG-", delta.IPv4Rules, StringComparison.Ordinal);
    }

    private static IEnumerable<IPAddress> Probes(CompiledPolicySet policySet, AddressFamily family, Random random)
    {
        var bytes = new byte[family == AddressFamily.InterNetwork ? 4 : 16];
        for (var i = 0; i < 300; i++)
        {
            random.NextBytes(bytes);
            yield return new IPAddress(bytes);
        }

        // Addresses at and next to every prefix edge, where holes start and end.
        foreach (var prefix in policySet.IPCache.Keys.Where(p => p.BaseAddress.AddressFamily == family))
        {
            var bits = family == AddressFamily.InterNetwork ? 32 : 128;
            var first = IPAddressBits.ToUInt128(prefix.BaseAddress);
            var last = first | (prefix.PrefixLength == bits ? 0 : (bits == 32 ? (UInt128)uint.MaxValue : UInt128.MaxValue) >> prefix.PrefixLength);
            foreach (var value in new[] { first, first + 1, last, first - 1, last + 1 })
            {
                if (bits == 128 || value <= uint.MaxValue)
                {
                    yield return IPAddressBits.FromUInt128(value, family);
                }
            }

            for (var j = 0; j < 5; j++)
            {
                yield return IPAddressBits.FromUInt128(first + (UInt128)random.NextInt64(0, (long)Math.Min((ulong)(last - first), long.MaxValue - 1) + 1), family);
            }
        }
    }

    private static Dictionary<string, (ClusterSnapshot Snapshot, IptablesRenderOptions? Options)> Scenarios()
    {
        var denyIngress = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        return new(StringComparer.Ordinal)
        {
            ["fail-closed-host-addresses"] = (NetpolModel.DualStack.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()), new IptablesRenderOptions
            {
                PodCidrs = [.. NetfilterScenarios.PodCidrs],
                HostAddresses = [IPAddress.Parse("198.19.255.254"), IPAddress.Parse("fd00:198::fffe:fffe")],
            }),
            ["named-port-egress"] = (NetfilterScenarios.NamedPortEgress(), null),
            ["deny-ingress"] = (denyIngress, null),
            ["deny-ingress-strict"] = (denyIngress, new IptablesRenderOptions { ConntrackMode = IptablesConntrackMode.Strict }),
            ["ipblock-except-port-ranges"] = (NetpolModel.IPv4.Snapshot(
                Netpol.Policy("x", "egress", Netpol.Labels("pod", "a")).Egress(
                    Netpol.EgressRule([Netpol.IPBlock("198.18.0.0/15", "198.18.0.0/24")], [Netpol.Port(8080, TransportProtocol.Tcp, 8095), Netpol.Port(53, TransportProtocol.Udp)]),
                    Netpol.EgressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [.. Enumerable.Range(0, 17).Select(i => Netpol.Port(9000 + i))]))), null),
            ["dual-stack-namespace-sctp"] = (NetpolModel.DualStack.Snapshot(
                Netpol.Policy("x", "from-y", Netpol.Labels("pod", "b")).Ingress(
                    Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.Port(80, TransportProtocol.Sctp)]),
                    Netpol.IngressRule([Netpol.Peer(podSelector: Netpol.Labels("pod", "c"))])),
                Netpol.Policy("z", "deny-egress").Egress()), null),
        };
    }

    private static CompiledPolicySet Compile(ClusterSnapshot snapshot) => new PolicyCompiler().Compile(snapshot).ThrowIfErrors();

    private static string FindSourceRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NetPolicy.Compiler.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"{UpdateVariable}=1: no directory above {AppContext.BaseDirectory} contains NetPolicy.Compiler.sln.");
    }

    [GeneratedRegex(@"(?:^:|-j |-A )(NP-[^ \n]+)", RegexOptions.Multiline)]
    private static partial Regex ChainReference();

    [GeneratedRegex(@"--dports ([^ ]+)")]
    private static partial Regex Multiport();

    [GeneratedRegex(@"^create ([^ ]+) ", RegexOptions.Multiline)]
    private static partial Regex SetName();

    [GeneratedRegex(@"^NP-PS([0-9]+)-v([46])-")]
    private static partial Regex SetIdentity();
}
