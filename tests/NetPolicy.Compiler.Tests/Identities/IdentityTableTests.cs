using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Model;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Identities;

public sealed class IdentityTableTests
{
    private static readonly PolicyCompiler s_compiler = new();

    [Fact]
    public void Compile_PodsWithSameLabelsInOneNamespace_ShareOneIdentity()
    {
        var snapshot = Snapshot([Pod("a", "p1", "198.18.0.1", "app", "web"), Pod("a", "p2", "198.18.0.2", "app", "web"), Pod("b", "p3", "198.18.0.3", "app", "web")]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        Assert.Equal(ir.Endpoints["a/p1"].Identity, ir.Endpoints["a/p2"].Identity);
        Assert.NotEqual(ir.Endpoints["a/p1"].Identity, ir.Endpoints["b/p3"].Identity);
        Assert.Equal(4, ir.Identities.Count); // host, world and two pod identities
    }

    [Fact]
    public void Compile_ColdCompile_AllocatesFrom256InCanonicalLabelOrder()
    {
        var snapshot = Snapshot([Pod("b", "p", "198.18.0.1", "app", "z"), Pod("a", "q", "198.18.0.2", "app", "y"), Pod("a", "r", "198.18.0.3", "app", "x")]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        Assert.Equal(256u, ir.Endpoints["a/r"].Identity);
        Assert.Equal(257u, ir.Endpoints["a/q"].Identity);
        Assert.Equal(258u, ir.Endpoints["b/p"].Identity);
        Assert.Equal(259u, ir.Identities.NextIdentity);
    }

    [Fact]
    public void Compile_PodLabelKeyedHost_NeverGetsTheReservedHostIdentity()
    {
        var snapshot = Snapshot([Pod("a", "p", "198.18.0.1", "host", ""), Pod("a", "q", "198.18.0.2", "reserved", "host")]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        Assert.True(ir.Identities.TryGet(ReservedIdentities.Host, out var host));
        Assert.Equal("reserved:host", Assert.Single(host.Labels).ToString());
        foreach (var endpoint in ir.Endpoints.Values)
        {
            Assert.True(endpoint.Identity >= ReservedIdentities.FirstPodIdentity);
            Assert.True(ir.Identities.TryGet(endpoint.Identity, out var identity));
            Assert.DoesNotContain(identity.Labels, l => l.Source == IdentityLabelSource.Reserved);
        }

        Assert.Contains(ir.Identities.Identities, i => i.Labels.Any(l => l.ToString() == "pod:host="));
    }

    [Fact]
    public void Compile_PodLabelSpelledLikeNamespaceLabel_DoesNotImpersonateTheNamespace()
    {
        // A pod in namespace 'a' labelled like Cilium's namespace label key must not look like a pod of namespace 'b'.
        var impostor = Pod("a", "impostor", "198.18.0.1", "io.kubernetes.pod.namespace", "b");
        var real = Pod("b", "real", "198.18.0.2");
        var target = Pod("c", "target", "198.18.0.3", "app", "db");
        var policy = AllowIngressFrom("c", "from-b", LabelSelector.ForLabels("app", "db"),
            new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels(NamespaceDefinition.NameLabel, "b") });
        var snapshot = Snapshot([impostor, real, target], [policy]);

        var ir = s_compiler.Compile(snapshot).ThrowIfErrors();

        Assert.NotEqual(ir.Endpoints["a/impostor"].Identity, ir.Endpoints["b/real"].Identity);
        Assert.True(ir.Decide(real.Addresses[0], target.Addresses[0], TransportProtocol.Tcp, 80));
        Assert.False(ir.Decide(impostor.Addresses[0], target.Addresses[0], TransportProtocol.Tcp, 80));
        Assert.False(new PolicyEvaluator(snapshot).Allows("a/impostor", "c/target", TransportProtocol.Tcp, 80));
    }

    [Fact]
    public void Compile_WithPreviousTable_KeepsEveryAssignmentAndAllocatesOnlyNewLabelSets()
    {
        var before = Snapshot([Pod("a", "p", "198.18.0.1", "app", "m"), Pod("a", "q", "198.18.0.2", "app", "n")]);
        var first = s_compiler.Compile(before).ThrowIfErrors();

        // 'app=a' sorts before both existing label sets; it must not renumber them.
        var after = before.SetPod(Pod("a", "r", "198.18.0.3", "app", "a"));
        var second = s_compiler.Compile(after, first).ThrowIfErrors();

        Assert.Equal(first.Endpoints["a/p"].Identity, second.Endpoints["a/p"].Identity);
        Assert.Equal(first.Endpoints["a/q"].Identity, second.Endpoints["a/q"].Identity);
        Assert.Equal(first.Identities.NextIdentity, second.Endpoints["a/r"].Identity);
    }

    [Fact]
    public void Compile_LabelSetRemovedThenAdded_DoesNotReuseItsNumber()
    {
        var snapshot = Snapshot([Pod("a", "p", "198.18.0.1", "app", "m"), Pod("a", "q", "198.18.0.2", "app", "n")]);
        var first = s_compiler.Compile(snapshot).ThrowIfErrors();
        var removed = s_compiler.Compile(snapshot.RemovePod("a/q"), first).ThrowIfErrors();

        var readded = s_compiler.Compile(snapshot.RemovePod("a/q").SetPod(Pod("a", "z", "198.18.0.9", "app", "o")), removed).ThrowIfErrors();

        Assert.DoesNotContain(first.Endpoints["a/q"].Identity, removed.Identities.Identities.Select(i => i.Id));
        Assert.True(readded.Endpoints["a/z"].Identity > first.Endpoints["a/q"].Identity);
    }

    [Fact]
    public void Compile_NamespaceLabelsChange_GivesThePodsANewIdentity()
    {
        var pods = new[] { Pod("a", "p", "198.18.0.1", "app", "m") };
        var first = s_compiler.Compile(Snapshot(pods, namespaces: [NamespaceDefinition.Create("a", LabelSet.Of("team", "red"))])).ThrowIfErrors();

        var second = s_compiler.Compile(Snapshot(pods, namespaces: [NamespaceDefinition.Create("a", LabelSet.Of("team", "blue"))]), first).ThrowIfErrors();

        Assert.NotEqual(first.Endpoints["a/p"].Identity, second.Endpoints["a/p"].Identity);
        Assert.True(second.Identities.TryGet(second.Endpoints["a/p"].Identity, out var identity));
        Assert.Contains(identity.Labels, l => l.ToString() == "nslabel:team=blue");
        Assert.Contains(identity.Labels, l => l.ToString() == "ns:name=a");
        Assert.Contains(identity.Labels, l => l.ToString() == "nslabel:kubernetes.io/metadata.name=a");
    }

    [Fact]
    public void IdentityTable_TwoSeparateCompiles_CompareEqual()
    {
        var make = () => Snapshot([Pod("a", "p", "198.18.0.1", "app", "m"), Pod("b", "q", "198.18.0.2")]);

        var first = s_compiler.Compile(make()).ThrowIfErrors();
        var second = s_compiler.Compile(make()).ThrowIfErrors();

        Assert.Equal(first.Identities, second.Identities);
        Assert.Equal(first, second);
    }
}
