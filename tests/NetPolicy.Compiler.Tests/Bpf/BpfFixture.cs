using System.Net;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Bpf;

/// <summary>A small cluster exercising every kind of policy-map key: identities, address classes, any peer, single
/// ports, a port range, a rule without ports and a rule set without rules.</summary>
internal static class BpfFixture
{
    public static ClusterSnapshot Snapshot() => Support.Cluster.Snapshot(
        [
            Pod("a", "web", "198.18.0.10,fd00::10", "app", "web"),
            Pod("a", "db", "198.18.0.20", "app", "db"),
            Pod("a", "api", "198.18.0.30", "app", "api"),
            Pod("b", "client", "198.18.1.10", "app", "client"),
        ],
        [
            new NetworkPolicyDefinition
            {
                Namespace = "a",
                Name = "db-ingress",
                PodSelector = LabelSelector.ForLabels("app", "db"),
                AffectsIngress = true,
                Ingress =
                [
                    new NetworkPolicyRule
                    {
                        Peers = [new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") }],
                        Ports = [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Protocol = TransportProtocol.Udp, Port = 8080, EndPort = 8095 }],
                    },
                    new NetworkPolicyRule
                    {
                        Peers = [new NetworkPolicyPeer { IPBlock = new IPBlock(IPNetwork.Parse("10.0.0.0/8"), [IPNetwork.Parse("10.1.0.0/16")]) }],
                        Ports = [new NetworkPolicyPort { Port = 443 }],
                    },
                ],
            },
            new NetworkPolicyDefinition
            {
                Namespace = "a",
                Name = "web-egress",
                PodSelector = LabelSelector.ForLabels("app", "web"),
                AffectsEgress = true,
                Egress = [new NetworkPolicyRule()],
            },
            new NetworkPolicyDefinition
            {
                Namespace = "b",
                Name = "deny-all",
                PodSelector = LabelSelector.Everything,
                AffectsIngress = true,
                AffectsEgress = true,
            },
        ]);

    public static CompiledPolicySet Compile() => new PolicyCompiler().Compile(Snapshot()).ThrowIfErrors();
}
