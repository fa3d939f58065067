using System.Net;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;
using static NetPolicy.Analysis.Tests.Fixtures;

namespace NetPolicy.Analysis.Tests;

public class ConnectionDifferTests
{
    private static ConnectionDiff Diff(ClusterSnapshot before, ClusterSnapshot after) => ConnectionDiffer.Diff(before, after, options: null);

    private static PortClass TcpClass(ConnectionDiff diff, int port) =>
        diff.PortClasses.Single(c => c.Protocol == TransportProtocol.Tcp && !c.IsOther && c.First <= port && port <= c.Last);

    [Fact]
    public void Diff_AllowRuleAdded_ReportsOpenedWithTheAllowingRule()
    {
        var before = Shop(Ingress("deny-db", App("db")));
        var after = Shop(Ingress("deny-db", App("db")), Ingress("db-from-api", App("db"), Rule([PodPeer("api")], Tcp(5432))));

        var diff = Diff(before, after);

        var change = Assert.Single(diff.Changes);
        Assert.Equal(ConnectionChangeKind.Opened, change.Kind);
        Assert.Equal("shop/api", change.Source.Pod);
        Assert.Equal("shop/db", change.Destination.Pod);
        Assert.Equal(TcpClass(diff, 5432), change.Ports);
        Assert.Equal("TCP/5432", change.Ports.ToString());
        Assert.Equal(new RuleReference("shop/db-from-api", PolicyDirection.Ingress, 0, 0, 0), change.After.IngressRule);
        Assert.Null(change.After.EgressRule);
        Assert.False(change.Before.Allowed);
        Assert.True(diff.HasOpened);
    }

    [Fact]
    public void Diff_DefaultDenyAdded_ReportsClosedWithTheDenyingPolicy()
    {
        var before = Shop();
        var after = Shop(Ingress("deny-db", App("db")));

        var diff = Diff(before, after);

        var podChanges = diff.Changes.Where(c => c.Source.IsPod && c.Destination.IsPod).ToList();
        Assert.All(diff.Changes, c => Assert.Equal(ConnectionChangeKind.Closed, c.Kind));
        Assert.All(diff.Changes, c => Assert.Equal("shop/db", c.Destination.Pod));
        Assert.All(diff.Changes, c => Assert.Equal<string>(["shop/deny-db"], c.After.DenyingPolicies));
        Assert.Equal(["kube-system/coredns", "shop/api", "shop/web"], podChanges.Select(c => c.Source.Pod).Distinct());

        // No policy names a port: one class per protocol, every port.
        Assert.Equal(3, diff.PortClasses.Length);
        Assert.All(diff.PortClasses, c => Assert.True(c.IsAllPorts));
        Assert.Equal(9, podChanges.Count);
        Assert.False(diff.HasOpened);
    }

    [Fact]
    public void Diff_SameFlowAllowedByAnotherPolicy_ReportsChanged()
    {
        var before = Shop(Ingress("db-from-api", App("db"), Rule([PodPeer("api")], Tcp(5432))));
        var after = Shop(Ingress("db-clients", App("db"), Rule([PodPeer("api")], Tcp(5432))));

        var diff = Diff(before, after);

        var change = Assert.Single(diff.Changes);
        Assert.Equal(ConnectionChangeKind.Changed, change.Kind);
        Assert.Equal("shop/db-from-api", change.Before.IngressRule!.Policy);
        Assert.Equal("shop/db-clients", change.After.IngressRule!.Policy);
    }

    [Fact]
    public void Diff_IdenticalInputs_IsEmpty()
    {
        var policies = new[] { Ingress("db-from-api", App("db"), Rule([PodPeer("api")], Tcp(5432))), Egress("web", App("web"), Dns(), Rule([Block("203.0.113.0/24")], Tcp(443))) };

        var diff = Diff(Shop(policies), Shop(policies));

        Assert.True(diff.IsEmpty);
        Assert.Equal("0 opened, 0 closed, 0 changed; 0 pod(s) added, 0 removed", diff.Summary);
    }

