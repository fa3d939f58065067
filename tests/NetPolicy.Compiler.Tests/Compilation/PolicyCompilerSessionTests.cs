using System.Net.Sockets;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Compilation;

public sealed class PolicyCompilerSessionTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 400)];

    /// <summary>Random pod events applied one by one: every result agrees with the reference evaluator, and every delta
    /// equals the full diff between consecutive results.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void SetPodAndRemovePod_RandomEvents_AgreeWithReferenceAndReportExactDeltas(int seed)
    {
        var random = new Random(seed);
        var snapshot = RandomCluster.Create(seed);
        var donor = RandomCluster.Create(seed + 7_000);
        var session = new PolicyCompilerSession(snapshot);
        for (var step = 0; step < 6; step++)
        {
            var before = session.Current.PolicySet!;
            var pods = session.Snapshot.Pods.Values.ToList();
            CompilationResult result;
            if (pods.Count > 0 && random.Next(4) == 0)
            {
                result = session.RemovePod(pods[random.Next(pods.Count)].Key);
            }
            else
            {
                var template = donor.Pods.Values.ElementAt(random.Next(donor.Pods.Count));
                var ns = session.Snapshot.Namespaces.Keys.ElementAt(random.Next(session.Snapshot.Namespaces.Count));
                var name = random.Next(3) == 0 || pods.Count == 0 ? "new" + step : pods[random.Next(pods.Count)].Name;
                var existing = session.Snapshot.FindPod(ns + "/" + name);
                var address = existing?.Addresses ?? [System.Net.IPAddress.Parse($"198.19.{seed % 200}.{10 + step}")];
                result = session.SetPod(template with { Namespace = ns, Name = name, Addresses = address });
            }

            var after = result.ThrowIfErrors();
            var expected = after.DiffFrom(before);
            Assert.Equal(expected.ToString(), result.Delta!.ToString());
            Assert.Equal(expected.ChangedEndpoints.ToArray(), result.Delta.ChangedEndpoints.ToArray());
            Assert.Equal(expected.ChangedRuleSets.ToArray(), result.Delta.ChangedRuleSets.ToArray());
            Assert.Equal(expected.UpsertedIPCacheEntries.ToArray(), result.Delta.UpsertedIPCacheEntries.ToArray());
            AssertAgreesWithReference(session.Snapshot, after, seed);
        }
    }

    [Fact]
    public void SetPod_LabelChange_ReportsOneEndpointAndRuleSetChangesInPlace()
    {
        var snapshot = Snapshot(
            [Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "api", "198.18.0.2", "app", "api"), Pod("shop", "db", "198.18.0.3", "app", "db")],
            [AllowIngressFrom("shop", "db", LabelSelector.ForLabels("app", "db"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") })]);
        var session = new PolicyCompilerSession(snapshot);
        var dbRuleSet = session.Current.PolicySet!.Endpoints["shop/db"].IngressRuleSet;

        var result = session.SetPod(snapshot.Pods["shop/web"] with { Labels = LabelSet.Of("app", "api", "v", "2") });

        Assert.Equal(["shop/web"], result.Delta!.ChangedEndpoints.ToArray());
        Assert.Single(result.Delta.AddedIdentities);
        Assert.Single(result.Delta.RemovedIdentities);
        Assert.Equal([dbRuleSet!.Value], result.Delta.ChangedRuleSets.ToArray());
        Assert.Equal(dbRuleSet, result.PolicySet!.Endpoints["shop/db"].IngressRuleSet);
        Assert.True(result.PolicySet.Decide(System.Net.IPAddress.Parse("198.18.0.1"), System.Net.IPAddress.Parse("198.18.0.3"), TransportProtocol.Tcp, 5432));
    }

    [Fact]
    public void SetPolicy_RecompilesWithStableNumbers()
    {
        var snapshot = Snapshot([Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "db", "198.18.0.3", "app", "db")]);
        var session = new PolicyCompilerSession(snapshot);
        var identities = session.Current.PolicySet!.Endpoints.Values.Select(e => e.Identity).ToArray();

        var result = session.SetPolicy(AllowIngressFrom("shop", "db", LabelSelector.ForLabels("app", "db"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "web") }));

        Assert.Equal(identities, result.PolicySet!.Endpoints.Values.Select(e => e.Identity).ToArray());
        Assert.Equal(["shop/db"], result.Delta!.ChangedEndpoints.ToArray());
    }

    private static void AssertAgreesWithReference(ClusterSnapshot snapshot, Ir.CompiledPolicySet compiled, int seed)
    {
        var evaluator = new PolicyEvaluator(snapshot);
        foreach (var from in snapshot.Pods.Values)
        {
            foreach (var to in snapshot.Pods.Values)
            {
                foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                {
                    if (from.AddressOf(family) is not { } src || to.AddressOf(family) is not { } dst)
                    {
                        continue;
                    }

                    foreach (var protocol in TransportProtocolNames.All)
                    {
                        foreach (var port in RandomCluster.Ports)
                        {
                            var expected = evaluator.Evaluate(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), protocol, port, family);
                            Assert.True(expected.Allowed == compiled.Decide(src, dst, protocol, port), $"seed {seed}: {from.Key} -> {to.Key} {protocol}/{port}\n{expected.Explain()}");
                        }
                    }
                }
            }
        }
    }
}
