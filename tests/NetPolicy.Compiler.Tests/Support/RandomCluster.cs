using System.Net;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Support;

/// <summary>Generates small random clusters that exercise every NetworkPolicy feature, for differential tests.</summary>
internal static class RandomCluster
{
    private static readonly string[] s_apps = ["a", "b", "c"];
    private static readonly string[] s_tiers = ["x", "y"];
    private static readonly string[] s_teams = ["red", "blue"];
    private static readonly int[] s_ports = [80, 81, 443, 8080];

    public static ClusterSnapshot Create(int seed)
    {
        var random = new Random(seed);
        var namespaces = new List<NamespaceDefinition>();
        var pods = new List<PodEndpoint>();
        var policies = new List<NetworkPolicyDefinition>();
        var nsCount = random.Next(1, 4);
        var podIndex = 0;
        for (var n = 0; n < nsCount; n++)
        {
            var nsName = "ns" + n;
            var nsLabels = new Dictionary<string, string>();
            if (random.Next(3) > 0)
            {
                nsLabels["team"] = Pick(random, s_teams);
            }

            namespaces.Add(NamespaceDefinition.Create(nsName, LabelSet.Create(nsLabels)));
            var podCount = random.Next(1, 5);
            for (var p = 0; p < podCount; p++)
            {
                podIndex++;
                var labels = new Dictionary<string, string>();
                if (random.Next(4) > 0) { labels["app"] = Pick(random, s_apps); }
                if (random.Next(2) > 0) { labels["tier"] = Pick(random, s_tiers); }
                var namedPorts = new List<NamedPort>();
                if (random.Next(3) > 0) { namedPorts.Add(new NamedPort("http", random.Next(2) == 0 ? 80 : 81, TransportProtocol.Tcp)); }
                if (random.Next(3) == 0) { namedPorts.Add(new NamedPort("dns", 53 + random.Next(2) * 28, random.Next(2) == 0 ? TransportProtocol.Udp : TransportProtocol.Sctp)); }
                var addresses = new List<IPAddress> { IPAddress.Parse($"198.18.{podIndex / 8}.{10 + podIndex % 8 * 16 + random.Next(4)}") };
                if (random.Next(3) == 0)
                {
                    addresses.Add(IPAddress.Parse($"fd00:198::{podIndex:x}"));
                }

                pods.Add(new PodEndpoint
                {
                    Namespace = nsName,
                    Name = "p" + p,
                    Labels = LabelSet.Create(labels),
                    Addresses = [.. addresses],
                    NamedPorts = [.. namedPorts.OrderBy(x => x.Name, StringComparer.Ordinal)],
                });
            }
        }

        var policyCount = random.Next(0, 6);
        for (var i = 0; i < policyCount; i++)
        {
            var ns = Pick(random, namespaces).Name;
            var ingress = random.Next(4) > 0;
            var egress = random.Next(3) == 0 || !ingress;
            policies.Add(new NetworkPolicyDefinition
            {
                Namespace = ns,
                Name = "pol" + i,
                PodSelector = Selector(random, allowEmpty: true),
                AffectsIngress = ingress,
                AffectsEgress = egress,
                Ingress = ingress ? [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Rule(random))] : [],
                Egress = egress ? [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Rule(random))] : [],
            });
        }

        return ClusterSnapshot.FromModel(namespaces, pods, policies);
    }

    /// <summary>External addresses to probe: some inside the pod ranges, some outside, both families.</summary>
    public static IReadOnlyList<IPAddress> ExternalAddresses { get; } =
    [
        IPAddress.Parse("198.18.0.5"), IPAddress.Parse("198.18.1.200"), IPAddress.Parse("198.19.7.7"),
        IPAddress.Parse("fd00:198::ffff"), IPAddress.Parse("fd00:199::1"),
    ];

    public static IReadOnlyList<int> Ports => s_ports.Concat([53, 81]).Distinct().ToList();

    private static NetworkPolicyRule Rule(Random random) => new()
    {
        Peers = [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Peer(random))],
        Ports = [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Port(random))],
    };

    private static NetworkPolicyPeer Peer(Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                return new NetworkPolicyPeer { PodSelector = Selector(random, allowEmpty: true) };
            case 1:
                return new NetworkPolicyPeer { NamespaceSelector = Selector(random, allowEmpty: true, namespaceLabels: true) };
            case 2:
                return new NetworkPolicyPeer { NamespaceSelector = Selector(random, true, true), PodSelector = Selector(random, allowEmpty: true) };
            default:
                var v6 = random.Next(4) == 0;
                if (v6)
                {
                    var cidr = IPNetwork.Parse(random.Next(2) == 0 ? "fd00:198::/64" : "fd00:198::/120");
                    return new NetworkPolicyPeer { IPBlock = new IPBlock(cidr, random.Next(2) == 0 ? [IPNetwork.Parse("fd00:198::/124")] : []) };
                }

                var prefix = random.Next(3) switch { 0 => 15, 1 => 23, _ => 24 };
                var block = prefix == 15 ? IPNetwork.Parse("198.18.0.0/15") : IPNetwork.Parse($"198.18.{random.Next(2)}.0/{prefix}");
                var excepts = new List<IPNetwork>();
                if (random.Next(2) == 0)
                {
                    excepts.Add(IPNetwork.Parse($"{block.BaseAddress.ToString()[..^1]}{16 * random.Next(4)}/28"));
                }

                if (random.Next(4) == 0 && prefix < 24)
                {
                    excepts.Add(IPNetwork.Parse($"198.18.{random.Next(2)}.{128 + random.Next(8)}/32"));
                }

                return new NetworkPolicyPeer { IPBlock = new IPBlock(block, excepts.Where(e => block.Contains(e.BaseAddress) && e.PrefixLength > block.PrefixLength)) };
        }
    }

    private static NetworkPolicyPort Port(Random random)
    {
        var protocol = random.Next(5) switch { 0 => TransportProtocol.Udp, 1 => TransportProtocol.Sctp, _ => TransportProtocol.Tcp };
        return random.Next(5) switch
        {
            0 => new NetworkPolicyPort { Protocol = protocol },
            1 => new NetworkPolicyPort { Protocol = protocol, PortName = random.Next(3) == 0 ? "dns" : "http" },
            2 => new NetworkPolicyPort { Protocol = protocol, Port = 80, EndPort = 81 + random.Next(2) * 400 },
            _ => new NetworkPolicyPort { Protocol = protocol, Port = Pick(random, s_ports) },
        };
    }

    private static LabelSelector Selector(Random random, bool allowEmpty, bool namespaceLabels = false)
    {
        if (allowEmpty && random.Next(3) == 0)
        {
            return LabelSelector.Everything;
        }

        var key = namespaceLabels ? (random.Next(3) == 0 ? NamespaceDefinition.NameLabel : "team") : (random.Next(2) == 0 ? "app" : "tier");
        var values = namespaceLabels ? (key == "team" ? s_teams : ["ns0", "ns1", "ns2"]) : (key == "app" ? s_apps : s_tiers);
        return random.Next(6) switch
        {
            0 => new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(key, LabelSelectorOperator.In, [Pick(random, values), Pick(random, values)])]),
            1 => new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(key, LabelSelectorOperator.NotIn, [Pick(random, values)])]),
            2 => new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(key, LabelSelectorOperator.Exists)]),
            3 => new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(key, LabelSelectorOperator.DoesNotExist)]),
            _ => new LabelSelector(LabelSet.Of(key, Pick(random, values))),
        };
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