    [Fact]
    public void Diff_EgressToIPBlock_ReportsExternalRangesPerPortClass()
    {
        var before = Shop();
        var after = Shop(Egress("web-out", App("web"), Dns(), Rule([Block("203.0.113.0/24")], Tcp(443))));

        var diff = Diff(before, after);

        var block = diff.AddressRanges.Single(r => r.Cidrs.Any(c => c.Contains(IPAddress.Parse("203.0.113.7"))));
        Assert.Equal<IPNetwork>([IPNetwork.Parse("203.0.113.0/24")], block.Cidrs);
        var toBlock = diff.Changes.Where(c => c.Source.Pod == "shop/web" && c.Destination == block).ToList();
        Assert.NotEmpty(toBlock);
        Assert.All(toBlock.Where(c => c.Ports != TcpClass(diff, 443)), c => Assert.Equal(ConnectionChangeKind.Closed, c.Kind));
        Assert.Contains(toBlock, c => c.Ports.Protocol == TransportProtocol.Tcp && c.Ports.IsOther);

        // TCP/443 stays allowed, but now by a rule instead of for want of egress isolation.
        var https = Assert.Single(toBlock, c => c.Ports == TcpClass(diff, 443));
        Assert.Equal(ConnectionChangeKind.Changed, https.Kind);
        Assert.Null(https.Before.EgressRule);
        Assert.Equal(new RuleReference("shop/web-out", PolicyDirection.Egress, 1, 0, 0), https.After.EgressRule);

        // The rest of the IPv4 space is closed on every port, 443 included; ingress from outside is untouched.
        var rest = diff.AddressRanges.Single(r => r.Cidrs.Any(c => c.Contains(IPAddress.Parse("192.0.2.1"))));
        Assert.Contains(diff.Changes, c => c.Source.Pod == "shop/web" && c.Destination == rest && c.Ports == TcpClass(diff, 443) && c.Kind == ConnectionChangeKind.Closed);
        Assert.DoesNotContain(diff.Changes, c => !c.Source.IsPod);
        Assert.DoesNotContain(diff.Changes, c => c.Source.Pod != "shop/web");
    }

    [Fact]
    public void Diff_IngressFromIPBlock_ReportsOpenedFromTheRange()
    {
        var before = Shop(Ingress("deny-web", App("web")));
        var after = Shop(Ingress("deny-web", App("web")), Ingress("web-from-lb", App("web"), Rule([Block("198.51.100.0/24", "198.51.100.128/25")], Tcp(8080))));

        var diff = Diff(before, after);

        var change = Assert.Single(diff.Changes);
        Assert.Equal(ConnectionChangeKind.Opened, change.Kind);
        Assert.False(change.Source.IsPod);
        Assert.Equal<IPNetwork>([IPNetwork.Parse("198.51.100.0/25")], change.Source.Cidrs);
        Assert.Equal(IPAddress.Parse("198.51.100.0"), change.Source.RepresentativeAddress);
        Assert.Equal("shop/web", change.Destination.Pod);
        Assert.Equal("shop/web-from-lb", change.After.IngressRule!.Policy);
    }

    [Fact]
    public void Diff_PodsOnOneSide_AreListedAndTakeNoPartInConnections()
    {
        var beforePods = ShopPods();
        var afterPods = ShopPods().Where(p => p.Name != "api").Append(Pod("shop", "worker", "10.0.0.9", "worker")).ToList();
        var policy = Ingress("deny-db", App("db"));

        var diff = Diff(Snapshot(beforePods, policy), Snapshot(afterPods, policy));

        Assert.Equal<string>(["shop/worker"], diff.AddedPods);
        Assert.Equal<string>(["shop/api"], diff.RemovedPods);
        Assert.Empty(diff.Changes);
        Assert.False(diff.IsEmpty);
    }

