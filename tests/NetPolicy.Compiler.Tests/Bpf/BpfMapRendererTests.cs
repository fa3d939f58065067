using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Bpf;

public sealed class BpfMapRendererTests
{
    [Fact]
    public void Render_IPCache_SplitsHostAndLpmEntries()
    {
        var ir = BpfFixture.Compile();

        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        var host = images.IPCacheHost.ToDictionary(e => e.Key.Address.ToIPAddress(), e => e.Value);
        var lpm = images.IPCacheLpm.ToDictionary(e => e.Key.ToNetwork(), e => e.Value);
        Assert.Equal(ir.IPCache.Count, host.Count + lpm.Count);
        foreach (var entry in ir.IPCache.Values)
        {
            var value = entry.Prefix.PrefixLength == (entry.Prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
                ? host[entry.Prefix.BaseAddress]
                : lpm[entry.Prefix];
            Assert.Equal(new BpfIPCacheValue(entry.Identity, entry.AddressClass), value);
        }

        Assert.Equal(ir.Endpoints["a/web"].Identity, host[IPAddress.Parse("fd00::10")].Identity);
        Assert.Contains(images.IPCacheLpm, e => e.Key.PrefixLength == 96 && e.Key.ToNetwork() == IPNetwork.Parse("0.0.0.0/0"));
        Assert.Contains(images.IPCacheLpm, e => e.Key.PrefixLength == 0 && e.Key.ToNetwork() == IPNetwork.Parse("::/0"));
        Assert.Contains(images.IPCacheLpm, e => e.Key.PrefixLength == 104 && e.Key.ToNetwork() == IPNetwork.Parse("10.0.0.0/8"));
        Assert.All(images.IPCacheLpm, e => Assert.Equal(e.Key.Address, e.Key.Address.Mask((int)e.Key.PrefixLength)));
    }

    [Fact]
    public void Render_Endpoints_GetIdsInPodOrderAndIsolationFlags()
    {
        var ir = BpfFixture.Compile();

        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        Assert.Equal([KeyValuePair.Create("a/api", 1u), KeyValuePair.Create("a/db", 2u), KeyValuePair.Create("a/web", 3u), KeyValuePair.Create("b/client", 4u)], images.EndpointIds);
        var endpoints = images.Endpoints.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(new BpfEndpointValue(ir.Endpoints["a/api"].Identity, 0, 0, BpfConstants.EndpointPresent), endpoints[1]);
        Assert.Equal(new BpfEndpointValue(ir.Endpoints["a/db"].Identity, (uint)ir.Endpoints["a/db"].IngressRuleSet!.Value, 0, BpfConstants.EndpointPresent | BpfConstants.EndpointIngressIsolated), endpoints[2]);
        Assert.Equal(new BpfEndpointValue(ir.Endpoints["a/web"].Identity, 0, (uint)ir.Endpoints["a/web"].EgressRuleSet!.Value, BpfConstants.EndpointPresent | BpfConstants.EndpointEgressIsolated), endpoints[3]);
        var client = ir.Endpoints["b/client"];
        Assert.Equal(new BpfEndpointValue(client.Identity, (uint)client.IngressRuleSet!.Value, (uint)client.EgressRuleSet!.Value, 0x7), endpoints[4]);
    }

    [Fact]
    public void Render_RuleSetsAndPolicy_CoverEveryKeyKind()
    {
        var ir = BpfFixture.Compile();
        var db = (uint)ir.Endpoints["a/db"].IngressRuleSet!.Value;
        var web = (uint)ir.Endpoints["a/web"].EgressRuleSet!.Value;
        var client = ir.Endpoints["b/client"];
        var api = ir.Endpoints["a/api"].Identity;

        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        var ruleSets = images.RuleSets.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(4, ruleSets.Count);
        Assert.Equal(new BpfRuleSetValue(BpfConstants.RuleSetPresent | BpfConstants.RuleSetRemoteIdentity | BpfConstants.RuleSetRemoteClass, 1u << 16, 1u << 12, 0), ruleSets[db]);
        Assert.Equal(new BpfRuleSetValue(BpfConstants.RuleSetPresent | BpfConstants.RuleSetRemoteAny | BpfConstants.RuleSetAnyProtocol, 0, 0, 0), ruleSets[web]);
        Assert.Equal(new BpfRuleSetValue(BpfConstants.RuleSetPresent, 0, 0, 0), ruleSets[(uint)client.IngressRuleSet!.Value]);
        Assert.Equal(new BpfRuleSetValue(BpfConstants.RuleSetPresent, 0, 0, 0), ruleSets[(uint)client.EgressRuleSet!.Value]);

        var policy = images.Policy.ToDictionary(e => e.Key, e => e.Value);
        var classes = ir.PeerSets.Values.Single(p => !p.IsAny && !p.AddressClasses.IsEmpty).AddressClasses;
        Assert.Equal(
            new[]
            {
                new BpfPolicyKey(db, api, 5432, 6, 16, 0),
                new BpfPolicyKey(db, api, 8080, 17, 12, 0),
                new BpfPolicyKey(web, 0, 0, 0, 0, 1),
            }.Concat(classes.Select(c => new BpfPolicyKey(db, c, 443, 6, 16, 0))).OrderBy(k => k.RuleSet).ThenBy(k => k.Remote).ThenBy(k => k.Port),
            policy.Keys.OrderBy(k => k.RuleSet).ThenBy(k => k.Remote).ThenBy(k => k.Port));
        Assert.All(policy.Values, v => Assert.Equal((BpfConstants.ActionAllow, (byte)1, (ushort)0), (v.Action, v.Tier, v.Priority)));
        Assert.Equal(
            ["a/db-ingress spec.ingress[0].from[0] ports[1]"],
            images.RuleAttribution[policy[new BpfPolicyKey(db, api, 8080, 17, 12, 0)].RuleId].Select(r => r.ToString()));
        Assert.Equal(
            ["a/web-egress spec.egress[0] (all to) (all ports)"],
            images.RuleAttribution[policy[new BpfPolicyKey(web, 0, 0, 0, 0, 1)].RuleId].Select(r => r.ToString()));
    }

    [Theory]
    [MemberData(nameof(Support.DifferentialSeeds.Few), MemberType = typeof(Support.DifferentialSeeds))]
    public void Render_PolicyAndRuleSets_AreTheEntriesOfEveryUsedRuleSet(int seed)
    {
        var ir = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
        var used = ir.Endpoints.Values.SelectMany(e => new[] { e.IngressRuleSet, e.EgressRuleSet }).OfType<int>().Distinct().Order().ToList();
        var expectedKeys = new Dictionary<BpfPolicyKey, SortedSet<string>>();
        var expectedRuleSets = new Dictionary<uint, BpfRuleSetValue>();
        foreach (var id in used)
        {
            var ruleSet = ir.RuleSets[id];
            var direction = ruleSet.Direction == PolicyDirection.Ingress ? BpfConstants.DirectionIngress : BpfConstants.DirectionEgress;
            uint flags = BpfConstants.RuleSetPresent, tcp = 0, udp = 0, sctp = 0;
            foreach (var entry in ir.EntriesOf(ruleSet))
            {
                flags |= entry.Kind switch
                {
                    PeerKind.Any => BpfConstants.RuleSetRemoteAny,
                    PeerKind.Identity => BpfConstants.RuleSetRemoteIdentity,
                    _ => BpfConstants.RuleSetRemoteClass,
                };
                var keys = entry.Port is not PortMatch port
                    ? [new BpfPolicyKey((uint)id, entry.Peer, 0, 0, 0, direction)]
                    : BpfPortBlock.Decompose(port.First, port.Last).Select(b => new BpfPolicyKey((uint)id, entry.Peer, b.Port, (byte)port.Protocol, b.PrefixLength, direction)).ToList();
                if (entry.Port is null)
                {
                    flags |= BpfConstants.RuleSetAnyProtocol;
                }

                foreach (var key in keys)
                {
                    var bit = key.Protocol == 0 ? 0 : 1u << key.PortPrefixLength;
                    _ = key.Protocol switch { 6 => tcp |= bit, 17 => udp |= bit, _ => sctp |= bit };
                    if (!expectedKeys.TryGetValue(key, out var texts))
                    {
                        expectedKeys[key] = texts = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    texts.UnionWith(entry.Attribution.Select(r => r.ToString()));
                }
            }

            expectedRuleSets[(uint)id] = new BpfRuleSetValue(flags, tcp, udp, sctp);
        }

        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        Assert.Equal(expectedRuleSets.OrderBy(p => p.Key), images.RuleSets.OrderBy(p => p.Key));
        Assert.Equal(expectedKeys.Keys.OrderBy(k => k.RuleSet).ThenBy(k => k.Remote).ThenBy(k => k.Protocol).ThenBy(k => k.Port).ThenBy(k => k.PortPrefixLength),
            images.Policy.Select(p => p.Key).OrderBy(k => k.RuleSet).ThenBy(k => k.Remote).ThenBy(k => k.Protocol).ThenBy(k => k.Port).ThenBy(k => k.PortPrefixLength));
        Assert.All(images.Policy, p => Assert.Equal(
            expectedKeys[p.Key].OrderBy(t => t, StringComparer.Ordinal),
            images.RuleAttribution[p.Value.RuleId].Select(r => r.ToString()).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void Render_RuleIds_AreHashesOfTheAttributionAndNeverSpecial()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        Assert.Equal(0x640c292cu, BpfMapRenderer.HashAttribution("a")); // FNV-1a("a") = 0xe40c292c, masked to 31 bits
        Assert.All(images.RuleAttribution, r =>
        {
            Assert.InRange(r.Key, 1u, 0x7FFFFFFFu);
            Assert.Equal(BpfMapRenderer.HashAttribution(BpfMapRenderer.AttributionText(r.Value)), r.Key);
        });
        Assert.Equal(images.Policy.Select(p => p.Value.RuleId).Distinct().Order(), images.RuleAttribution.Keys);
    }

    [Fact]
    public void Render_OverlappingRanges_MergeAttributionOfSharedBlocks()
    {
        var snapshot = Snapshot(
            [Pod("a", "db", "198.18.0.20", "app", "db")],
            [new NetworkPolicyDefinition
            {
                Namespace = "a",
                Name = "p",
                PodSelector = LabelSelector.Everything,
                AffectsIngress = true,
                Ingress = [new NetworkPolicyRule { Ports = [new NetworkPolicyPort { Port = 8080, EndPort = 8095 }, new NetworkPolicyPort { Port = 8080, EndPort = 8100 }] }],
            }]);
        var ir = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var rs = (uint)ir.Endpoints["a/db"].IngressRuleSet!.Value;

        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        var policy = images.Policy.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(["TCP/8080-8095 (plen 12)", "TCP/8096-8099 (plen 14)", "TCP/8100"], images.Policy.Select(p => BpfMapImages.PortsText(p.Key)).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["a/p spec.ingress[0] (all from) ports[0]", "a/p spec.ingress[0] (all from) ports[1]"],
            images.RuleAttribution[policy[new BpfPolicyKey(rs, 0, 8080, 6, 12, 0)].RuleId].Select(r => r.ToString()));
        Assert.Equal(
            ["a/p spec.ingress[0] (all from) ports[1]"],
            images.RuleAttribution[policy[new BpfPolicyKey(rs, 0, 8100, 6, 16, 0)].RuleId].Select(r => r.ToString()));
        Assert.Equal((1u << 12) | (1u << 14) | (1u << 16), images.RuleSets.Single().Value.TcpPortPrefixLengths);
    }

    [Fact]
    public void Render_SameInputTwice_GivesEqualImagesAndBytes()
    {
        var first = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();
        var second = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        Assert.Equal(first, second);
        Assert.Equal(BpfMapImagesTests.Json(first), BpfMapImagesTests.Json(second));
        Assert.Equal(BpfMapImagesTests.Binary(first), BpfMapImagesTests.Binary(second));
    }

    [Theory]
    [MemberData(nameof(Support.DifferentialSeeds.Few), MemberType = typeof(Support.DifferentialSeeds))]
    public void Render_RandomClusterTwice_IsByteIdentical(int seed)
    {
        var first = BpfMapRenderer.Render(new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors()).ThrowIfErrors();
        var second = BpfMapRenderer.Render(new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors()).ThrowIfErrors();

        Assert.Equal(first, second);
        Assert.Equal(BpfMapImagesTests.Json(first), BpfMapImagesTests.Json(second));
        Assert.Equal(BpfMapImagesTests.Binary(first), BpfMapImagesTests.Binary(second));
    }

    [Fact]
    public void Render_TooManyPolicyEntries_ReportsOverflowAndNoImages()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxPolicyEntries = 2 });

        Assert.Null(result.Images);
        Assert.False(result.Success);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticCodes.BpfMapOverflow, diagnostic.Code);
        Assert.Equal("NP1301", diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(
            "np_policy needs 4 entries but holds 2; raise BpfRenderOptions.MaxPolicyEntries to at least 4 (the loader creates the map with that max_entries).",
            diagnostic.Message);
        Assert.Throws<PolicyCompilationException>(() => result.ThrowIfErrors());
    }

    [Theory]
    [MemberData(nameof(Support.DifferentialSeeds.Few), MemberType = typeof(Support.DifferentialSeeds))]
    public void Render_PolicyOverflow_CountsEveryEntry(int seed)
    {
        var ir = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
        var entries = BpfMapRenderer.Render(ir).ThrowIfErrors().Policy.Length;

        var result = BpfMapRenderer.Render(ir, new BpfRenderOptions { MaxPolicyEntries = 1 });

        if (entries <= 1)
        {
            Assert.True(result.Success);
            return;
        }

        Assert.Null(result.Images);
        Assert.StartsWith($"np_policy needs {entries} entries but holds 1;", Assert.Single(result.Diagnostics).Message);
    }

    [Fact]
    public void Render_TooManyIPCacheEntries_ReportsBothMaps()
    {
        var ir = BpfFixture.Compile();
        var host = ir.IPCache.Values.Count(e => e.Prefix.PrefixLength is 32 or 128);
        var lpm = ir.IPCache.Count - host;

        var result = BpfMapRenderer.Render(ir, new BpfRenderOptions { MaxIPCacheHostEntries = 1, MaxIPCacheLpmEntries = 1 });

        Assert.Null(result.Images);
        Assert.Equal(
            [
                $"error NP1301: np_ipcache_host needs {host} entries but holds 1; raise BpfRenderOptions.MaxIPCacheHostEntries to at least {host} (the loader creates the map with that max_entries).",
                $"error NP1301: np_ipcache_lpm needs {lpm} entries but holds 1; raise BpfRenderOptions.MaxIPCacheLpmEntries to at least {lpm} (the loader creates the map with that max_entries).",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Render_TooManyEndpoints_ReportsOverflow()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxEndpoints = 4 });

        Assert.Null(result.Images);
        Assert.Equal(
            "error NP1301: np_endpoints needs 4 endpoint slots but holds 3 (slot 0 is never used); raise BpfRenderOptions.MaxEndpoints to at least 5, or render only the node's own pods (BpfRenderOptions.LocalEndpoints).",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Render_KeptEndpointIdTooLarge_ReportsEndpointIdOutOfRange()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxEndpoints = 100, EndpointIds = new Dictionary<string, uint> { ["a/db"] = 100 } });

        Assert.Null(result.Images);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NP1303", diagnostic.Code);
        Assert.Equal(DiagnosticCodes.BpfEndpointIdOutOfRange, diagnostic.Code);
        Assert.Equal(
            "error NP1303: Pod a/db: endpoint id 100 has no np_endpoints slot: ids must be below BpfRenderOptions.MaxEndpoints (100); raise MaxEndpoints to at least 101, " +
            "or leave the pod out of BpfRenderOptions.EndpointIds so it gets a lower id.",
            diagnostic.ToString());
    }

