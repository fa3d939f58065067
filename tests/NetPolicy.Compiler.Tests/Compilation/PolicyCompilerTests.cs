using System.Net;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Compilation;

public sealed class PolicyCompilerTests
{
    private static readonly PolicyCompiler s_compiler = new();

    [Fact]
    public void Compile_EndpointsWithIdenticalPolicy_ShareOneRuleSet()
    {
        var snapshot = Snapshot(
            [Pod("a", "web1", "198.18.0.1", "app", "web"), Pod("a", "web2", "198.18.0.2", "app", "web", "v", "2"), Pod("a", "db", "198.18.0.3", "app", "db")],
            [new NetworkPolicyDefinition { Namespace = "a", Name = "deny", PodSelector = LabelSelector.Everything, AffectsIngress = true }]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        Assert.Single(ir.RuleSets);
        Assert.All(ir.Endpoints.Values, e => Assert.Equal(ir.RuleSets.Keys.Single(), e.IngressRuleSet));
        Assert.Empty(ir.RuleSets.Values.Single().Rules);
        Assert.All(ir.Endpoints.Values, e => Assert.Null(e.EgressRuleSet));
    }

    [Fact]
    public void Compile_Rule_IsAttributedToPolicyRulePeerAndPort()
    {
        var snapshot = Snapshot(
            [Pod("a", "db", "198.18.0.1", "app", "db"), Pod("a", "api", "198.18.0.2", "app", "api")],
            [new NetworkPolicyDefinition
            {
                Namespace = "a",
                Name = "db",
                PodSelector = LabelSelector.ForLabels("app", "db"),
                AffectsIngress = true,
                Ingress =
                [
                    new NetworkPolicyRule(),
                    new NetworkPolicyRule
                    {
                        Peers = [new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "nothing") }, new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") }],
                        Ports = [new NetworkPolicyPort { Port = 80 }, new NetworkPolicyPort { Protocol = TransportProtocol.Udp, Port = 1000, EndPort = 2000 }],
                    },
                ],
            }]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        var ruleSet = ir.RuleSets[ir.Endpoints["a/db"].IngressRuleSet!.Value];
        Assert.Equal(
            ["a/db spec.ingress[0] (all from) (all ports)", "a/db spec.ingress[1].from[0] ports[0]", "a/db spec.ingress[1].from[0] ports[1]", "a/db spec.ingress[1].from[1] ports[0]", "a/db spec.ingress[1].from[1] ports[1]"],
            ruleSet.Rules.Select(r => r.Source.ToString()));
        Assert.True(ir.PeerSets[ruleSet.Rules[1].PeerSet].IsEmpty); // app=nothing selects no pod today; the rule stays so a pod can join
        Assert.Equal(ruleSet.Rules[1].PeerSet, ruleSet.Rules[2].PeerSet);
        var apiIdentity = ir.Endpoints["a/api"].Identity;
        var range = Assert.Single(ir.EntriesOf(ruleSet), e => e.Port is { Protocol: TransportProtocol.Udp });
        Assert.Equal(new PortMatch(TransportProtocol.Udp, 1000, 2000), range.Port);
        Assert.Equal(PeerKind.Identity, range.Kind);
        Assert.Equal(apiIdentity, range.Peer);
        var any = Assert.Single(ir.EntriesOf(ruleSet), e => e.Kind == PeerKind.Any);
        Assert.Null(any.Port);
    }

    [Fact]
    public void Compile_EgressNamedPortDifferingWithinOneIdentity_ResolvesPerPod()
    {
        // Two pods with the same labels (one identity) declare 'http' on different ports.
        var client = Pod("a", "client", "198.18.0.1", "app", "client");
        var s1 = Pod("a", "s1", "198.18.0.2", "app", "server") with { NamedPorts = [new NamedPort("http", 80, TransportProtocol.Tcp)] };
        var s2 = Pod("a", "s2", "198.18.0.3", "app", "server") with { NamedPorts = [new NamedPort("http", 8080, TransportProtocol.Tcp)] };
        var policy = AllowEgressTo("a", "client", LabelSelector.ForLabels("app", "client"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "server") }, new NetworkPolicyPort { PortName = "http" });

        var ir = s_compiler.Compile(Snapshot([client, s1, s2], [policy])).ThrowIfErrors();

        Assert.Equal(ir.Endpoints["a/s1"].Identity, ir.Endpoints["a/s2"].Identity);
        Assert.True(ir.Decide(client.Addresses[0], s1.Addresses[0], TransportProtocol.Tcp, 80));
        Assert.False(ir.Decide(client.Addresses[0], s1.Addresses[0], TransportProtocol.Tcp, 8080));
        Assert.True(ir.Decide(client.Addresses[0], s2.Addresses[0], TransportProtocol.Tcp, 8080));
        Assert.False(ir.Decide(client.Addresses[0], s2.Addresses[0], TransportProtocol.Tcp, 80));
        Assert.NotEqual(ir.Lookup(s1.Addresses[0]).AddressClass, ir.Lookup(s2.Addresses[0]).AddressClass);
    }

    [Fact]
    public void Compile_IPBlockCoveringPodIPs_GivesThosePodsAClassInTheBlock()
    {
        var inside = Pod("a", "inside", "198.18.1.5", "app", "x");
        var excepted = Pod("a", "excepted", "198.18.1.130", "app", "x");
        var target = Pod("b", "target", "198.18.2.1", "app", "t");
        var policy = AllowIngressFrom("b", "from-block", LabelSelector.Everything,
            new NetworkPolicyPeer { IPBlock = new IPBlock(IPNetwork.Parse("198.18.1.0/24"), [IPNetwork.Parse("198.18.1.128/25")]) });

        var ir = s_compiler.Compile(Snapshot([inside, excepted, target], [policy])).ThrowIfErrors();

        Assert.Equal(ir.Endpoints["a/inside"].Identity, ir.Endpoints["a/excepted"].Identity);
        Assert.True(ir.Decide(inside.Addresses[0], target.Addresses[0], TransportProtocol.Tcp, 1));
        Assert.False(ir.Decide(excepted.Addresses[0], target.Addresses[0], TransportProtocol.Tcp, 1));
        Assert.True(ir.Decide(IPAddress.Parse("198.18.1.77"), target.Addresses[0], TransportProtocol.Udp, 9));
        Assert.False(ir.Decide(IPAddress.Parse("198.18.1.200"), target.Addresses[0], TransportProtocol.Udp, 9));
        Assert.Equal(ReservedIdentities.World, ir.Lookup(IPAddress.Parse("198.18.1.77")).Identity);
        Assert.Equal(["198.18.1.0/24"], ir.AddressClasses.Single(c => c.Id == ir.Lookup(IPAddress.Parse("198.18.1.77")).AddressClass).Groups.Select(g => g.Split(' ')[0]));
    }

    [Fact]
    public void Compile_IPCache_HasDefaultRoutesAndEveryPodAddress()
    {
        var ir = s_compiler.Compile(Snapshot([Pod("a", "p", "198.18.0.1,fd00:198::1")])).ThrowIfErrors();

        Assert.Equal(["0.0.0.0/0", "198.18.0.1/32", "::/0", "fd00:198::1/128"], ir.IPCache.Values.Select(e => e.Prefix.ToString()));
        Assert.Equal(ir.Endpoints["a/p"].Identity, ir.Lookup(IPAddress.Parse("fd00:198::1")).Identity);
        Assert.Equal(ReservedIdentities.World, ir.Lookup(IPAddress.Parse("203.0.113.9")).Identity);
    }
}
