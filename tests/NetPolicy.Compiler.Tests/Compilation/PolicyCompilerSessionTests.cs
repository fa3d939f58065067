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

    /// <summary>Random policy events (add, replace, remove) mixed with pod and namespace events: every result agrees with the reference
    /// evaluator, every delta equals the full diff between consecutive results, and the result enforces what a compile
    /// from scratch enforces.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void SetPolicyAndRemovePolicy_RandomEvents_AgreeWithReferenceAndReportExactDeltas(int seed) => RunPolicyEvents(seed, null);

    /// <summary>The random policy events above are not all recompiles in disguise: most are applied in place.</summary>
    [Fact]
    public void SetPolicyAndRemovePolicy_RandomEvents_MostAreAppliedInPlace()
    {
        var logs = new RecordingLoggerFactory();
        var events = Enumerable.Range(1, 60).Sum(seed => RunPolicyEvents(seed, logs));
        var inPlace = logs.Messages.Count(m => m.StartsWith("Incremental compile:", StringComparison.Ordinal));
        Assert.True(inPlace * 2 > events, $"{inPlace} of {events} events were applied in place");
    }

    private static int RunPolicyEvents(int seed, RecordingLoggerFactory? logs)
    {
        var random = new Random(seed);
        var snapshot = RandomCluster.Create(seed);
        var donor = RandomCluster.Create(seed + 9_000);
        var podDonor = RandomCluster.Create(seed + 7_000);
        var session = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { LoggerFactory = logs });
        var events = 0;
        for (var step = 0; step < 8; step++)
        {
            var before = session.Current.PolicySet!;
            var policies = session.Snapshot.Policies.Values.ToList();
            var namespaces = session.Snapshot.Namespaces.Keys.ToList();
            CompilationResult result;
            var choice = random.Next(8);
            if (choice == 7 && namespaces.Count > 1)
            {
                result = session.RemoveNamespace(namespaces[random.Next(namespaces.Count)]);
            }
            else if (choice == 0 && policies.Count > 0)
            {
                result = session.RemovePolicy(policies[random.Next(policies.Count)].Key);
            }
            else if (choice == 1 && session.Snapshot.Pods.Count > 0)
            {
                var template = podDonor.Pods.Values.ElementAt(random.Next(podDonor.Pods.Count));
                var target = session.Snapshot.Pods.Values.ElementAt(random.Next(session.Snapshot.Pods.Count));
                result = session.SetPod(template with { Namespace = target.Namespace, Name = target.Name, Addresses = target.Addresses });
            }
            else if (choice == 2)
            {
                // A namespace relabelled (team red, blue or none), or a new one.
                var name = random.Next(4) == 0 ? "nsnew" + step : namespaces[random.Next(namespaces.Count)];
                var team = random.Next(3) switch { 0 => "red", 1 => "blue", _ => null };
                result = session.SetNamespace(NamespaceDefinition.Create(name, team is null ? LabelSet.Empty : LabelSet.Of("team", team)));
            }
            else if (donor.Policies.Count > 0)
            {
                // A donor policy under an existing name (a replacement) or a new one, in one of this cluster's namespaces.
                var template = donor.Policies.Values.ElementAt(random.Next(donor.Policies.Count));
                var replace = policies.Count > 0 && random.Next(2) == 0 ? policies[random.Next(policies.Count)] : null;
                var policy = replace is not null
                    ? template with { Namespace = replace.Namespace, Name = replace.Name }
                    : template with { Namespace = namespaces[random.Next(namespaces.Count)], Name = "added" + step };
                result = session.SetPolicy(policy);
            }
            else
            {
                continue;
            }

            var after = result.ThrowIfErrors();
            var expected = after.DiffFrom(before);
            Assert.Equal(expected.ToString(), result.Delta!.ToString());
            Assert.Equal(expected.ChangedEndpoints.ToArray(), result.Delta.ChangedEndpoints.ToArray());
            Assert.Equal(expected.AddedRuleSets.ToArray(), result.Delta.AddedRuleSets.ToArray());
            Assert.Equal(expected.ChangedRuleSets.ToArray(), result.Delta.ChangedRuleSets.ToArray());
            Assert.Equal(expected.RemovedRuleSets.ToArray(), result.Delta.RemovedRuleSets.ToArray());
            Assert.Equal(expected.AddedPeerSets.ToArray(), result.Delta.AddedPeerSets.ToArray());
            Assert.Equal(expected.RemovedPeerSets.ToArray(), result.Delta.RemovedPeerSets.ToArray());
            AssertReferencesResolve(after, seed);
            AssertAgreesWithReference(session.Snapshot, after, seed);
            events++;
        }

        return events;
    }

    [Fact]
    public void SetPolicy_AddPortToRule_IsAppliedInPlaceAndChangesOnlyThatRuleSet()
    {
        var api = new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "api") };
        var snapshot = Snapshot(
            [Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "api", "198.18.0.2", "app", "api"), Pod("shop", "db", "198.18.0.3", "app", "db")],
            [
                AllowIngressFrom("shop", "db", LabelSelector.ForLabels("app", "db"), api, new NetworkPolicyPort { Port = 5432 }),
                AllowIngressFrom("shop", "web", LabelSelector.ForLabels("app", "web"), api, new NetworkPolicyPort { Port = 80 }),
            ]);
        var logs = new RecordingLoggerFactory();
        var session = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { LoggerFactory = logs });
        var before = session.Current.PolicySet!;
        var db = session.Snapshot.Policies["shop/db"];
        var rule = db.Ingress[0] with { Ports = [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Port = 7777 }] };

        var result = session.SetPolicy(db with { Ingress = [rule] });

        Assert.Contains(logs.Messages, m => m.StartsWith("Incremental compile:", StringComparison.Ordinal));
        var dbRuleSet = before.Endpoints["shop/db"].IngressRuleSet!.Value;
        Assert.Equal([dbRuleSet], result.Delta!.ChangedRuleSets.ToArray());
        Assert.True(result.Delta.ChangedEndpoints.IsEmpty);
        Assert.Same(before.RuleSets[before.Endpoints["shop/web"].IngressRuleSet!.Value], result.PolicySet!.RuleSets[before.Endpoints["shop/web"].IngressRuleSet!.Value]);
        Assert.True(result.PolicySet.Decide(System.Net.IPAddress.Parse("198.18.0.2"), System.Net.IPAddress.Parse("198.18.0.3"), TransportProtocol.Tcp, 7777));
        Assert.False(before.Decide(System.Net.IPAddress.Parse("198.18.0.2"), System.Net.IPAddress.Parse("198.18.0.3"), TransportProtocol.Tcp, 7777));

        var removed = session.RemovePolicy("shop/db");
        Assert.Equal(["shop/db"], removed.Delta!.ChangedEndpoints.ToArray());
        Assert.Equal([dbRuleSet], removed.Delta.RemovedRuleSets.ToArray());
        Assert.Equal(2, logs.Messages.Count(m => m.StartsWith("Incremental compile:", StringComparison.Ordinal)));
        Assert.Null(removed.PolicySet!.Endpoints["shop/db"].IngressRuleSet);
    }

    [Fact]
    public void SetPolicy_NewIPBlock_RecompilesSoTheAddressClassesAreCutAgain()
    {
        var snapshot = Snapshot([Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("shop", "db", "198.18.0.3", "app", "db")]);
        var logs = new RecordingLoggerFactory();
        var session = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { LoggerFactory = logs });
        var policy = AllowIngressFrom("shop", "db", LabelSelector.ForLabels("app", "db"), new NetworkPolicyPeer { IPBlock = new IPBlock(System.Net.IPNetwork.Parse("198.19.0.0/16"), []) });

        var result = session.SetPolicy(policy);

        Assert.DoesNotContain(logs.Messages, m => m.StartsWith("Incremental compile:", StringComparison.Ordinal));
        Assert.True(result.PolicySet!.Decide(System.Net.IPAddress.Parse("198.19.4.4"), System.Net.IPAddress.Parse("198.18.0.3"), TransportProtocol.Tcp, 80));
        Assert.False(result.PolicySet.Decide(System.Net.IPAddress.Parse("198.18.0.1"), System.Net.IPAddress.Parse("198.18.0.3"), TransportProtocol.Tcp, 80));
    }

    [Fact]
    public void RemoveNamespace_IsAppliedInPlaceAndMatchesAFreshCompileWithTheSameNumbers()
    {
        var removedSomewhere = 0;
        for (var seed = 1; seed <= 80; seed++)
        {
            var snapshot = RandomCluster.Create(seed);
            if (snapshot.Namespaces.Count < 2)
            {
                continue;
            }

            var logs = new RecordingLoggerFactory();
            var session = new PolicyCompilerSession(snapshot, new PolicyCompilerOptions { LoggerFactory = logs });
            var before = session.Current.PolicySet!;
            var name = snapshot.Namespaces.Keys.First();
            var result = session.RemoveNamespace(name);
            var after = result.ThrowIfErrors();

            Assert.DoesNotContain(after.Endpoints.Keys, k => k.StartsWith(name + "/", StringComparison.Ordinal));
            Assert.Equal(after.DiffFrom(before).ToString(), result.Delta!.ToString());
            // The same identities and endpoint isolation as a fresh compile with the previous numbering (address classes
            // of removed ipBlocks stay until the next full compile, as with RemovePolicy; they match no rule).
            var fresh = new PolicyCompiler().Compile(snapshot.RemoveNamespace(name), before).ThrowIfErrors();
            Assert.Equal(fresh.Identities, after.Identities);
            Assert.Equal(
                fresh.Endpoints.Values.Select(e => (e.Pod, e.Identity, e.IngressIsolated, e.EgressIsolated, e.IngressPolicies.Length, e.EgressPolicies.Length)),
                after.Endpoints.Values.Select(e => (e.Pod, e.Identity, e.IngressIsolated, e.EgressIsolated, e.IngressPolicies.Length, e.EgressPolicies.Length)));
            AssertAgreesWithReference(session.Snapshot, after, seed);
            removedSomewhere += logs.Messages.Count(m => m.StartsWith("Incremental compile:", StringComparison.Ordinal));

            // Unknown namespaces are a no-op with an empty delta.
            var again = session.RemoveNamespace("no-such-namespace");
            Assert.Same(after, again.PolicySet);
            Assert.Equal(new NetPolicy.Compiler.Ir.CompilationDelta().ToString(), again.Delta!.ToString());
        }

        Assert.True(removedSomewhere > 40, $"only {removedSomewhere} namespace removals were applied in place");
    }

    [Fact]
    public void SetNamespace_LabelChange_KeepsPodIdentityNumbersOfOtherNamespaces()
    {
        var snapshot = Snapshot([Pod("shop", "web", "198.18.0.1", "app", "web"), Pod("dev", "db", "198.18.0.3", "app", "db")]);
        var session = new PolicyCompilerSession(snapshot);
        var devIdentity = session.Current.PolicySet!.Endpoints["dev/db"].Identity;

        var result = session.SetNamespace(NamespaceDefinition.Create("shop", LabelSet.Of("team", "red")));

        Assert.Equal(devIdentity, result.PolicySet!.Endpoints["dev/db"].Identity);
        Assert.Equal(["shop/web"], result.Delta!.ChangedEndpoints.ToArray());
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

    /// <summary>Every identifier the result refers to exists: endpoints to rule sets, rules to peer sets.</summary>
    private static void AssertReferencesResolve(Ir.CompiledPolicySet compiled, int seed)
    {
        foreach (var endpoint in compiled.Endpoints.Values)
        {
            foreach (var id in new[] { endpoint.IngressRuleSet, endpoint.EgressRuleSet })
            {
                Assert.True(id is null || compiled.RuleSets.ContainsKey(id.Value), $"seed {seed}: {endpoint.Pod} refers to missing rule set {id}");
            }
        }

        var used = compiled.Endpoints.Values.SelectMany(e => new[] { e.IngressRuleSet, e.EgressRuleSet }).OfType<int>().ToHashSet();
        foreach (var ruleSet in compiled.RuleSets.Values)
        {
            Assert.True(used.Contains(ruleSet.Id), $"seed {seed}: rule set {ruleSet.Id} is in the output but no endpoint uses it");
            foreach (var rule in ruleSet.Rules)
            {
                Assert.True(compiled.PeerSets.ContainsKey(rule.PeerSet), $"seed {seed}: rule set {ruleSet.Id} refers to missing peer set {rule.PeerSet}");
            }
        }
    }

    private sealed class RecordingLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Messages { get; } = [];

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
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