    [Fact]
    public void Render_ManyEndpointIdsTooLarge_ReportOneDiagnostic()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions
        {
            MaxEndpoints = 100,
            EndpointIds = new Dictionary<string, uint> { ["a/db"] = 100, ["a/api"] = 101, ["a/web"] = 200, ["b/client"] = 150 },
        });

        Assert.Null(result.Images);
        Assert.Equal(
            "error NP1303: 4 endpoint ids (100-200, of a/db, a/api, b/client and 1 more) have no np_endpoints slot: ids must be below BpfRenderOptions.MaxEndpoints (100); " +
            "raise MaxEndpoints to at least 201, or leave those pods out of BpfRenderOptions.EndpointIds so they get lower ids.",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Render_RuleSetIdTooLarge_ReportsRuleSetIdOutOfRange()
    {
        var ir = BpfFixture.Compile();
        var db = ir.Endpoints["a/db"].IngressRuleSet!.Value;
        var max = ir.RuleSets.Keys.Max();

        var result = BpfMapRenderer.Render(ir, new BpfRenderOptions { MaxRuleSets = max });

        Assert.Null(result.Images);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NP1302", diagnostic.Code);
        Assert.Equal(DiagnosticCodes.BpfRuleSetIdOutOfRange, diagnostic.Code);
        var direction = ir.RuleSets[max].Direction == PolicyDirection.Ingress ? "ingress" : "egress";
        Assert.Equal(
            $"error NP1302: rule set {max} ({direction}, used by 1 endpoint(s)) has no np_rulesets slot: ids must be below BpfRenderOptions.MaxRuleSets ({max}); " +
            $"raise MaxRuleSets to at least {max + 1}, or compile without a previous result so rule sets are numbered from 1 again.",
            diagnostic.ToString());
        Assert.True(db < max);
    }

    [Fact]
    public void Render_DenyRule_ReportsUnsupportedRule()
    {
        var ir = BpfFixture.Compile();
        var id = ir.Endpoints["a/db"].IngressRuleSet!.Value;
        var ruleSet = ir.RuleSets[id];
        var denying = new RuleSet(id, ruleSet.Direction, [.. ruleSet.Rules.Select(r => r.Source.RuleIndex == 1 ? r with { Action = PolicyAction.Deny } : r)], ruleSet.MemoKey);
        var modified = new CompiledPolicySet(
            ir.Identities, ir.AddressClasses, ir.NextAddressClass, ir.IPCache, ir.PeerSets, ir.NextPeerSet, ir.RuleSets.SetItem(id, denying), ir.NextRuleSet, ir.Endpoints);

        var result = BpfMapRenderer.Render(modified);

        Assert.Null(result.Images);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NP1304", diagnostic.Code);
        Assert.Equal(DiagnosticCodes.BpfUnsupportedRule, diagnostic.Code);
        Assert.Equal(("NetworkPolicy", "a/db-ingress", "spec.ingress[1]"), (diagnostic.ObjectKind, diagnostic.ObjectName, diagnostic.FieldPath));
        Assert.Equal(
            "a/db-ingress spec.ingress[1].from[0] ports[0] cannot be rendered into BPF maps: its action is Deny, and the BPF datapath can only allow (np_policy_value.action is NP_ACTION_ALLOW).",
            diagnostic.Message);
    }

    [Fact]
    public void Render_AdminTierRule_ReportsUnsupportedRule()
    {
        var ir = BpfFixture.Compile();
        var id = ir.Endpoints["a/web"].EgressRuleSet!.Value;
        var ruleSet = ir.RuleSets[id];
        var admin = new RuleSet(id, ruleSet.Direction, [.. ruleSet.Rules.Select(r => r with { Tier = PolicyTier.Admin, Priority = 70000 })], ruleSet.MemoKey);
        var modified = new CompiledPolicySet(
            ir.Identities, ir.AddressClasses, ir.NextAddressClass, ir.IPCache, ir.PeerSets, ir.NextPeerSet, ir.RuleSets.SetItem(id, admin), ir.NextRuleSet, ir.Endpoints);

        var result = BpfMapRenderer.Render(modified);

        Assert.Equal(
            "a/web-egress spec.egress[0] (all to) (all ports) cannot be rendered into BPF maps: it is in the Admin tier, and the BPF datapath evaluates only the NetworkPolicy tier.",
            Assert.Single(result.Diagnostics).Message);
    }

    [Fact]
    public void Render_EveryProblem_IsReportedInOnePass()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxPolicyEntries = 1, MaxIPCacheLpmEntries = 1, MaxRuleSets = 1 });

        Assert.Equal(["NP1301", "NP1302", "NP1301"], result.Diagnostics.Select(d => d.Code));
        Assert.Equal(
            "4 rule sets (1-4, used by 4 endpoint(s)) have no np_rulesets slot: ids must be below BpfRenderOptions.MaxRuleSets (1); raise MaxRuleSets to at least 5, " +
            "or compile without a previous result so rule sets are numbered from 1 again.",
            result.Diagnostics[1].Message);
    }

    [Fact]
    public void Render_WithEndpointIds_KeepsThemAndDoesNotReuseIdsOfRemovedPods()
    {
        var ir = BpfFixture.Compile();

        var images = BpfMapRenderer.Render(ir, new BpfRenderOptions
        {
            EndpointIds = new Dictionary<string, uint> { ["a/db"] = 7, ["gone/pod"] = 1, ["b/client"] = 3 },
        }).ThrowIfErrors();

        Assert.Equal([KeyValuePair.Create("a/api", 2u), KeyValuePair.Create("a/db", 7u), KeyValuePair.Create("a/web", 4u), KeyValuePair.Create("b/client", 3u)], images.EndpointIds);
        Assert.Equal([2u, 3u, 4u, 7u], images.Endpoints.Select(e => e.Key).Order());
    }

    [Fact]
    public void Render_NewPodWithPreviousIds_KeepsOldIdsAndTakesLowestFree()
    {
        var snapshot = BpfFixture.Snapshot();
        var first = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var firstImages = BpfMapRenderer.Render(first).ThrowIfErrors();
        var next = snapshot.RemovePod("a/api").SetPod(Pod("a", "aaa", "198.18.0.40", "app", "api")).SetPod(Pod("b", "new", "198.18.2.1"));
        var second = new PolicyCompiler().Compile(next, first).ThrowIfErrors();

        var secondImages = BpfMapRenderer.Render(second, new BpfRenderOptions { EndpointIds = firstImages.EndpointIds }).ThrowIfErrors();
        var thirdImages = BpfMapRenderer.Render(second, new BpfRenderOptions { EndpointIds = secondImages.EndpointIds }).ThrowIfErrors();

        // a/api (id 1) is gone: its id is not reused in the same render, so the new pods take 5 and 6.
        Assert.Equal([KeyValuePair.Create("a/aaa", 5u), KeyValuePair.Create("a/db", 2u), KeyValuePair.Create("a/web", 3u), KeyValuePair.Create("b/client", 4u), KeyValuePair.Create("b/new", 6u)], secondImages.EndpointIds);
        Assert.Equal(secondImages.EndpointIds, thirdImages.EndpointIds);
        Assert.Equal(secondImages, thirdImages);
    }

    [Theory]
    [InlineData(0u, "BpfRenderOptions.EndpointIds gives pod a/db endpoint id 0; ids start at 1 (np_endpoints slot 0 is never used). (Parameter 'options')")]
    [InlineData(5u, "BpfRenderOptions.EndpointIds gives endpoint id 5 to both a/api and a/db; every pod needs its own id. (Parameter 'options')")]
    public void Render_InvalidEndpointIds_Throws(uint id, string message)
    {
        var options = new BpfRenderOptions { EndpointIds = new Dictionary<string, uint> { ["a/db"] = id, ["a/api"] = 5 } };

        var exception = Assert.Throws<ArgumentException>(() => BpfMapRenderer.Render(BpfFixture.Compile(), options));

        Assert.Equal(message, exception.Message);
        Assert.Equal("options", exception.ParamName);
    }

    [Fact]
    public void Render_CapacityBelowOne_Throws()
    {
        var exception = Assert.Throws<ArgumentException>(() => BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxPolicyEntries = 0 }));

        Assert.Equal("BpfRenderOptions.MaxPolicyEntries is 0; it must be at least 1. (Parameter 'options')", exception.Message);
    }

    [Fact]
    public void Render_HostAddress_IsHostIdentityWithItsClassAndPassesIngressUnlessPoliced()
    {
        var ir = BpfFixture.Compile();
        var node = IPAddress.Parse("10.2.0.1");

        var images = BpfMapRenderer.Render(ir, new BpfRenderOptions { HostAddresses = [node, IPAddress.Parse("::ffff:10.2.0.1")] }).ThrowIfErrors();

        var entry = Assert.Single(images.IPCacheHost, e => e.Key.Address.ToIPAddress().Equals(node));
        Assert.Equal(new BpfIPCacheValue(BpfConstants.IdentityHost, ir.Lookup(node).AddressClass), entry.Value);
        Assert.Equal(ir.IPCache.Count + 1, images.IPCacheHost.Length + images.IPCacheLpm.Length);
        var db = images.EndpointIds["a/db"];
        var dbAddress = IPAddress.Parse("198.18.0.20");
        Assert.Equal(
            new BpfImageDatapath.ProgramVerdict(true, BpfConstants.ReasonHost, BpfConstants.RuleHost),
            new BpfImageDatapath(images).Decide(null, node, db, dbAddress, 6, 10250).Ingress);

        // Policed, the node is an ordinary remote: 10.2.0.1 is inside 10.0.0.0/8 and outside its except, so port 443 passes.
        var policed = new BpfImageDatapath(images, BpfConstants.ConfigPoliceHost);
        Assert.False(policed.Decide(null, node, db, dbAddress, 6, 10250).Allowed);
        Assert.True(policed.Decide(null, node, db, dbAddress, 6, 443).Allowed);
    }

    [Fact]
    public void Render_HostAddressOfAPod_WarnsAndMapsItToTheHost()
    {
        var result = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { HostAddresses = [IPAddress.Parse("198.18.0.30")] });

        var images = result.ThrowIfErrors();
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticCodes.BpfHostAddressIsPodAddress, diagnostic.Code);
        Assert.Equal(
            $"warning NP1305: Pod a/api: node address 198.18.0.30 is also this pod's IP; np_ipcache_host maps it to the host identity (1), so policies see that address as the node, " +
            $"not as the pod's identity {images.Endpoints.Single(e => e.Key == images.EndpointIds["a/api"]).Value.Identity}.",
            diagnostic.ToString());
        Assert.Equal(BpfConstants.IdentityHost, images.IPCacheHost.Single(e => e.Key.Address.ToIPAddress().Equals(IPAddress.Parse("198.18.0.30"))).Value.Identity);
    }

    [Fact]
    public void Datapath_OtherIPProtocols_MatchOnlyRulesWithoutPorts()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();
        var datapath = new BpfImageDatapath(images);
        const byte Icmp = 1;

        // web's egress allows every protocol to anyone; db's ingress only TCP 5432 / UDP 8080-8095 from api and TCP 443 from 10/8.
        Assert.True(datapath.Decide(images.EndpointIds["a/web"], IPAddress.Parse("198.18.0.10"), null, IPAddress.Parse("192.0.2.1"), Icmp, 0).Allowed);
        Assert.False(datapath.Decide(images.EndpointIds["a/api"], IPAddress.Parse("198.18.0.30"), images.EndpointIds["a/db"], IPAddress.Parse("198.18.0.20"), Icmp, 0).Allowed);
        Assert.True(datapath.Decide(images.EndpointIds["a/api"], IPAddress.Parse("198.18.0.30"), images.EndpointIds["a/db"], IPAddress.Parse("198.18.0.20"), 17, 8093).Allowed);
        Assert.False(datapath.Decide(images.EndpointIds["a/api"], IPAddress.Parse("198.18.0.30"), images.EndpointIds["a/db"], IPAddress.Parse("198.18.0.20"), 17, 8096).Allowed);
    }

    [Fact]
    public void Datapath_EndpointWithoutSlot_FailsClosed()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        var verdict = new BpfImageDatapath(images).Decide(99, IPAddress.Parse("198.18.0.99"), null, IPAddress.Parse("192.0.2.1"), 6, 80);

        Assert.False(verdict.Allowed);
        Assert.Equal(BpfConstants.RuleNotProgrammed, verdict.Egress!.RuleId);
    }
}
