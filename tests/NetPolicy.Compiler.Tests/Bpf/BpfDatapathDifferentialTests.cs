using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Compilation;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Tests.Bpf;

/// <summary>The map images, decided by an emulation of the C datapath (<see cref="BpfImageDatapath"/>), must agree with the
/// reference evaluator on every flow of randomly generated clusters: pod pairs and pods to and from external addresses,
/// every probe port, TCP, UDP and SCTP. A disagreement is a bug in the renderer or in the C lookup algorithm.</summary>
public sealed class BpfDatapathDifferentialTests
{
    // The probe ports of the IR test plus the edges of the port blocks RandomCluster's ranges (80-81, 80-481) split into.
    private static readonly int[] s_ports = [.. RandomCluster.Ports.Concat([1, 79, 82, 95, 96, 127, 128, 255, 256, 383, 384, 447, 448, 479, 480, 481, 482, 65535]).Distinct().Order()];

    public static TheoryData<int> Seeds() => DifferentialTests.Seeds();

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Datapath_RandomCluster_AgreesWithReferenceEvaluator(int seed)
    {
        var snapshot = RandomCluster.Create(seed);
        var evaluator = new PolicyEvaluator(snapshot);
        var compiled = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var images = BpfMapRenderer.Render(compiled).ThrowIfErrors();
        var datapath = new BpfImageDatapath(images);
        var mismatches = new List<string>();
        var flows = 0;

        void Check(PodEndpoint? fromPod, PodEndpoint? toPod, IPAddress src, IPAddress dst, TransportProtocol protocol, int port)
        {
            flows++;
            var from = fromPod is null ? FlowEndpoint.ForAddress(src) : FlowEndpoint.ForPod(fromPod);
            var to = toPod is null ? FlowEndpoint.ForAddress(dst) : FlowEndpoint.ForPod(toPod);
            var expected = evaluator.Evaluate(from, to, protocol, port, src.AddressFamily);

            // Traffic of a pod to itself never crosses its veth: the datapath does not see it.
            if (fromPod is not null && ReferenceEquals(fromPod, toPod))
            {
                Assert.True(expected.Allowed);
                return;
            }

            var actual = datapath.Decide(
                fromPod is null ? null : images.EndpointIds[fromPod.Key], src,
                toPod is null ? null : images.EndpointIds[toPod.Key], dst,
                BpfImageDatapath.Protocol(protocol), port);
            var problem = expected.Allowed != actual.Allowed
                ? $"reference {(expected.Allowed ? "allows" : "denies")}, BPF {(actual.Allowed ? "allows" : "denies")} ({actual})\n{expected.Explain()}"
                : AttributionProblem(images, expected.Egress, actual.Egress) ?? AttributionProblem(images, expected.Ingress, actual.Ingress);
            if (problem is not null && mismatches.Count < 5)
            {
                mismatches.Add($"{from}({src}) -> {to}({dst}) {protocol}/{port}: {problem}");
            }
        }

        foreach (var flow in FlowSpace.Enumerate(snapshot, s_ports, RandomCluster.ExternalAddresses))
        {
            Check(flow.FromPod, flow.ToPod, flow.Source, flow.Destination, flow.Protocol, flow.Port);
        }

        Assert.True(flows > 0);
        Assert.True(mismatches.Count == 0, $"seed {seed} (replay with NETPOLICY_SEED={seed}):\n" + string.Join("\n", mismatches));
    }

    /// <summary>When a program allows by policy, the rule id's attribution must name only rules the reference evaluator
    /// says allow the flow; when the direction is not isolated, the program must say so.</summary>
    private static string? AttributionProblem(BpfMapImages images, DirectionVerdict? expected, BpfImageDatapath.ProgramVerdict? actual)
    {
        if (expected is null || actual is null || !actual.Allowed)
        {
            return null;
        }

        if (!expected.Isolated)
        {
            return actual.Reason == BpfConstants.ReasonNotIsolated ? null : $"{expected.Direction} is not isolated, but the program allowed with reason {actual.Reason}";
        }

        if (actual.Reason != BpfConstants.ReasonPolicy || !images.RuleAttribution.TryGetValue(actual.RuleId, out var attribution))
        {
            return $"{expected.Direction}: allowed with reason {actual.Reason} and rule id {actual.RuleId}, which has no attribution";
        }

        var stray = attribution.Where(r => !expected.AllowedBy.Contains(r)).ToList();
        return stray.Count == 0 ? null : $"{expected.Direction}: rule id {actual.RuleId} names {string.Join("; ", stray)}, which the reference evaluator does not list as allowing the flow";
    }
}
