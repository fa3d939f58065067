using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Tests.Bpf;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Datapath;

[Collection("Kernel")]
public sealed class BpfDatapathTests
{
    [KernelFact]
    public void Create_WithPinDirectory_ReusesPinnedMapsAndFirstApplyRemovesStaleEntries()
    {
        using var bpffs = new TestBpfFileSystem();
        var directory = Path.Combine(bpffs.Path, "netpolicy");
        var before = Render(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()));
        var after = Render(NetpolModel.IPv4.Snapshot());
        var deniedRuleSet = before.Endpoints.Single(e => e.Key == before.EndpointIds["x/a"]).Value.IngressRuleSet;

        using (var first = BpfDatapath.Create(new BpfDatapathOptions { PinDirectory = directory }))
        {
            first.Apply(before);
        }

        Assert.True(File.Exists(Path.Combine(directory, BpfConstants.PolicyMapName)));
        using var second = BpfDatapath.Create(new BpfDatapathOptions { PinDirectory = directory });
        var endpoints = second.GetMap(BpfConstants.EndpointsMapName);
        Assert.True(endpoints.TryLookup<uint, BpfEndpointValue>(before.EndpointIds["x/a"], out var kept));
        Assert.Equal(deniedRuleSet, kept.IngressRuleSet);

        var applied = second.Apply(after);

        Assert.True(applied.Deleted > 0);
        Assert.True(endpoints.TryLookup<uint, BpfEndpointValue>(after.EndpointIds["x/a"], out var now));
        Assert.Equal(0u, now.Flags & BpfConstants.EndpointIngressIsolated);
        Assert.Equal(after.GetMap(BpfConstants.IPCacheHostMapName).Count, second.GetMap(BpfConstants.IPCacheHostMapName).GetKeys().Count());
        Assert.Equal(after.GetMap(BpfConstants.PolicyMapName).Count, second.GetMap(BpfConstants.PolicyMapName).GetKeys().Count());
        second.Unpin();
        Assert.False(Directory.Exists(directory));
    }

    [KernelFact]
    public void Apply_Delta_WritesOnlyChangesAndProgramsSeeThemWithoutReload()
    {
        using var datapath = BpfDatapath.Create();
        var open = NetpolModel.IPv4.Snapshot();
        var closed = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        var first = Render(open);
        datapath.Apply(first);
        var programs = datapath.LoadEndpoint(first.EndpointIds["x/a"]);
        var packet = TestPacket.Build(NetpolModel.IPv4Of("y/a"), NetpolModel.IPv4Of("x/a"), TestPacket.Tcp, 40000, 80);
        Assert.Equal(-1, programs.ToPod.TestRun(packet).ReturnValue);

        var second = BpfMapRenderer.Render(new PolicyCompiler().Compile(closed).ThrowIfErrors(), new BpfRenderOptions { EndpointIds = datapath.Images!.EndpointIds }).ThrowIfErrors();
        var delta = second.DiffFrom(first);
        var applied = datapath.Apply(second);

        Assert.Equal(delta.UpsertCount, applied.Upserted);
        Assert.Equal(delta.DeletionCount, applied.Deleted);
        Assert.True(applied.Upserted < second.Maps.Sum(m => m.Count));
        Assert.Same(programs.ToPod, datapath.LoadEndpoint(first.EndpointIds["x/a"]).ToPod);
        Assert.Equal(2, programs.ToPod.TestRun(packet).ReturnValue);
    }

    [KernelFact]
    public void TestRun_NonIPAndNeighbourDiscovery_PassIsolatedEndpoint()
    {
        using var datapath = BpfDatapath.Create();
        var images = Render(NetpolModel.IPv6.Snapshot(Netpol.Policy("x", "deny-all").Ingress().Egress()));
        datapath.Apply(images);
        var programs = datapath.LoadEndpoint(images.EndpointIds["x/a"]);
        var solicitation = TestPacket.Build(NetpolModel.IPv6Of("y/a"), NetpolModel.IPv6Of("x/a"), 58, 0, 0);
        solicitation[14 + 40] = 135; // ICMPv6 neighbour solicitation
        var echo = TestPacket.Build(NetpolModel.IPv6Of("y/a"), NetpolModel.IPv6Of("x/a"), 58, 0, 0);
        echo[14 + 40] = 128; // ICMPv6 echo request: policed like any other protocol

        Assert.Equal(-1, programs.ToPod.TestRun(TestPacket.Arp()).ReturnValue);
        Assert.Equal(-1, programs.FromPod.TestRun(TestPacket.Arp()).ReturnValue);
        Assert.Equal(-1, programs.ToPod.TestRun(solicitation).ReturnValue);
        Assert.Equal(2, programs.ToPod.TestRun(echo).ReturnValue);
    }

    [KernelFact]
    public void TestRun_PodSendingFromAnotherPodsAddress_IsDroppedAsSpoofed()
    {
        using var datapath = BpfDatapath.Create();
        var images = Render(NetpolModel.DualStack.Snapshot());
        datapath.Apply(images);
        var programs = datapath.LoadEndpoint(images.EndpointIds["x/a"]);
        var events = new List<BpfVerdictEvent>();
        using var reader = datapath.OpenEvents(events.Add);
        var own = TestPacket.Build(NetpolModel.IPv4Of("x/a"), NetpolModel.IPv4Of("y/a"), TestPacket.Udp, 40000, 53);
        var spoofed = TestPacket.Build(NetpolModel.IPv4Of("x/b"), NetpolModel.IPv4Of("y/a"), TestPacket.Udp, 40000, 53);
        var mapped = TestPacket.Build(System.Net.IPAddress.Parse("::ffff:198.18.0.1"), NetpolModel.IPv6Of("y/a"), TestPacket.Udp, 40000, 53);

        Assert.Equal(-1, programs.FromPod.TestRun(own).ReturnValue);
        Assert.Equal(2, programs.FromPod.TestRun(spoofed).ReturnValue);
        Assert.Equal(2, programs.ToPod.TestRun(mapped).ReturnValue);
        reader.Consume();

        var drop = Assert.Single(events);
        Assert.Equal("spoofed", drop.Reason);
        Assert.Equal(BpfConstants.RuleSpoofed, drop.Raw.RuleId);
        Assert.Equal(NetpolModel.IPv4Of("x/b"), drop.Source);
    }

    private static BpfMapImages Render(ClusterSnapshot snapshot) =>
        BpfMapRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors()).ThrowIfErrors();
}
