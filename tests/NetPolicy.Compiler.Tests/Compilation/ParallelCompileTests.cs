using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Compilation;

/// <summary>
/// A cold compile selects peers, matches policies to identities and builds rule sets in parallel once a cluster has
/// enough of them. The result must not depend on it: every degree of parallelism gives the same IR, the same numbers,
/// and the same in-place updates afterwards.
/// </summary>
public sealed class ParallelCompileTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compile_LargeCluster_SameResultForEveryDegreeOfParallelism(int seed)
    {
        var snapshot = Cluster(seed);
        var sequential = new PolicyCompiler(new PolicyCompilerOptions { MaxDegreeOfParallelism = 1 }).Compile(snapshot).PolicySet!;

        // Big enough for every parallel loop (64 items and more) to run in parallel.
        Assert.True(sequential.Identities.Count > 200, $"only {sequential.Identities.Count} identities");
        Assert.True(sequential.PeerSets.Count > 100, $"only {sequential.PeerSets.Count} peer sets");
        Assert.True(sequential.RuleSets.Count > 64, $"only {sequential.RuleSets.Count} rule sets");

        foreach (var degree in new[] { -1, 2, 4 })
        {
            var parallel = new PolicyCompiler(new PolicyCompilerOptions { MaxDegreeOfParallelism = degree }).Compile(snapshot).PolicySet!;
            Assert.Equal(sequential, parallel);
            var again = new PolicyCompiler(new PolicyCompilerOptions { MaxDegreeOfParallelism = degree }).Compile(snapshot, sequential).PolicySet!;
            Assert.Equal(sequential, again);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Session_AfterParallelCompile_InPlaceUpdatesMatchSequentialSession(int seed)
    {
        var snapshot = Cluster(seed);
        var sequential = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { MaxDegreeOfParallelism = 1 });
        var parallel = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { MaxDegreeOfParallelism = -1 });
        Assert.Equal(sequential.Current.PolicySet, parallel.Current.PolicySet);

        var random = new Random(seed);
        var pods = snapshot.Pods.Values.ToArray();
        for (var i = 0; i < 40; i++)
        {
            var pod = pods[random.Next(pods.Length)];
            var changed = pod with { Labels = pod.Labels.With("app", "a" + random.Next(8)) };
            pods[Array.IndexOf(pods, pod)] = changed;
            var a = sequential.SetPod(changed);
            var b = parallel.SetPod(changed);
            Assert.Equal(a.PolicySet, b.PolicySet);
            Assert.Equal(a.Delta?.ToString(), b.Delta?.ToString());
        }

        var policy = snapshot.Policies.Values.First();
        var widened = policy with { Ingress = [.. policy.Ingress, new NetworkPolicyRule { Ports = [new NetworkPolicyPort { Port = 9999 }] }] };
        Assert.Equal(sequential.SetPolicy(widened).PolicySet, parallel.SetPolicy(widened).PolicySet);
    }

    /// <summary>The large-cluster paths (precomputed selection with pod-label classes, deferred rule sets) decide as
    /// the reference evaluator does; the small random clusters of the differential tests never reach them.</summary>
    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    public void Compile_LargeCluster_AgreesWithReferenceEvaluatorOnSampledFlows(int seed)
    {
        var snapshot = Cluster(seed);
        var compiled = new PolicyCompiler().Compile(snapshot).PolicySet!;
        var evaluator = new PolicyEvaluator(snapshot);
        var pods = snapshot.Pods.Values.ToArray();
        var random = new Random(seed);
        int[] ports = [80, 5432, 6000, 6050, 6100, 6101, 8080, 8081];
        var allowed = 0;
        for (var i = 0; i < 4000; i++)
        {
            var from = pods[random.Next(pods.Length)];
            var to = pods[random.Next(pods.Length)];
            var port = ports[random.Next(ports.Length)];
            var expected = evaluator.Evaluate(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), TransportProtocol.Tcp, port, AddressFamily.InterNetwork);
            var actual = compiled.Decide(from.AddressOf(AddressFamily.InterNetwork)!, to.AddressOf(AddressFamily.InterNetwork)!, TransportProtocol.Tcp, port);
            Assert.True(expected.Allowed == actual, $"{from.Key} -> {to.Key} TCP/{port}\n{expected.Explain()}");
            allowed += actual ? 1 : 0;
        }

        Assert.InRange(allowed, 200, 3800); // both verdicts occur, so the comparison can fail either way
    }

    [Fact]
    public void MaxDegreeOfParallelism_ZeroOrBelowMinusOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolicyCompilerOptions { MaxDegreeOfParallelism = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolicyCompilerOptions { MaxDegreeOfParallelism = -2 });
    }

    /// <summary>120 namespaces of 10 pods, 4 policies each; same-namespace, cross-namespace, expression, ipBlock and named-port peers.</summary>
    private static ClusterSnapshot Cluster(int seed)
    {
        var random = new Random(seed);
        string[] teams = ["t0", "t1", "t2", "t3", "t4"];
        var namespaces = new List<NamespaceDefinition>();
        var pods = new List<PodEndpoint>();
        var policies = new List<NetworkPolicyDefinition>();
        var podIndex = 0;
        for (var n = 0; n < 120; n++)
        {
            var ns = "ns" + n;
            namespaces.Add(NamespaceDefinition.Create(ns, LabelSet.Of("team", teams[n % teams.Length], "env", n % 3 == 0 ? "prod" : "dev")));
            for (var p = 0; p < 10; p++)
            {
                podIndex++;
                var labels = new Dictionary<string, string> { ["app"] = "a" + random.Next(8) };
                if (random.Next(2) == 0) { labels["tier"] = random.Next(2) == 0 ? "web" : "db"; }
                if (random.Next(3) == 0) { labels["version"] = "v" + random.Next(2); }
                pods.Add(new PodEndpoint
                {
                    Namespace = ns,
                    Name = "p" + p,
                    Labels = LabelSet.Create(labels),
                    Addresses = [IPAddress.Parse($"198.18.{podIndex / 250}.{podIndex % 250 + 1}")],
                    NamedPorts = [new NamedPort("http", random.Next(2) == 0 ? 8080 : 8081, TransportProtocol.Tcp)],
                });
            }

            for (var k = 0; k < 4; k++)
            {
                var peer = random.Next(4) switch
                {
                    0 => new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "a" + random.Next(8)) },
                    1 => new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels("team", teams[random.Next(teams.Length)]), PodSelector = LabelSelector.ForLabels("tier", "web") },
                    2 => new NetworkPolicyPeer
                    {
                        NamespaceSelector = new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement("env", LabelSelectorOperator.In, ["prod"])]),
                        PodSelector = new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement("app", LabelSelectorOperator.NotIn, ["a" + random.Next(8)]), new LabelSelectorRequirement("version", LabelSelectorOperator.Exists)]),
                    },
                    _ => new NetworkPolicyPeer { IPBlock = new IPBlock(IPNetwork.Parse($"198.18.{random.Next(3)}.0/24"), [IPNetwork.Parse($"198.18.{random.Next(3)}.{random.Next(4) * 64}/26")]) },
                };
                ImmutableArray<NetworkPolicyPort> ports = random.Next(3) switch
                {
                    0 => [new NetworkPolicyPort { PortName = "http" }],
                    1 => [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Port = 6000, EndPort = 6100 }],
                    _ => [],
                };
                var rule = new NetworkPolicyRule { Peers = [peer], Ports = ports };
                var egress = random.Next(3) == 0;
                policies.Add(new NetworkPolicyDefinition
                {
                    Namespace = ns,
                    Name = "np" + k,
                    PodSelector = random.Next(4) == 0 ? new LabelSelector(LabelSet.Empty) : LabelSelector.ForLabels("app", "a" + random.Next(8)),
                    AffectsIngress = !egress,
                    AffectsEgress = egress,
                    Ingress = egress ? [] : [rule],
                    Egress = egress ? [rule] : [],
                });
            }
        }

        var snapshot = ClusterSnapshot.FromModel(namespaces, pods, policies);
        Assert.False(snapshot.HasErrors, string.Join("; ", snapshot.Diagnostics));
        return snapshot;
    }
}
