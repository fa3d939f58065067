using System.Net;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Evaluation;

public sealed class PolicyEvaluatorTests
{
    [Fact]
    public void Evaluate_DestinationGivenAsPodIPv6Address_UsesTheIPv6Flow()
    {
        var client = Pod("a", "client", "198.18.0.1,fd00:198::1", "app", "client");
        var server = Pod("a", "server", "198.18.0.2,fd00:198::2", "app", "server");
        var policy = AllowIngressFrom("a", "v6-only", LabelSelector.ForLabels("app", "server"), new NetworkPolicyPeer { IPBlock = new IPBlock(IPNetwork.Parse("fd00:198::/64")) });
        var evaluator = new PolicyEvaluator(Snapshot([client, server], [policy]));

        var overIPv6 = evaluator.Evaluate(FlowEndpoint.ForPod(client), FlowEndpoint.ForAddress(IPAddress.Parse("fd00:198::2")), TransportProtocol.Tcp, 80);
        var defaultFamily = evaluator.Evaluate(FlowEndpoint.ForPod(client), FlowEndpoint.ForPod(server), TransportProtocol.Tcp, 80);

        Assert.True(overIPv6.Allowed);
        Assert.Equal(IPAddress.Parse("fd00:198::1"), overIPv6.SourceAddress);
        Assert.Equal("a/server", overIPv6.Destination.Pod!.Key);
        Assert.False(defaultFamily.Allowed); // IPv4 is preferred when both have it, and the block is IPv6
    }

    [Fact]
    public void Evaluate_Denied_ExplainsEveryRuleThatDidNotMatch()
    {
        var client = Pod("a", "client", "198.18.0.1", "app", "client");
        var server = Pod("a", "server", "198.18.0.2", "app", "server");
        var policy = AllowIngressFrom("a", "from-web", LabelSelector.ForLabels("app", "server"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "web") }, new NetworkPolicyPort { Port = 8080 });

        var verdict = new PolicyEvaluator(Snapshot([client, server], [policy])).Evaluate(FlowEndpoint.ForPod(client), FlowEndpoint.ForPod(server), TransportProtocol.Tcp, 80);

        Assert.False(verdict.Allowed);
        Assert.Equal(["a/from-web spec.ingress[0]: no from peer matches a/client (podSelector app=web) and no port matches TCP/80 (TCP/8080)."], verdict.Ingress!.Reasons.ToArray());
        Assert.Contains("DENIED: a/client -> a/server TCP/80", verdict.Explain());
    }

    [Fact]
    public void Evaluate_ExternalSourceToUnisolatedPod_IsAllowedAndSaysWhy()
    {
        var server = Pod("a", "server", "198.18.0.2", "app", "server");

        var verdict = new PolicyEvaluator(Snapshot([server])).Evaluate(FlowEndpoint.ForAddress(IPAddress.Parse("198.19.0.9")), FlowEndpoint.ForPod(server), TransportProtocol.Udp, 53);

        Assert.True(verdict.Allowed);
        Assert.Null(verdict.Egress);
        Assert.False(verdict.Ingress!.Isolated);
        Assert.Contains("egress of source: not policed (outside the cluster)", verdict.Explain());
    }
}
