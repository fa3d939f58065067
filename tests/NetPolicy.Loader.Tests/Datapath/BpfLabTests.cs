using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Datapath;

/// <summary>The BPF datapath attached to a network-namespace lab: real packets between pods, compared with the
/// reference evaluator, and established flows across policy changes in both enforcement modes.</summary>
[Collection("Kernel")]
public sealed class BpfLabTests
{
    private static readonly NetworkLabOptions LabOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    [KernelTheory]
    [InlineData(LabProtocol.Tcp)]
    [InlineData(LabProtocol.Udp)]
    [InlineData(LabProtocol.Sctp)]
    public async Task ProbeMatrix_E2eScenarios_EqualsReferenceMatrix(LabProtocol protocol)
    {
        // A third of the ported e2e scenarios of the most common pod set (the IPv4 model), a different third per protocol,
        // through one lab: each scenario is a map delta on the attached programs (no reload), then a matrix of real packets.
        static string PodSet(NetPolicy.Compiler.ClusterSnapshot s) => string.Join(";", s.Pods.Values.Select(p => p.Key + "=" + string.Join(',', p.Addresses)));
        var common = E2eScenarios.All.GroupBy(s => PodSet(s.Snapshot)).MaxBy(g => g.Count())!.ToList();
        var scenarios = common.Where((s, i) => i % 3 == (int)protocol).ToList();
        var first = scenarios[0].Snapshot;
        var run = 0;
        await using var lab = await NetworkLab.CreateAsync(first.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        using var datapath = BpfDatapath.Create();
        var attachments = new List<BpfEndpointAttachment>();
        var failures = new List<string>();
        try
        {
            foreach (var (name, snapshot) in scenarios)
            {
                if (!snapshot.Pods.Values.Select(p => (p.Key, string.Join(',', p.Addresses))).SequenceEqual(first.Pods.Values.Select(p => (p.Key, string.Join(',', p.Addresses)))))
                {
                    continue;
                }

                var images = BpfMapRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors(), new BpfRenderOptions { EndpointIds = datapath.Images?.EndpointIds }).ThrowIfErrors();
                datapath.Apply(images);
                datapath.FlushConntrack();
                if (attachments.Count == 0)
                {
                    foreach (var pod in lab.Endpoints.Values)
                    {
                        attachments.Add(datapath.Attach(images.EndpointIds[pod.Key], lab.Node, pod.HostInterfaceIndex));
                    }
                }

                run++;
                var pods = snapshot.Pods.Values.Select(p => p.Key).ToList();
                var expected = new PolicyEvaluator(snapshot).Matrix(ToModel(protocol), 80);
                var actual = await lab.ProbeMatrixAsync(pods, protocol, 80);
                for (var i = 0; i < pods.Count; i++)
                {
                    for (var j = 0; j < pods.Count; j++)
                    {
                        if (expected.Allowed[i][j] != actual[i][j])
                        {
                            failures.Add($"{name}: {pods[i]} -> {pods[j]} {protocol}/80: reference {(expected.Allowed[i][j] ? "allows" : "denies")}, lab {(actual[i][j] ? "allows" : "denies")}");
                        }
                    }
                }
            }
        }
        finally
        {
            attachments.ForEach(a => a.Dispose());
        }

        Assert.True(run >= 15, $"only {run} scenarios ran");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [KernelTheory]
    [InlineData(BpfEnforcementMode.Conntrack, true)]
    [InlineData(BpfEnforcementMode.Strict, false)]
    public async Task EstablishedConnection_PolicyTightened_SurvivesOnlyInConntrackMode(BpfEnforcementMode mode, bool survives)
    {
        var model = NetpolModel.IPv4;
        var open = model.Snapshot();
        var denied = model.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        await using var lab = await NetworkLab.CreateAsync(open.Pods.Values.Where(p => p.Key is "x/a" or "y/b").Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        using var datapath = BpfDatapath.Create(new BpfDatapathOptions { Mode = mode });
        var images = Render(open, datapath);
        datapath.Apply(images);
        var attachments = lab.Endpoints.Values.Select(p => datapath.Attach(images.EndpointIds[p.Key], lab.Node, p.HostInterfaceIndex)).ToList();
        try
        {
            var server = NetpolModel.IPv4Of("x/a");
            using var connection = await lab.ConnectTcpAsync("y/b", server, 80);
            Assert.True(await lab.ExchangeAsync(connection));

            var applied = datapath.Apply(Render(denied, datapath));

            Assert.True(applied.Upserted > 0);
            Assert.False(await lab.ProbeAsync("y/b", server, LabProtocol.Tcp, 80), "a new connection must be refused after the change");
            Assert.Equal(survives, await lab.ExchangeAsync(connection));
        }
        finally
        {
            attachments.ForEach(a => a.Dispose());
        }
    }

    [KernelTheory]
    [InlineData(LabProtocol.Tcp)]
    [InlineData(LabProtocol.Udp)]
    public async Task ProbeMatrix_IPv6IsolatedPods_NeighbourDiscoveryKeepsWorking(LabProtocol protocol)
    {
        // Every pod of x is isolated both ways; x/a accepts port 80 from y and may send to z. Allowed IPv6 flows into and
        // out of isolated pods need neighbour discovery to pass their programs, which police every other ICMPv6 packet.
        var snapshot = NetpolModel.IPv6.Snapshot(
            Netpol.Policy("x", "deny-all").Ingress().Egress(),
            Netpol.Policy("x", "a-in", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.Port(80, ToModel(protocol))])),
            Netpol.Policy("x", "a-out", Netpol.Labels("pod", "a")).Egress(Netpol.EgressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("z"))])));
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        using var datapath = BpfDatapath.Create();
        var images = Render(snapshot, datapath);
        datapath.Apply(images);
        var attachments = lab.Endpoints.Values.Select(p => datapath.Attach(images.EndpointIds[p.Key], lab.Node, p.HostInterfaceIndex)).ToList();
        try
        {
            var pods = snapshot.Pods.Values.Select(p => p.Key).ToList();
            var expected = new PolicyEvaluator(snapshot).Matrix(ToModel(protocol), 80);

            var actual = await lab.ProbeMatrixAsync(pods, protocol, 80);

            Assert.Equal(expected.Allowed.Select(r => r.ToArray()).ToArray(), actual.Select(r => r.ToArray()).ToArray());
            Assert.Contains(true, expected.Allowed[pods.IndexOf("y/b")]);
            Assert.True(expected["y/b", "x/a"]);
            Assert.True(expected["x/a", "z/c"]);
            Assert.False(expected["z/c", "x/a"]);
        }
        finally
        {
            attachments.ForEach(a => a.Dispose());
        }
    }

    [KernelFact]
    public async Task Drop_IsReportedInEventRingBuffer_WithEndpointAddressesAndReason()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => p.Key is "x/a" or "y/a").Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        using var datapath = BpfDatapath.Create();
        var images = Render(snapshot, datapath);
        datapath.Apply(images);
        var attachments = lab.Endpoints.Values.Select(p => datapath.Attach(images.EndpointIds[p.Key], lab.Node, p.HostInterfaceIndex)).ToList();
        var events = new List<BpfVerdictEvent>();
        try
        {
            using var reader = datapath.OpenEvents(events.Add);

            Assert.False(await lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));
            reader.Poll(TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            attachments.ForEach(a => a.Dispose());
        }

        var drop = Assert.Single(events.Where(e => e.Raw.DestinationPort == 80).Take(1));
        Assert.True(drop.Dropped);
        Assert.Equal(images.EndpointIds["x/a"], drop.Raw.Endpoint);
        Assert.Equal("ingress", drop.Direction);
        Assert.Equal("default-deny", drop.Reason);
        Assert.Equal(BpfConstants.RuleDefaultDeny, drop.Raw.RuleId);
        Assert.Equal(NetpolModel.IPv4Of("y/a"), drop.Source);
        Assert.Equal(NetpolModel.IPv4Of("x/a"), drop.Destination);
        Assert.Equal(images.Endpoints.Single(e => e.Key == images.EndpointIds["y/a"]).Value.Identity, drop.Raw.RemoteIdentity);
        Assert.True(datapath.ReadStatistics().Dropped >= 1);
    }

    [KernelFact]
    public async Task Allow_WithEmitAllowEvents_IsReportedWithTheRuleThatAllowedIt()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "allow-y", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.Port(80)])));
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => p.Key is "x/a" or "y/a").Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        using var datapath = BpfDatapath.Create(new BpfDatapathOptions { EmitAllowEvents = true });
        var images = Render(snapshot, datapath);
        datapath.Apply(images);
        var attachments = lab.Endpoints.Values.Select(p => datapath.Attach(images.EndpointIds[p.Key], lab.Node, p.HostInterfaceIndex)).ToList();
        var events = new List<BpfVerdictEvent>();
        try
        {
            using var reader = datapath.OpenEvents(events.Add);

            Assert.True(await lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80));
            reader.Poll(TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            attachments.ForEach(a => a.Dispose());
        }

        var ingress = Assert.Single(events, e => e.Direction == "ingress" && e.Raw.DestinationPort == 80);
        Assert.False(ingress.Dropped);
        Assert.Equal("policy", ingress.Reason);
        var rule = Assert.Single(images.RuleAttribution[ingress.Raw.RuleId]);
        Assert.Equal("x/allow-y", rule.Policy);
        Assert.Equal("spec.ingress[0]", rule.RulePath);
        var egress = Assert.Single(events, e => e.Direction == "egress" && e.Raw.DestinationPort == 80);
        Assert.Equal("not-isolated", egress.Reason);
        Assert.Equal(BpfConstants.RuleNone, egress.Raw.RuleId);
    }

    private static BpfMapImages Render(ClusterSnapshot snapshot, BpfDatapath datapath) =>
        BpfMapRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors(), new BpfRenderOptions { EndpointIds = datapath.Images?.EndpointIds }).ThrowIfErrors();

    private static TransportProtocol ToModel(LabProtocol protocol) => protocol switch
    {
        LabProtocol.Tcp => TransportProtocol.Tcp,
        LabProtocol.Udp => TransportProtocol.Udp,
        _ => TransportProtocol.Sctp,
    };
}
