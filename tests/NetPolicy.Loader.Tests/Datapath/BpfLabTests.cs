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
        await using var lab = await LabDatapath.StartAsync(first);
        var failures = new List<string>();
        foreach (var (name, snapshot) in scenarios)
        {
            if (PodSet(snapshot) != PodSet(first))
            {
                continue;
            }

            lab.Apply(snapshot);
            lab.Datapath.FlushConntrack();
            run++;
            failures.AddRange(await LabMatrix.CompareAsync(lab.Lab, snapshot, protocol, 80, name));
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
        await using var lab = await LabDatapath.StartAsync(model.Snapshot(), p => p is "x/a" or "y/b", new BpfDatapathOptions { Mode = mode });
        var server = NetpolModel.IPv4Of("x/a");
        using var connection = await lab.Lab.ConnectTcpAsync("y/b", server, 80);
        Assert.True(await lab.Lab.ExchangeAsync(connection));

        var applied = lab.Apply(model.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress()));

        Assert.True(applied.Upserted > 0);
        Assert.False(await lab.Lab.ProbeAsync("y/b", server, LabProtocol.Tcp, 80), "a new connection must be refused after the change");
        Assert.Equal(survives, await lab.Lab.ExchangeAsync(connection));
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
            Netpol.Policy("x", "a-in", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.Port(80, LabMatrix.ToModel(protocol))])),
            Netpol.Policy("x", "a-out", Netpol.Labels("pod", "a")).Egress(Netpol.EgressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("z"))])));
        await using var lab = await LabDatapath.StartAsync(snapshot);
        var pods = snapshot.Pods.Values.Select(p => p.Key).ToList();
        var expected = new PolicyEvaluator(snapshot).Matrix(LabMatrix.ToModel(protocol), 80);

        var actual = await lab.Lab.ProbeMatrixAsync(pods, protocol, 80);

        Assert.Equal(expected.Allowed.Select(r => r.ToArray()).ToArray(), actual.Select(r => r.ToArray()).ToArray());
        Assert.True(expected["y/b", "x/a"]);
        Assert.True(expected["x/a", "z/c"]);
        Assert.False(expected["z/c", "x/a"]);
    }

    [KernelFact]
    public async Task Drop_IsReportedInEventRingBuffer_WithEndpointAddressesAndReason()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        await using var lab = await LabDatapath.StartAsync(snapshot, p => p is "x/a" or "y/a");

        var events = await ProbeAndCollectEventsAsync(lab, "y/a", "x/a", expectAllowed: false);

        // The lab repeats an unanswered probe once, so the drop may be reported once per attempt.
        var drops = events.Where(e => e.Raw.DestinationPort == 80).ToList();
        Assert.InRange(drops.Count, 1, 2);
        Assert.All(drops, d => Assert.True(d.Dropped));
        var drop = drops[0];
        Assert.Equal(lab.Images.EndpointIds["x/a"], drop.Raw.Endpoint);
        Assert.Equal("ingress", drop.Direction);
        Assert.Equal("default-deny", drop.Reason);
        Assert.Equal(BpfConstants.RuleDefaultDeny, drop.Raw.RuleId);
        Assert.Equal(NetpolModel.IPv4Of("y/a"), drop.Source);
        Assert.Equal(NetpolModel.IPv4Of("x/a"), drop.Destination);
        Assert.Equal(lab.Images.Endpoints.Single(e => e.Key == lab.Images.EndpointIds["y/a"]).Value.Identity, drop.Raw.RemoteIdentity);
        Assert.True(lab.Datapath.ReadStatistics().Dropped >= 1);
    }

    [KernelFact]
    public async Task Allow_WithEmitAllowEvents_IsReportedWithTheRuleThatAllowedIt()
    {
        var snapshot = NetpolModel.IPv4.Snapshot(
            Netpol.Policy("x", "allow-y", Netpol.Labels("pod", "a")).Ingress(Netpol.IngressRule([Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.Port(80)])));
        await using var lab = await LabDatapath.StartAsync(snapshot, p => p is "x/a" or "y/a", new BpfDatapathOptions { EmitAllowEvents = true });

        var events = await ProbeAndCollectEventsAsync(lab, "y/a", "x/a", expectAllowed: true);

        var ingress = events.First(e => e.Direction == "ingress" && e.Raw.DestinationPort == 80);
        Assert.False(ingress.Dropped);
        Assert.Equal("policy", ingress.Reason);
        var rule = Assert.Single(lab.Images.RuleAttribution[ingress.Raw.RuleId]);
        Assert.Equal("x/allow-y", rule.Policy);
        Assert.Equal("spec.ingress[0]", rule.RulePath);
        var egress = events.First(e => e.Direction == "egress" && e.Raw.DestinationPort == 80);
        Assert.Equal("not-isolated", egress.Reason);
        Assert.Equal(BpfConstants.RuleNone, egress.Raw.RuleId);
    }

    private static async Task<List<BpfVerdictEvent>> ProbeAndCollectEventsAsync(LabDatapath lab, string from, string to, bool expectAllowed)
    {
        var events = new List<BpfVerdictEvent>();
        using var reader = lab.Datapath.OpenEvents(events.Add);
        Assert.Equal(expectAllowed, await lab.Lab.ProbeAsync(from, NetpolModel.IPv4Of(to), LabProtocol.Tcp, 80));
        reader.Poll(TimeSpan.FromMilliseconds(100));
        return events;
    }
}
