using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Bpf;

public sealed class BpfIncrementalRenderTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 300)];

    /// <summary>Random pod and policy events through a session: every incremental render is byte for byte the full
    /// render with the previous endpoint ids (maps, ids and rule attribution).</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void RenderChanges_RandomEvents_EqualsFullRender(int seed) => RunEvents(seed, hostAddresses: seed % 3 == 0);

    /// <summary>The same with per-node images (<see cref="BpfRenderOptions.LocalEndpoints"/>): pods are spread over two
    /// nodes, pods added later land on either, and the images are node-a's.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void RenderChanges_RandomEventsLocalEndpoints_EqualsFullRender(int seed) => RunEvents(seed, hostAddresses: seed % 3 == 0, local: true);

    [Fact]
    public void RenderChanges_LocalEndpointsRandomEvents_MostArePatches()
    {
        var (patched, total) = Enumerable.Range(1, 80).Select(seed => RunEvents(seed, hostAddresses: false, local: true)).Aggregate((a, b) => (a.Patched + b.Patched, a.Total + b.Total));
        Assert.True(patched * 2 > total, $"{patched} of {total} renders were patches");
    }

    /// <summary>A set that changes other than through the delta (a pod already compiled becomes local) renders in full,
    /// so the images still program exactly the set's pods.</summary>
    [Fact]
    public void RenderChanges_LocalSetGrowsOutsideTheDelta_RendersTheNewSet()
    {
        var session = new PolicyCompilerSession(Snapshot([Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "api", "198.18.0.2", "app", "api")]));
        var before = BpfMapRenderer.Render(session.Current.PolicySet!, new BpfRenderOptions { LocalEndpoints = new HashSet<string> { "shop/web" } }).ThrowIfErrors();
        var result = session.SetPod(Pod("shop", "db", "198.18.0.3", "app", "db"));

        var after = BpfMapRenderer.RenderChanges(result.PolicySet!, result.Delta!, before, new BpfRenderOptions { LocalEndpoints = new HashSet<string> { "shop/web", "shop/api" } }).ThrowIfErrors();

        Assert.Equal(["shop/api", "shop/web"], after.EndpointIds.Keys);
        Assert.Equal(2, after.Endpoints.Length);
    }

    /// <summary>The equality above is not the fallback in disguise: most renders patch the previous images (the LPM
    /// image, untouched by pod and policy events, is then the previous object).</summary>
    [Fact]
    public void RenderChanges_RandomEvents_MostArePatches()
    {
        var (patched, total) = Enumerable.Range(1, 80).Select(seed => RunEvents(seed, hostAddresses: false)).Aggregate((a, b) => (a.Patched + b.Patched, a.Total + b.Total));
        Assert.True(patched * 2 > total, $"{patched} of {total} renders were patches");
    }

    [Fact]
    public void RenderChanges_PortAddedToRule_ChangesOnlyThatRuleSetsEntries()
    {
        var api = new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") };
        var snapshot = Snapshot(
            [Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "api", "198.18.0.2", "app", "api"), Pod("shop", "db", "198.18.0.3", "app", "db")],
            [AllowIngressFrom("shop", "db", LabelSelector.ForLabels("app", "db"), api, new NetworkPolicyPort { Port = 5432 })]);
        var session = new PolicyCompilerSession(snapshot);
        var before = BpfMapRenderer.Render(session.Current.PolicySet!).ThrowIfErrors();
        var policy = session.Snapshot.Policies["shop/db"];

        var result = session.SetPolicy(policy with { Ingress = [policy.Ingress[0] with { Ports = [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Port = 7777 }] }] });
        var after = BpfMapRenderer.RenderChanges(result.PolicySet!, result.Delta!, before).ThrowIfErrors();

        var delta = after.DiffFrom(before);
        var change = Assert.Single(delta.Changes);
        Assert.Equal(BpfConstants.PolicyMapName, change.Map);
        Assert.Equal(BpfMapChangeKind.Upsert, change.Kind);
        Assert.Equal(7777, BpfPolicyKey.ReadFrom(Assert.Single(change.Entries).Key.Span).Port);
        Assert.Same(before.Maps[0], after.Maps[0]);
        Assert.Equal(before.EndpointIds, after.EndpointIds);
    }

    /// <summary>Two policies whose rule attributions hash to the same rule id: the second in (hash, text) order is moved
    /// to the next id. Removing or adding either must give the ids a full render gives, whether the render patches or
    /// falls back.</summary>
    [Theory]
    [InlineData(new[] { 0, 1 }, new[] { 1 })]
    [InlineData(new[] { 0, 1 }, new[] { 0 })]
    [InlineData(new[] { 0 }, new[] { 0, 1 })]
    [InlineData(new[] { 1 }, new[] { 0, 1 })]
    [InlineData(new int[0], new[] { 1 })]
    public void RenderChanges_RuleIdHashCollision_EqualsFullRender(int[] before, int[] after)
    {
        var names = CollidingPolicyNames();
        // Each policy isolates a pod of its own, so removing one leaves the other's entries (and rule id) untouched.
        NetworkPolicyDefinition Policy(int i) => AllowIngressFrom(
            "shop", names[i], LabelSelector.ForLabels("app", "db" + i), new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") }, new NetworkPolicyPort { Port = 1000 + i });
        var session = new PolicyCompilerSession(Snapshot(
            [Pod("shop", "api", "198.18.0.2", "app", "api"), Pod("shop", "db0", "198.18.0.3", "app", "db0"), Pod("shop", "db1", "198.18.0.4", "app", "db1")], before.Select(Policy)));
        var images = BpfMapRenderer.Render(session.Current.PolicySet!).ThrowIfErrors();
        CompilationResult result = session.Current;
        foreach (var i in before.Except(after))
        {
            result = session.RemovePolicy("shop/" + names[i]);
            images = Step(result, images);
        }

        foreach (var i in after.Except(before))
        {
            result = session.SetPolicy(Policy(i));
            images = Step(result, images);
        }

        Assert.Equal(after.Length, images.RuleAttribution.Count);

        static BpfMapImages Step(CompilationResult result, BpfMapImages images)
        {
            var incremental = BpfMapRenderer.RenderChanges(result.PolicySet!, result.Delta!, images).ThrowIfErrors();
            var full = BpfMapRenderer.Render(result.PolicySet!, new BpfRenderOptions { EndpointIds = images.EndpointIds }).ThrowIfErrors();
            Assert.Equal(full.RuleAttribution.Keys.ToArray(), incremental.RuleAttribution.Keys.ToArray());
            Assert.True(full.Equals(incremental), $"incremental {incremental} differs from full {full}");
            return incremental;
        }
    }

    /// <summary>Finds two policy names whose single rule attributions hash to one rule id (a birthday search over the 31-bit hash).</summary>
    private static string[] CollidingPolicyNames()
    {
        var seen = new Dictionary<uint, string>();
        for (var n = 0; ; n++)
        {
            var name = "p" + n;
            var hash = BpfMapRenderer.HashAttribution(BpfMapRenderer.AttributionText([new RuleReference("shop/" + name, PolicyDirection.Ingress, 0, 0, 0)]));
            if (seen.TryGetValue(hash, out var other))
            {
                return [other, name];
            }

            seen.Add(hash, name);
        }
    }

    [Fact]
    public void RenderChanges_OtherEndpointIds_Throws()
    {
        var session = new PolicyCompilerSession(Snapshot([Pod("shop", "web", "198.18.0.1", "app", "web")]));
        var before = BpfMapRenderer.Render(session.Current.PolicySet!).ThrowIfErrors();
        var result = session.SetPod(Pod("shop", "api", "198.18.0.2", "app", "api"));

        var error = Assert.Throws<ArgumentException>(() => BpfMapRenderer.RenderChanges(result.PolicySet!, result.Delta!, before, new BpfRenderOptions { EndpointIds = new Dictionary<string, uint> { ["shop/web"] = 9 } }));
        Assert.Contains("EndpointIds", error.Message, StringComparison.Ordinal);
    }

    private static (int Patched, int Total) RunEvents(int seed, bool hostAddresses, bool local = false)
    {
        var random = new Random(seed);
        var snapshot = RandomCluster.Create(seed);
        if (local)
        {
            foreach (var pod in snapshot.Pods.Values)
            {
                snapshot = snapshot.SetPod(pod with { NodeName = random.Next(2) == 0 ? "node-a" : "node-b" });
            }
        }

        var donor = RandomCluster.Create(seed + 9_000);
        var podDonor = RandomCluster.Create(seed + 7_000);
        var hosts = hostAddresses ? [IPAddress.Parse("198.18.0.10"), IPAddress.Parse("198.18.200.1")] : ImmutableArray<IPAddress>.Empty;
        BpfRenderOptions Options(ClusterSnapshot current) => new()
        {
            HostAddresses = hosts,
            LocalEndpoints = local ? current.Pods.Values.Where(p => p.NodeName == "node-a").Select(p => p.Key).ToHashSet() : null,
        };

        var options = Options(snapshot);
        var session = new PolicyCompilerSession(snapshot);
        var images = BpfMapRenderer.Render(session.Current.PolicySet!, options).ThrowIfErrors();
        var patched = 0;
        var total = 0;
        for (var step = 0; step < 8; step++)
        {
            var pods = session.Snapshot.Pods.Values.ToList();
            var policies = session.Snapshot.Policies.Values.ToList();
            var namespaces = session.Snapshot.Namespaces.Keys.ToList();
            CompilationResult result;
            switch (random.Next(5))
            {
                case 0 when pods.Count > 1:
                    result = session.RemovePod(pods[random.Next(pods.Count)].Key);
                    break;
                case 1 when policies.Count > 0:
                    result = session.RemovePolicy(policies[random.Next(policies.Count)].Key);
                    break;
                case 2 when donor.Policies.Count > 0:
                    var template = donor.Policies.Values.ElementAt(random.Next(donor.Policies.Count));
                    var replace = policies.Count > 0 && random.Next(2) == 0 ? policies[random.Next(policies.Count)] : null;
                    result = session.SetPolicy(replace is not null
                        ? template with { Namespace = replace.Namespace, Name = replace.Name }
                        : template with { Namespace = namespaces[random.Next(namespaces.Count)], Name = "added" + step });
                    break;
                default:
                    var pod = podDonor.Pods.Values.ElementAt(random.Next(podDonor.Pods.Count));
                    var existing = pods.Count > 0 && random.Next(2) == 0 ? pods[random.Next(pods.Count)] : null;
                    result = session.SetPod(existing is not null
                        ? pod with { Namespace = existing.Namespace, Name = existing.Name, Addresses = existing.Addresses, NodeName = existing.NodeName }
                        : pod with { Namespace = namespaces[random.Next(namespaces.Count)], Name = "new" + step, Addresses = [IPAddress.Parse($"198.19.{seed % 200}.{10 + step}")], NodeName = local ? (random.Next(2) == 0 ? "node-a" : "node-b") : null });
                    break;
            }

            var policySet = result.ThrowIfErrors();
            options = Options(session.Snapshot);
            var incremental = BpfMapRenderer.RenderChanges(policySet, result.Delta!, images, options);
            var full = BpfMapRenderer.Render(policySet, new BpfRenderOptions { HostAddresses = options.HostAddresses, EndpointIds = images.EndpointIds, LocalEndpoints = options.LocalEndpoints });
            Assert.True(full.Success, $"seed {seed} step {step}: {string.Join("; ", full.Diagnostics)}");
            Assert.Equal(full.Diagnostics.Select(d => d.ToString()), incremental.Diagnostics.Select(d => d.ToString()));
            var next = incremental.ThrowIfErrors();
            Assert.True(full.Images!.Equals(next), $"seed {seed} step {step}: incremental {next} differs from full {full.Images}\n{string.Join("\n", full.Images.DiffFrom(next).Changes.Take(5))}");
            Assert.Equal(full.Images.EndpointIds.ToArray(), next.EndpointIds.ToArray());
            Assert.Equal(full.Images.RuleAttribution.Keys.ToArray(), next.RuleAttribution.Keys.ToArray());
            Assert.True(next.Equals(next.DiffFrom(images).ApplyTo(images)), $"seed {seed} step {step}: the delta from the previous images does not lead to the new ones");
            patched += ReferenceEquals(next.Maps[1], images.Maps[1]) ? 1 : 0;
            total++;
            images = next;
        }

        return (patched, total);
    }
}
