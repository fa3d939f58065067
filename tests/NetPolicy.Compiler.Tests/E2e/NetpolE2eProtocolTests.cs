using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Protocol and port scenarios of the upstream e2e suite (SCTP, UDP, protocol-only ports), plus port ranges
/// (<c>endPort</c>), multiple ports and named ports across protocols.</summary>
public sealed class NetpolE2eProtocolTests
{
    private static readonly NetpolModel Model = NetpolModel.IPv4;

    // Upstream: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP".
    [Fact]
    public void Matrix_DenyIngressPlusSctpOnlyAllowOnPort81_DeniesTcpOnPort81()
    {
        var denyIngress = Netpol.Policy("x", "deny-ingress").Ingress();
        var allowSctp = Netpol.Policy("x", "allow-only-sctp-ingress-on-port-81", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [Netpol.Port(81, TransportProtocol.Sctp)]));
        var evaluator = Model.Evaluator(denyIngress, allowSctp);
        var tcp = NetpolModel.NewReachability();
        tcp.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        var sctp = NetpolModel.NewReachability();
        sctp.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);
        sctp.ExpectAllIngress("x/a", true);

        var tcpMatrix = evaluator.Matrix(TransportProtocol.Tcp, 81);
        var sctpMatrix = evaluator.Matrix(TransportProtocol.Sctp, 81);

        tcp.AssertMatches(tcpMatrix, evaluator);
        sctp.AssertMatches(sctpMatrix, evaluator);
    }

    // Upstream: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP".
    [Fact]
    public void Matrix_SctpOnlyAllowOnPort80_IsolatesXaForTcpOnPort81()
    {
        var policy = Netpol.Policy("x", "allow-only-sctp-ingress-on-port-80", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [Netpol.Port(80, TransportProtocol.Sctp)]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 81);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should not allow access by TCP when a policy specifies only UDP".
    [Fact]
    public void Matrix_UdpOnlyAllowOnPort81_DeniesTcpAndAllowsUdpOnPort81()
    {
        var policy = Netpol.Policy("x", "allow-only-udp-ingress-on-port-81", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [Netpol.Port(81, TransportProtocol.Udp)]));
        var evaluator = Model.Evaluator(policy);
        var tcp = NetpolModel.NewReachability();
        tcp.ExpectAllIngress("x/a", false);
        var udp = NetpolModel.NewReachability();

        var tcpMatrix = evaluator.Matrix(TransportProtocol.Tcp, 81);
        var udpMatrix = evaluator.Matrix(TransportProtocol.Udp, 81);

        tcp.AssertMatches(tcpMatrix, evaluator);
        udp.AssertMatches(udpMatrix, evaluator);
    }

    // Upstream: "should enforce ingress policy allowing any port traffic to a server on a specific protocol".
    [Theory]
    [InlineData(TransportProtocol.Tcp, 80, true)]
    [InlineData(TransportProtocol.Tcp, 81, true)]
    [InlineData(TransportProtocol.Udp, 80, false)]
    [InlineData(TransportProtocol.Sctp, 81, false)]
    public void Matrix_IngressProtocolOnlyTcp_AllowsEveryTcpPortAndNoOtherProtocol(TransportProtocol protocol, int port, bool allowed)
    {
        var policy = Netpol.Policy("x", "allow-ingress-by-proto", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [Netpol.ProtocolOnly(TransportProtocol.Tcp)]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, new Peer("x", "a"), allowed);

        var matrix = evaluator.Matrix(protocol, port);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): a port entry with neither port nor protocol is defaulted to TCP by the API server, so it
    // matches every TCP port and no UDP port.
    [Theory]
    [InlineData(TransportProtocol.Tcp, true)]
    [InlineData(TransportProtocol.Udp, false)]
    public void Matrix_IngressPortEntryWithoutPortOrProtocol_DefaultsToAllTcpPorts(TransportProtocol protocol, bool allowed)
    {
        var policy = Netpol.Policy("x", "allow-any-tcp", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [new k8s.Models.V1NetworkPolicyPort()]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", allowed);

        var matrix = evaluator.Matrix(protocol, 81);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It() (the suite has no endPort scenario today): "should enforce policy based on Ports" with a range
    // 80-81 instead of one port, per protocol.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    [InlineData(TransportProtocol.Sctp)]
    public void Matrix_IngressFromNamespaceYOnPortRange80To81_AllowsNamespaceYOnBothPorts(TransportProtocol protocol)
    {
        var policy = Netpol.Policy("x", "allow-ingress-on-range-ns-y", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], ports: [Netpol.Port(80, protocol, endPort: 81)]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.InNamespace("x"), new Peer("x", "a"), false);
        reachability.ExpectPeer(Peer.InNamespace("z"), new Peer("x", "a"), false);

        var matrix80 = evaluator.Matrix(protocol, 80);
        var matrix81 = evaluator.Matrix(protocol, 81);

        reachability.AssertMatches(matrix80, evaluator);
        reachability.AssertMatches(matrix81, evaluator);
    }

    // Not an upstream It(): the range bounds are inclusive, and a range starting above a port does not match it.
    [Theory]
    [InlineData(81, 90, 80, false)]
    [InlineData(81, 90, 81, true)]
    [InlineData(70, 80, 80, true)]
    [InlineData(70, 80, 81, false)]
    public void Matrix_EgressOnPortRange_MatchesInclusiveBounds(int start, int end, int port, bool allowed)
    {
        var policy = Netpol.Policy("x", "allow-egress-range", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(ports: [Netpol.Port(start, TransportProtocol.Tcp, endPort: end)]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", allowed);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, port);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): one rule with several ports (port 80 on TCP, port 81 on UDP) matches each pair only.
    [Theory]
    [InlineData(TransportProtocol.Tcp, 80, true)]
    [InlineData(TransportProtocol.Tcp, 81, false)]
    [InlineData(TransportProtocol.Udp, 80, false)]
    [InlineData(TransportProtocol.Udp, 81, true)]
    [InlineData(TransportProtocol.Sctp, 80, false)]
    public void Matrix_IngressWithMultiplePorts_MatchesEachPortProtocolPairOnly(TransportProtocol protocol, int port, bool allowed)
    {
        var policy = Netpol.Policy("x", "allow-multiple-ports")
            .Ingress(Netpol.IngressRule(ports: [Netpol.Port(80, TransportProtocol.Tcp), Netpol.Port(81, TransportProtocol.Udp)]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(Peer.Any, Peer.InNamespace("x"), allowed);

        var matrix = evaluator.Matrix(protocol, port);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): "should allow ingress access on one named port" for each protocol's own named port.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    [InlineData(TransportProtocol.Sctp)]
    public void Matrix_IngressOnNamedPortOfProtocol_AllowsThatProtocolOnPort81Only(TransportProtocol protocol)
    {
        var policy = Netpol.Policy("x", "allow-named-81")
            .Ingress(Netpol.IngressRule(ports: [Netpol.NamedPort(NetpolModel.PortName(81, protocol), protocol)]));
        var evaluator = Model.Evaluator(policy);
        var open = NetpolModel.NewReachability();
        var closed = NetpolModel.NewReachability();
        closed.ExpectPeer(Peer.Any, Peer.InNamespace("x"), false);

        var matrix81 = evaluator.Matrix(protocol, 81);
        var matrix80 = evaluator.Matrix(protocol, 80);

        open.AssertMatches(matrix81, evaluator);
        closed.AssertMatches(matrix80, evaluator);
    }

    // Not an upstream It(): a named port resolves with its protocol; "serve-81-udp" with the protocol left to default
    // (TCP) names no TCP container port, so it matches nothing, on TCP or UDP.
    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    public void Matrix_IngressOnUdpPortNameWithDefaultTcpProtocol_MatchesNothing(TransportProtocol protocol)
    {
        var policy = Netpol.Policy("x", "mismatched-named-port", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(ports: [Netpol.NamedPort("serve-81-udp")]));
        var evaluator = Model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);

        var matrix = evaluator.Matrix(protocol, 81);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): named ports in egress rules resolve against the destination pod. Built from model objects
    // (ClusterSnapshot.FromModel) so that y/b can declare serve-80-tcp on container port 8080.
    [Fact]
    public void Allows_EgressOnNamedPortWithDestinationRemapped_ResolvesAgainstDestinationPod()
    {
        var policy = new NetworkPolicyDefinition
        {
            Namespace = "x",
            Name = "egress-serve-80-tcp",
            PodSelector = LabelSelector.ForLabels("pod", "a"),
            AffectsEgress = true,
            Egress = [new NetworkPolicyRule { Ports = [new NetworkPolicyPort { Protocol = TransportProtocol.Tcp, PortName = "serve-80-tcp" }] }],
        };
        var pods = Model.ModelPods().Select(p => p.Key != "y/b" ? p : p with
        {
            NamedPorts = [.. p.NamedPorts.Select(n => n.Name == "serve-80-tcp" ? n with { Port = 8080 } : n)],
        });
        var snapshot = ClusterSnapshot.FromModel(Model.ModelNamespaces(), pods, [policy], new ClusterSnapshotOptions { IPv4AddressPool = null });
        var evaluator = new NetPolicy.Compiler.Evaluation.PolicyEvaluator(snapshot);

        var toYa80 = evaluator.Allows("x/a", "y/a", TransportProtocol.Tcp, 80);
        var toYb80 = evaluator.Allows("x/a", "y/b", TransportProtocol.Tcp, 80);
        var toYb8080 = evaluator.Allows("x/a", "y/b", TransportProtocol.Tcp, 8080);
        var toYa8080 = evaluator.Allows("x/a", "y/a", TransportProtocol.Tcp, 8080);

        Assert.False(snapshot.HasErrors);
        Assert.True(toYa80);
        Assert.False(toYb80);
        Assert.True(toYb8080);
        Assert.False(toYa8080);
    }
}
