using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Lab;

[Collection("Kernel")]
public sealed class NetworkLabTests
{
    private static readonly LabPod[] Pods =
    [
        new("x/a", [IPAddress.Parse("198.18.1.1"), IPAddress.Parse("fd00:198::1:1")]),
        new("x/b", [IPAddress.Parse("198.18.1.2"), IPAddress.Parse("fd00:198::1:2")]),
        new("y/a", [IPAddress.Parse("198.18.2.1")]),
    ];

    [KernelTheory]
    [InlineData(LabProtocol.Tcp)]
    [InlineData(LabProtocol.Udp)]
    [InlineData(LabProtocol.Sctp)]
    public async Task ProbeMatrix_WithoutPolicy_EveryPodReachesEveryPod(LabProtocol protocol)
    {
        await using var lab = await NetworkLab.CreateAsync(Pods);

        var matrix = await lab.ProbeMatrixAsync(["x/a", "x/b", "y/a"], protocol, 80);
        var v6 = await lab.ProbeAsync("x/a", IPAddress.Parse("fd00:198::1:2"), protocol, 8080);

        var pods = new[] { "x/a", "x/b", "y/a" };
        var denied = Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(0, 3).Where(j => !matrix[i][j]).Select(j => $"{pods[i]} -> {pods[j]}")).ToList();
        Assert.True(denied.Count == 0, "denied: " + string.Join(", ", denied));
        Assert.True(v6);
    }

    [KernelFact]
    public async Task Probe_InterfaceDown_IsDeniedWithinTimeout()
    {
        await using var lab = await NetworkLab.CreateAsync(Pods, new NetworkLabOptions { ProbeTimeout = TimeSpan.FromMilliseconds(300) });
        lab.Node.IpBatch([$"link set {lab.Endpoints["x/b"].HostInterface} down"]);

        var clock = Stopwatch.StartNew();
        var tcp = await lab.ProbeAsync("x/a", IPAddress.Parse("198.18.1.2"), LabProtocol.Tcp, 80);
        var udp = await lab.ProbeAsync("x/a", IPAddress.Parse("198.18.1.2"), LabProtocol.Udp, 80);
        var sctp = await lab.ProbeAsync("x/a", IPAddress.Parse("198.18.1.2"), LabProtocol.Sctp, 80);
        var other = await lab.ProbeAsync("x/a", IPAddress.Parse("198.18.2.1"), LabProtocol.Tcp, 80);

        Assert.False(tcp);
        Assert.False(udp);
        Assert.False(sctp);
        Assert.True(other);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [KernelFact]
    public async Task DisposeAsync_RemovesEveryNamespace()
    {
        var options = new NetworkLabOptions();
        await using (var lab = await NetworkLab.CreateAsync(Pods, options))
        {
            Assert.True(File.Exists($"/run/netns/{options.NamePrefix}-node"));
            Assert.True(lab.Endpoints["y/a"].HostInterfaceIndex > 0);
        }

        Assert.Empty(Directory.GetFiles("/run/netns", options.NamePrefix + "-*"));
    }

    [KernelFact]
    public async Task ConnectTcpAsync_EchoesOverTheConnection()
    {
        await using var lab = await NetworkLab.CreateAsync(Pods);

        using var socket = await lab.ConnectTcpAsync("y/a", IPAddress.Parse("198.18.1.1"), 9000);

        Assert.True(await lab.ExchangeAsync(socket));
        Assert.True(await lab.ExchangeAsync(socket));
    }

    [Fact]
    public async Task CreateAsync_AddressOutsideLabRanges_Throws()
    {
        LabPod[] pods = [new("x/a", [IPAddress.Parse("10.0.0.1")])];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => NetworkLab.CreateAsync(pods));

        Assert.Contains("10.0.0.1 is outside the lab ranges", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SctpPacket_Init_HasCrc32cOfRfc()
    {
        // RFC 3720 B.4 test vector: 32 bytes of zeros → 0x8A9136AA.
        Assert.Equal(0x8A9136AAu, SctpPacket.Crc32C(new byte[32]));
        var packet = SctpPacket.Init(40000, 80, 0xdeadbeef);

        Assert.True(SctpPacket.TryReadInitTag(packet, out var tag));
        Assert.Equal(0xdeadbeefu, tag);
        Assert.Equal(80, (packet[2] << 8) | packet[3]);
    }
}