    [Fact]
    public void Diff_OverlappingPortRanges_SplitsThemIntoClasses()
    {
        var policy = Ingress("web", App("web"), Rule([PodPeer("api")], Tcp(80, 90)), Rule([PodPeer("db")], Tcp(85)));

        var diff = Diff(Shop(), Shop(policy));

        Assert.Equal(["TCP/80-84", "TCP/85", "TCP/86-90", "TCP/other", "UDP/*", "SCTP/*"], diff.PortClasses.Select(c => c.ToString()));
        var fromDb = diff.Changes.Where(c => c.Source.Pod == "shop/db" && c.Destination.Pod == "shop/web").ToList();
        Assert.Equal(["TCP/80-84", "TCP/86-90", "TCP/other", "UDP/*", "SCTP/*"], fromDb.Where(c => c.Kind == ConnectionChangeKind.Closed).Select(c => c.Ports.ToString()));
        var stillAllowed = Assert.Single(fromDb, c => c.Kind == ConnectionChangeKind.Changed);
        Assert.Equal("TCP/85", stillAllowed.Ports.ToString());
        Assert.Equal(1, stillAllowed.After.IngressRule!.RuleIndex);
    }

    [Fact]
    public void Diff_Output_IsSortedAndDeterministic()
    {
        var before = Shop();
        var after = Shop(Ingress("deny", LabelSelector.Everything), Egress("web-out", App("web"), Dns()));

        var first = Diff(before, after);
        var second = Diff(before, after);

        Assert.Equal(first.ToText(), second.ToText());
        var kinds = first.Changes.Select(c => c.Kind).ToList();
        Assert.Equal(kinds.Order(), kinds);
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        var seeds = Environment.GetEnvironmentVariable("NETPOLICY_SEED") is { } s ? [int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)] : Enumerable.Range(1, 60);
        foreach (var seed in seeds)
        {
            data.Add(seed);
        }

