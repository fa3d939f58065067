using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Compilation;

public sealed class IncrementalCompileTests
{
    private static readonly PolicyCompiler s_compiler = new();

    private static ClusterSnapshot Shop() => Snapshot(
        [
            Pod("shop", "web", "198.18.0.1", "app", "web"),
            Pod("shop", "api", "198.18.0.2", "app", "api"),
            Pod("shop", "db", "198.18.0.3", "app", "db"),
        ],
        [AllowIngressFrom("shop", "db-from-api", LabelSelector.ForLabels("app", "db"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") }, new NetworkPolicyPort { Port = 5432 })]);

    [Fact]
    public void Compile_NothingChanged_GivesEmptyDeltaAndEqualPolicySet()
    {
        var first = s_compiler.Compile(Shop()).ThrowIfErrors();

        var second = s_compiler.Compile(Shop(), first);

        Assert.True(second.Delta!.IsEmpty, second.Delta.ToString());
        Assert.Equal(first, second.PolicySet);
    }

    [Fact]
    public void Compile_OnePodLabelChange_ReportsOnlyThatEndpointItsIdentityAndTheRuleSetsThatMention()
    {
        var snapshot = Shop();
        var first = s_compiler.Compile(snapshot).ThrowIfErrors();
        var relabelled = snapshot.Pods["shop/web"] with { Labels = LabelSet.Of("app", "api") };

        var second = s_compiler.Compile(snapshot.SetPod(relabelled), first);

        var delta = second.Delta!;
        Assert.Equal(["shop/web"], delta.ChangedEndpoints.ToArray());
        Assert.Empty(delta.AddedEndpoints);
        Assert.Empty(delta.RemovedEndpoints);
        Assert.Equal([first.Endpoints["shop/web"].Identity], delta.RemovedIdentities.ToArray());
        Assert.Empty(delta.AddedIdentities); // web now shares api's identity
        Assert.Equal(["198.18.0.1/32"], delta.UpsertedIPCacheEntries.Select(e => e.Prefix.ToString()));
        Assert.True(second.PolicySet!.Decide(relabelled.Addresses[0], snapshot.Pods["shop/db"].Addresses[0], TransportProtocol.Tcp, 5432));
        Assert.False(first.Decide(relabelled.Addresses[0], snapshot.Pods["shop/db"].Addresses[0], TransportProtocol.Tcp, 5432));
    }

    [Fact]
    public void Compile_PolicyAdded_KeepsExistingRuleSetNumbersAndAddsNewOnes()
    {
        var snapshot = Shop();
        var first = s_compiler.Compile(snapshot).ThrowIfErrors();
        var policy = AllowIngressFrom("shop", "api-from-web", LabelSelector.ForLabels("app", "api"), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "web") });

        var second = s_compiler.Compile(snapshot.SetPolicy(policy), first);

        Assert.Equal(["shop/api"], second.Delta!.ChangedEndpoints.ToArray());
        Assert.Equal(first.Endpoints["shop/db"].IngressRuleSet, second.PolicySet!.Endpoints["shop/db"].IngressRuleSet);
        Assert.Single(second.Delta.AddedRuleSets);
        Assert.Equal(first.NextRuleSet, second.Delta.AddedRuleSets[0]);
    }

    [Fact]
    public void Compile_PodRemoved_ReportsEndpointAndIPCacheRemoval()
    {
        var snapshot = Shop();
        var first = s_compiler.Compile(snapshot).ThrowIfErrors();

        var second = s_compiler.Compile(snapshot.RemovePod("shop/web"), first);

        Assert.Equal(["shop/web"], second.Delta!.RemovedEndpoints.ToArray());
        Assert.Equal(["198.18.0.1/32"], second.Delta.RemovedIPCachePrefixes.Select(p => p.ToString()));
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 150)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Compile_RandomChangeWithPrevious_StillAgreesWithReferenceAndKeepsNumbers(int seed)
    {
        var before = RandomCluster.Create(seed);
        var after = RandomCluster.Create(seed + 100_000);
        var first = s_compiler.Compile(before).ThrowIfErrors();

        var second = s_compiler.Compile(after, first).ThrowIfErrors();

        foreach (var identity in second.Identities.Identities)
        {
            if (first.Identities.TryGet(identity.Id, out var old))
            {
                Assert.Equal(old.LabelKey, identity.LabelKey);
            }
        }

        var evaluator = new PolicyEvaluator(after);
        foreach (var from in after.Pods.Values)
        {
            foreach (var to in after.Pods.Values)
            {
                if (from.AddressOf(System.Net.Sockets.AddressFamily.InterNetwork) is { } src && to.AddressOf(System.Net.Sockets.AddressFamily.InterNetwork) is { } dst)
                {
                    foreach (var port in RandomCluster.Ports)
                    {
                        Assert.True(
                            evaluator.Allows(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), TransportProtocol.Tcp, port) == second.Decide(src, dst, TransportProtocol.Tcp, port),
                            $"seed {seed}: {from.Key} -> {to.Key} TCP/{port}");
                    }
                }
            }
        }
    }
}
