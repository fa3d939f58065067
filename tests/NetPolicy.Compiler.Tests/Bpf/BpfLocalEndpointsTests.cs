using System.Net;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Compilation;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Tests.Bpf;

/// <summary><see cref="BpfRenderOptions.LocalEndpoints"/>: per-node images hold only the node's pods as endpoints and only
/// the rule sets they use, keep every pod in the ipcache, and still decide every flow as the reference evaluator does when
/// each pod's programs run on its own node's images.</summary>
public sealed class BpfLocalEndpointsTests
{
    private static readonly int[] s_ports = [.. RandomCluster.Ports];

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 120)];

    [Fact]
    public void Render_LocalEndpoints_ProgramsOnlyThosePodsAndTheRuleSetsTheyUse()
    {
        var ir = BpfFixture.Compile();
        var everything = BpfMapRenderer.Render(ir).ThrowIfErrors();

        var images = BpfMapRenderer.Render(ir, new BpfRenderOptions { LocalEndpoints = new HashSet<string> { "a/db", "b/client", "gone/pod" } }).ThrowIfErrors();

        Assert.Equal([KeyValuePair.Create("a/db", 1u), KeyValuePair.Create("b/client", 2u)], images.EndpointIds);
        var used = new[] { ir.Endpoints["a/db"].IngressRuleSet, ir.Endpoints["b/client"].IngressRuleSet, ir.Endpoints["b/client"].EgressRuleSet }
            .Select(id => (uint)id!.Value).ToHashSet();
        Assert.Equal(used.Order(), images.RuleSets.Select(e => e.Key).Order());
        Assert.Equal(
            everything.Policy.Where(e => used.Contains(e.Key.RuleSet)).Select(e => (e.Key, e.Value)),
            images.Policy.Select(e => (e.Key, e.Value)));
        Assert.DoesNotContain(images.RuleSets, e => e.Key == (uint)ir.Endpoints["a/web"].EgressRuleSet!.Value);

        // Every pod can be a peer: the ipcache is the whole cluster's.
        Assert.Equal(everything.Maps[0], images.Maps[0]);
        Assert.Equal(everything.Maps[1], images.Maps[1]);
    }

    [Fact]
    public void Render_LocalEndpointsOverflow_NamesTheNodesPodCount()
    {
        var ir = BpfFixture.Compile();

        var cluster = BpfMapRenderer.Render(ir, new BpfRenderOptions { MaxEndpoints = 3 });
        var local = BpfMapRenderer.Render(ir, new BpfRenderOptions { MaxEndpoints = 3, LocalEndpoints = new HashSet<string> { "a/db", "b/client" } });

        Assert.Null(cluster.Images);
        Assert.Contains("BpfRenderOptions.LocalEndpoints", Assert.Single(cluster.Diagnostics).Message, StringComparison.Ordinal);
        Assert.True(local.Success);
    }

    /// <summary>Pods spread over two nodes, each node's images rendered with its own pods: the source's egress program runs
    /// on its node's images, the destination's ingress program on its node's, and together they decide every flow as the
    /// reference evaluator does.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Datapath_TwoNodes_AgreesWithReferenceEvaluator(int seed)
    {
        var snapshot = RandomCluster.Create(seed);
        var evaluator = new PolicyEvaluator(snapshot);
        var compiled = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var nodes = snapshot.Pods.Keys.Select((key, index) => (key, index)).ToDictionary(p => p.key, p => (p.index + seed) % 2);
        var images = Enumerable.Range(0, 2)
            .Select(node => BpfMapRenderer.Render(compiled, new BpfRenderOptions { LocalEndpoints = nodes.Where(p => p.Value == node).Select(p => p.Key).ToHashSet() }).ThrowIfErrors())
            .ToArray();
        var datapaths = images.Select(i => new BpfImageDatapath(i)).ToArray();
        var mismatches = new List<string>();
        var flows = 0;
        foreach (var flow in FlowSpace.Enumerate(snapshot, s_ports, RandomCluster.ExternalAddresses))
        {
            if (flow.FromPod is not null && ReferenceEquals(flow.FromPod, flow.ToPod))
            {
                continue;
            }

            flows++;
            var from = flow.FromPod is null ? FlowEndpoint.ForAddress(flow.Source) : FlowEndpoint.ForPod(flow.FromPod);
            var to = flow.ToPod is null ? FlowEndpoint.ForAddress(flow.Destination) : FlowEndpoint.ForPod(flow.ToPod);
            var expected = evaluator.Evaluate(from, to, flow.Protocol, flow.Port, flow.Source.AddressFamily).Allowed;
            var src = BpfAddress.FromIPAddress(flow.Source);
            var dst = BpfAddress.FromIPAddress(flow.Destination);
            var protocol = BpfImageDatapath.Protocol(flow.Protocol);
            var egress = flow.FromPod is { } fromPod
                ? datapaths[nodes[fromPod.Key]].Handle(images[nodes[fromPod.Key]].EndpointIds[fromPod.Key], BpfConstants.DirectionEgress, src, dst, protocol, (ushort)flow.Port).Allowed
                : true;
            var ingress = flow.ToPod is { } toPod
                ? datapaths[nodes[toPod.Key]].Handle(images[nodes[toPod.Key]].EndpointIds[toPod.Key], BpfConstants.DirectionIngress, src, dst, protocol, (ushort)flow.Port).Allowed
                : true;
            if (expected != (egress && ingress) && mismatches.Count < 5)
            {
                mismatches.Add($"{from}({flow.Source}) -> {to}({flow.Destination}) {flow.Protocol}/{flow.Port}: reference {expected}, egress {egress}, ingress {ingress}");
            }
        }

        Assert.True(flows > 0);
        Assert.True(mismatches.Count == 0, $"seed {seed}:\n" + string.Join("\n", mismatches));
        Assert.Equal(snapshot.Pods.Count, images.Sum(i => i.EndpointIds.Count));
    }

    [Fact]
    public void Render_LocalEndpoints_IsDeterministicWhateverTheSetsOrder()
    {
        var ir = BpfFixture.Compile();

        var a = BpfMapRenderer.Render(ir, new BpfRenderOptions { LocalEndpoints = new HashSet<string> { "b/client", "a/db", "a/web" } }).ThrowIfErrors();
        var b = BpfMapRenderer.Render(ir, new BpfRenderOptions { LocalEndpoints = new SortedSet<string>(StringComparer.Ordinal) { "a/web", "a/db", "b/client" } }).ThrowIfErrors();

        Assert.True(a.Equals(b));
        Assert.Equal(a.EndpointIds, b.EndpointIds);
    }

    [Fact]
    public void PodEndpoint_NodeName_ComesFromSpecAndTakesPartInEquality()
    {
        var pod = new k8s.Models.V1Pod
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "web", NamespaceProperty = "shop" },
            Spec = new k8s.Models.V1PodSpec { NodeName = "node-a", Containers = [new k8s.Models.V1Container { Name = "c" }] },
            Status = new k8s.Models.V1PodStatus { PodIP = "198.18.0.1" },
        };

        var snapshot = ClusterSnapshot.Create([], [pod], []);

        var endpoint = snapshot.Pods["shop/web"];
        Assert.Equal("node-a", endpoint.NodeName);
        Assert.NotEqual(endpoint, endpoint with { NodeName = "node-b" });
        Assert.Equal(endpoint, endpoint with { NodeName = "node-a" });
        pod.Spec.NodeName = null;
        Assert.Null(ClusterSnapshot.Create([], [pod], []).Pods["shop/web"].NodeName);
    }
}