        return data;
    }

    /// <summary>Two random clusters sharing pod names (relabelled, some removed) and namespaces, with unrelated policies:
    /// every verdict change the reference evaluator sees must be in the diff, and nothing else.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Diff_RandomClusters_AgreesWithTheReferenceEvaluator(int seed)
    {
        var before = Compiler.Tests.Support.RandomCluster.Create(seed);
        var other = Compiler.Tests.Support.RandomCluster.Create(seed + 10_000);
        var random = new Random(seed);
        var afterPods = before.Pods.Values
            .Where(_ => random.Next(8) > 0)
            .Select(p => other.Pods.TryGetValue(p.Key, out var o) && random.Next(2) == 0 ? p with { Labels = o.Labels, NamedPorts = o.NamedPorts } : p)
            .ToList();
        var afterNamespaces = before.Namespaces.Values.Select(n => other.Namespaces.TryGetValue(n.Name, out var o) && random.Next(2) == 0 ? o : n).ToList();
        var afterPolicies = other.Policies.Values.Where(p => before.Namespaces.ContainsKey(p.Namespace))
            .Concat(before.Policies.Values.Where(_ => random.Next(2) == 0).Select(p => p with { Name = p.Name + "-kept" }));
        var after = ClusterSnapshot.FromModel(afterNamespaces, afterPods, afterPolicies);

        var diff = Diff(before, after);

        var evBefore = new Compiler.Evaluation.PolicyEvaluator(before);
        var evAfter = new Compiler.Evaluation.PolicyEvaluator(after);
        var common = before.Pods.Keys.Where(after.Pods.ContainsKey).ToList();
        var index = diff.Changes.ToDictionary(c => (c.Source.Name, c.Destination.Name, c.Ports));
        var ports = new[] { 1, 53, 80, 81, 82, 443, 481, 1000, 8080 };
        var checkedChanges = new HashSet<ConnectionChange>();

        void Check(string src, string dst, Compiler.Evaluation.FlowVerdict b, Compiler.Evaluation.FlowVerdict a, PortClass ports)
        {
            index.TryGetValue((src, dst, ports), out var change);
            var context = $"seed {seed}: {src} -> {dst} {b.Protocol}/{b.Port} ({ports}); before {b.Summary} after {a.Summary}";
            if (b.Allowed != a.Allowed)
            {
                Assert.True(change is not null, "missing change, " + context);
                Assert.Equal(a.Allowed ? ConnectionChangeKind.Opened : ConnectionChangeKind.Closed, change.Kind);
            }
            else if (!b.Allowed)
            {
                Assert.True(change is null, $"unexpected {change?.Kind}, " + context);
            }
            else
            {
                var sameRules = SameRule(b.Egress, a.Egress) && SameRule(b.Ingress, a.Ingress);
                Assert.True(sameRules ? change is null : change?.Kind == ConnectionChangeKind.Changed, $"changed expected {!sameRules}, got {change?.Kind}, " + context);
            }

            if (change is not null)
            {
                Assert.Equal(b.Egress?.AllowedBy.FirstOrDefault(), change.Before.EgressRule);
                Assert.Equal(a.Ingress?.AllowedBy.FirstOrDefault(), change.After.IngressRule);
                if (change.Kind == ConnectionChangeKind.Closed)
                {
                    var denying = (a.Egress is { Allowed: false } ? a.Egress.IsolatingPolicies : []).Concat(a.Ingress is { Allowed: false } ? a.Ingress.IsolatingPolicies : []).Distinct();
                    Assert.Equal<string>(denying, change.After.DenyingPolicies);
                }

                checkedChanges.Add(change);
            }
        }

        foreach (var protocol in TransportProtocolNames.All)
        {
            foreach (var port in ports)
            {
                var portClass = ClassOf(diff, protocol, port);
                foreach (var src in common)
                {
                    foreach (var dst in common.Where(d => d != src))
                    {
                        var b = evBefore.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[src]), Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[dst]), protocol, port);
                        var a = evAfter.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[src]), Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[dst]), protocol, port);
                        Check(src, dst, b, a, portClass);
                    }
                }

                foreach (var address in Compiler.Tests.Support.RandomCluster.ExternalAddresses)
                {
                    if (evBefore.ResolveAddress(address).Pod is not null || evAfter.ResolveAddress(address).Pod is not null)
                    {
                        continue;
                    }

                    var range = diff.AddressRanges.SingleOrDefault(r => r.Cidrs.Any(c => c.Contains(address)));
                    if (range is null)
                    {
                        // Only families in use are partitioned: no pod and no ipBlock of either side has this one.
                        Assert.DoesNotContain(before.Pods.Values.Concat(after.Pods.Values), p => p.AddressOf(address.AddressFamily) is not null);
                        continue;
                    }

                    var external = Compiler.Evaluation.FlowEndpoint.ForAddress(address);
                    foreach (var pod in common)
                    {
                        Check(pod, range.Name,
                            evBefore.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[pod]), external, protocol, port),
                            evAfter.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[pod]), external, protocol, port), portClass);
                        Check(range.Name, pod,
                            evBefore.Evaluate(external, Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[pod]), protocol, port),
                            evAfter.Evaluate(external, Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[pod]), protocol, port), portClass);
                    }
                }
            }
        }

        // Every pod-to-pod change is confirmed at its representative port by the evaluator as well.
        foreach (var change in diff.Changes.Where(c => c.Source.IsPod && c.Destination.IsPod && !checkedChanges.Contains(c)))
        {
            var b = evBefore.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[change.Source.Pod!]), Compiler.Evaluation.FlowEndpoint.ForPod(before.Pods[change.Destination.Pod!]), change.Ports.Protocol, change.Ports.RepresentativePort);
            var a = evAfter.Evaluate(Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[change.Source.Pod!]), Compiler.Evaluation.FlowEndpoint.ForPod(after.Pods[change.Destination.Pod!]), change.Ports.Protocol, change.Ports.RepresentativePort);
            Check(change.Source.Pod!, change.Destination.Pod!, b, a, change.Ports);
        }
    }

    private static PortClass ClassOf(ConnectionDiff diff, TransportProtocol protocol, int port) =>
        diff.PortClasses.FirstOrDefault(c => c.Protocol == protocol && !c.IsOther && c.First <= port && port <= c.Last)
        ?? diff.PortClasses.Single(c => c.Protocol == protocol && c.IsOther);

    private static bool SameRule(Compiler.Evaluation.DirectionVerdict? before, Compiler.Evaluation.DirectionVerdict? after)
    {
        var b = before?.AllowedBy.FirstOrDefault();
        var a = after?.AllowedBy.FirstOrDefault();
        return b is null ? a is null : a is not null && a.Policy == b.Policy && a.Direction == b.Direction && a.RuleIndex == b.RuleIndex;
    }
}
