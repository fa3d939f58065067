using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>ipBlock scenarios of the upstream e2e suite, which build CIDRs from pod IPs, in IPv4 and IPv6, plus ingress
/// ipBlocks and the dual-stack rule that an ipBlock of one family never matches an address of the other.</summary>
public sealed class NetpolE2eIPBlockTests
{
    public static TheoryData<AddressMode, AddressFamily> SingleStackModels { get; } = new()
    {
        { AddressMode.IPv4, AddressFamily.InterNetwork },
        { AddressMode.IPv6, AddressFamily.InterNetworkV6 },
    };

    // Upstream: "should allow egress access to server in CIDR block" (the pod IP of y/b with /32, or /128 on IPv6).
    [Theory]
    [MemberData(nameof(SingleStackModels))]
    public void Matrix_EgressToHostCidrOfYb_AllowsXaOnlyToYb(AddressMode mode, AddressFamily family)
    {
        var model = ModelFor(mode);
        var policy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.HostCidr("y/b", family))]));
        var evaluator = model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllEgress("x/a", false);
        reachability.Expect("x/a", "y/b", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream: "should enforce except clause while egress access to server in CIDR block" (the /4 around x/b's IP,
    // except x/b's IP).
    [Theory]
    [MemberData(nameof(SingleStackModels))]
    public void Matrix_EgressToLargeCidrExceptXb_DeniesOnlyXaToXb(AddressMode mode, AddressFamily family)
    {
        var model = ModelFor(mode);
        var policy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(LargeCidrFor("x/b", family), NetpolModel.HostCidr("x/b", family))]));
        var evaluator = model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.Expect("x/a", "x/b", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Upstream (older versions): the same It() built the CIDR as "<podA IP>/4", with host bits set; the API server
    // accepts that, and so must we (a warning, not an error), matching the network the prefix names.
    [Fact]
    public void Matrix_EgressToCidrWithHostBitsExceptXb_WarnsAndDeniesOnlyXaToXb()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.IPv4Of("x/a") + "/4", NetpolModel.HostCidr("x/b"))]));
        var evaluator = NetpolModel.IPv4.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.Expect("x/a", "x/b", false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        Assert.Contains(evaluator.Snapshot.Diagnostics, d => d.Code == DiagnosticCodes.NonCanonicalCidr && d.Severity == DiagnosticSeverity.Warning);
    }

    // Upstream: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed". Step 1 is the except
    // policy; step 2 updates the same policy (same name) to allow x/b's IP only.
    [Theory]
    [MemberData(nameof(SingleStackModels))]
    public void Matrix_ExceptPolicyUpdatedToHostCidrOfXb_AllowsXaOnlyToXb(AddressMode mode, AddressFamily family)
    {
        var model = ModelFor(mode);
        var exceptPolicy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(LargeCidrFor("x/b", family), NetpolModel.HostCidr("x/b", family))]));
        var updatedPolicy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.HostCidr("x/b", family))]));
        var beforeExpected = NetpolModel.NewReachability();
        beforeExpected.Expect("x/a", "x/b", false);
        var afterExpected = NetpolModel.NewReachability();
        afterExpected.ExpectAllEgress("x/a", false);
        afterExpected.Expect("x/a", "x/b", true);

        var before = model.Evaluator(exceptPolicy);
        var after = model.Evaluator(updatedPolicy);

        beforeExpected.AssertMatches(before.Matrix(TransportProtocol.Tcp, 80), before);
        afterExpected.AssertMatches(after.Matrix(TransportProtocol.Tcp, 80), after);
    }

    // Upstream: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed", read as two policies
    // that coexist: an IP in one policy's except is still allowed when another policy's CIDR covers it.
    [Fact]
    public void Matrix_ExceptPolicyPlusHostCidrPolicy_AllowsXbBecauseAnotherPolicyCoversIt()
    {
        var exceptPolicy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(LargeCidrFor("x/b", AddressFamily.InterNetwork), NetpolModel.HostCidr("x/b"))]));
        var hostPolicy = Netpol.Policy("x", "allow-client-a-to-x-b", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.HostCidr("x/b"))]));
        var evaluator = NetpolModel.IPv4.Evaluator(exceptPolicy, hostPolicy);
        var reachability = NetpolModel.NewReachability();

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
        var verdict = evaluator.Evaluate(FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!), FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/b")!), TransportProtocol.Tcp, 80);
        Assert.Equal([new RuleReference("x/allow-client-a-to-x-b", PolicyDirection.Egress, 0, 0, null)], verdict.Egress!.AllowedBy.ToArray());
    }

    // Not an upstream It() (upstream's ipBlock tests are egress only): ingress from namespace y's CIDR except y/b.
    [Theory]
    [MemberData(nameof(SingleStackModels))]
    public void Matrix_IngressFromNamespaceYCidrExceptYb_AllowsYaAndYcIntoXa(AddressMode mode, AddressFamily family)
    {
        var model = ModelFor(mode);
        var policy = Netpol.Policy("x", "allow-from-y-cidr", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.IPBlock(NetpolModel.NamespaceCidr("y", family), NetpolModel.HostCidr("y/b", family))]));
        var evaluator = model.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("y/a", "x/a", true);
        reachability.Expect("y/c", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): egress to the whole pod CIDR except namespace x's CIDR.
    [Fact]
    public void Matrix_EgressToPodCidrExceptNamespaceX_DeniesXaToNamespaceX()
    {
        var policy = Netpol.Policy("x", "allow-out-of-x", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.PodCidrV4, NetpolModel.NamespaceCidr("x"))]));
        var evaluator = NetpolModel.IPv4.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectPeer(new Peer("x", "a"), Peer.InNamespace("x"), false);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): ipBlock peers match addresses outside the cluster, selector peers never do.
    [Fact]
    public void Evaluate_EgressToEverythingExceptPodCidr_AllowsExternalAddressAndDeniesPods()
    {
        var policy = Netpol.Policy("x", "internet-only", Netpol.Labels("pod", "a"))
            .Egress(
                Netpol.EgressRule(to: [Netpol.IPBlock("0.0.0.0/0", NetpolModel.PodCidrV4)]),
                Netpol.EgressRule(to: [Netpol.Peer(namespaceSelector: Netpol.Everything())], ports: [Netpol.Port(81)]));
        var evaluator = NetpolModel.IPv4.Evaluator(policy);
        var xa = FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!);

        var external80 = evaluator.Evaluate(xa, FlowEndpoint.ForAddress(IPAddress.Parse("203.0.113.7")), TransportProtocol.Tcp, 80);
        var external81 = evaluator.Evaluate(xa, FlowEndpoint.ForAddress(IPAddress.Parse("203.0.113.7")), TransportProtocol.Tcp, 81);
        var otherPodCidr = evaluator.Evaluate(xa, FlowEndpoint.ForAddress(IPAddress.Parse("198.19.200.1")), TransportProtocol.Tcp, 81);
        var pod80 = evaluator.Evaluate(xa, FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/a")!), TransportProtocol.Tcp, 80);
        var pod81 = evaluator.Evaluate(xa, FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("y/a")!), TransportProtocol.Tcp, 81);

        Assert.True(external80.Allowed, external80.Explain());
        Assert.True(external81.Allowed, external81.Explain());
        Assert.False(otherPodCidr.Allowed, otherPodCidr.Explain());
        Assert.False(pod80.Allowed, pod80.Explain());
        Assert.True(pod81.Allowed, pod81.Explain());
    }

    // Not an upstream It(): an address given as FlowEndpoint.ForAddress that belongs to a pod is that pod, so ingress
    // ipBlock rules see the pod's IP and its own policies apply.
    [Fact]
    public void Evaluate_FromAddressOfPodYb_IsResolvedToPodYbAndMatchedByHostCidr()
    {
        var policy = Netpol.Policy("x", "allow-from-yb-ip", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.IPBlock(NetpolModel.HostCidr("y/b"))]));
        var evaluator = NetpolModel.IPv4.Evaluator(policy);
        var xa = FlowEndpoint.ForPod(evaluator.Snapshot.FindPod("x/a")!);

        var fromYb = evaluator.Evaluate(FlowEndpoint.ForAddress(NetpolModel.IPv4Of("y/b")), xa, TransportProtocol.Tcp, 80);
        var fromYa = evaluator.Evaluate(FlowEndpoint.ForAddress(NetpolModel.IPv4Of("y/a")), xa, TransportProtocol.Tcp, 80);

        Assert.True(fromYb.Allowed, fromYb.Explain());
        Assert.Equal("y/b", fromYb.Source.Pod?.Key);
        Assert.False(fromYa.Allowed, fromYa.Explain());
    }

    // Not an upstream It() (upstream leaves dual stack as a TODO): an IPv4 ipBlock matches y/b's IPv4 address only, so
    // the same pod pair is allowed over IPv4 and denied over IPv6.
    [Fact]
    public void Matrix_DualStackEgressToIPv4HostCidr_AllowsOverIPv4AndDeniesOverIPv6()
    {
        var policy = Netpol.Policy("x", "allow-client-a-via-cidr-egress-rule", Netpol.Labels("pod", "a"))
            .Egress(Netpol.EgressRule(to: [Netpol.IPBlock(NetpolModel.HostCidr("y/b", AddressFamily.InterNetwork))]));
        var evaluator = NetpolModel.DualStack.Evaluator(policy);
        var overIPv4 = NetpolModel.NewReachability();
        overIPv4.ExpectAllEgress("x/a", false);
        overIPv4.Expect("x/a", "y/b", true);
        var overIPv6 = NetpolModel.NewReachability();
        overIPv6.ExpectAllEgress("x/a", false);

        var matrixV4 = evaluator.Matrix(TransportProtocol.Tcp, 80, AddressFamily.InterNetwork);
        var matrixV6 = evaluator.Matrix(TransportProtocol.Tcp, 80, AddressFamily.InterNetworkV6);

        overIPv4.AssertMatches(matrixV4, evaluator);
        overIPv6.AssertMatches(matrixV6, evaluator);
    }

    // Not an upstream It(): dual stack with one ipBlock per family allows the pair over both families.
    [Theory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void Matrix_DualStackIngressFromBothFamiliesOfYb_AllowsYbIntoXaOverEitherFamily(AddressFamily family)
    {
        var policy = Netpol.Policy("x", "allow-from-yb", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from:
            [
                Netpol.IPBlock(NetpolModel.HostCidr("y/b", AddressFamily.InterNetwork)),
                Netpol.IPBlock(NetpolModel.HostCidr("y/b", AddressFamily.InterNetworkV6)),
            ]));
        var evaluator = NetpolModel.DualStack.Evaluator(policy);
        var reachability = NetpolModel.NewReachability();
        reachability.ExpectAllIngress("x/a", false);
        reachability.Expect("y/b", "x/a", true);

        var matrix = evaluator.Matrix(TransportProtocol.Tcp, 80, family);

        reachability.AssertMatches(matrix, evaluator);
    }

    // Not an upstream It(): dual stack, an IPv6 except inside an IPv6 block does not carve anything out of IPv4 traffic,
    // and the IPv6 block does not match IPv4 addresses at all.
    [Fact]
    public void Matrix_DualStackIngressFromIPv6PodCidrExceptYb_OnlyMatchesIPv6()
    {
        var policy = Netpol.Policy("x", "allow-from-v6-pods", Netpol.Labels("pod", "a"))
            .Ingress(Netpol.IngressRule(from: [Netpol.IPBlock(NetpolModel.PodCidrV6, NetpolModel.HostCidr("y/b", AddressFamily.InterNetworkV6))]));
        var evaluator = NetpolModel.DualStack.Evaluator(policy);
        var overIPv6 = NetpolModel.NewReachability();
        overIPv6.Expect("y/b", "x/a", false);
        var overIPv4 = NetpolModel.NewReachability();
        overIPv4.ExpectAllIngress("x/a", false);

        var matrixV6 = evaluator.Matrix(TransportProtocol.Tcp, 80, AddressFamily.InterNetworkV6);
        var matrixV4 = evaluator.Matrix(TransportProtocol.Tcp, 80, AddressFamily.InterNetwork);

        overIPv6.AssertMatches(matrixV6, evaluator);
        overIPv4.AssertMatches(matrixV4, evaluator);
    }

    private static NetpolModel ModelFor(AddressMode mode) => mode switch
    {
        AddressMode.IPv4 => NetpolModel.IPv4,
        AddressMode.IPv6 => NetpolModel.IPv6,
        _ => NetpolModel.DualStack,
    };

    /// <summary>Upstream <c>makeLargeCIDRForIP</c>: the /4 that holds the pod's IP, host bits cleared.</summary>
    private static string LargeCidrFor(string pod, AddressFamily family)
    {
        var address = family == AddressFamily.InterNetwork ? NetpolModel.IPv4Of(pod) : NetpolModel.IPv6Of(pod);
        var bytes = address.GetAddressBytes();
        bytes[0] &= 0xF0;
        for (var i = 1; i < bytes.Length; i++)
        {
            bytes[i] = 0;
        }

        return new IPAddress(bytes) + "/4";
    }
}
