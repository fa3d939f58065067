using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>Runs the real datapath programs with <c>BPF_PROG_TEST_RUN</c> on crafted packets and compares every verdict
/// with the reference evaluator. One harness keeps one datapath: each snapshot is compiled, rendered with the endpoint
/// ids of the previous one, applied as a map delta (conntrack flushed), and replayed.</summary>
internal sealed class DatapathHarness : IDisposable
{
    private const ushort SourcePort = 43210;
    private static readonly int[] s_extraPorts = [53, 79, 80, 81, 82, 443, 8080];

    public DatapathHarness(BpfDatapathOptions? options = null)
    {
        Datapath = BpfDatapath.Create(options);
    }

    public BpfDatapath Datapath { get; }

    public int FlowsChecked { get; private set; }

    /// <summary>Compiles, renders and applies a snapshot; returns the compiled IR and the images.</summary>
    public (CompiledPolicySet PolicySet, BpfMapImages Images) Program(ClusterSnapshot snapshot)
    {
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var images = BpfMapRenderer.Render(policySet, new BpfRenderOptions { EndpointIds = Datapath.Images?.EndpointIds }).ThrowIfErrors();
        Datapath.Apply(images);
        Datapath.FlushConntrack();
        return (policySet, images);
    }

    /// <summary>Replays every flow between pods (and to/from <paramref name="externals"/>) on every protocol and on the
    /// ports the policies name (with their neighbours); returns the disagreements.</summary>
    public List<string> Check(ClusterSnapshot snapshot, IEnumerable<IPAddress>? externals = null, int maxMismatches = 5)
    {
        var (policySet, images) = Program(snapshot);
        var evaluator = new PolicyEvaluator(snapshot);
        var mismatches = new List<string>();

        bool Run(string pod, bool fromPod, byte[] packet)
        {
            var programs = Datapath.LoadEndpoint(images.EndpointIds[pod]);
            var result = (fromPod ? programs.FromPod : programs.ToPod).TestRun(packet).ReturnValue;
            Assert.True(result is -1 or 2, $"unexpected program return {result}");
            return result == -1;
        }

        void Compare(FlowEndpoint from, FlowEndpoint to, IPAddress src, IPAddress dst, TransportProtocol protocol, int port)
        {
            var expected = evaluator.Evaluate(from, to, protocol, port, src.AddressFamily).Allowed;
            var packet = TestPacket.Build(src, dst, ProtocolNumber(protocol), SourcePort, (ushort)port);
            var actual = (from.Pod is not { } sp || Run(sp.Key, fromPod: true, packet)) && (to.Pod is not { } dp || Run(dp.Key, fromPod: false, packet));
            FlowsChecked++;
            if (expected != actual && mismatches.Count < maxMismatches)
            {
                mismatches.Add($"{from}({src}) -> {to}({dst}) {protocol}/{port}: reference {(expected ? "allows" : "denies")}, kernel {(actual ? "allows" : "denies")}\n" +
                    evaluator.Evaluate(from, to, protocol, port, src.AddressFamily).Explain());
            }
        }

        foreach (var flow in FlowSpace.Enumerate(snapshot, Ports(policySet), externals ?? []))
        {
            if (!flow.IsLoopback)
            {
                Compare(flow.From, flow.To, flow.Source, flow.Destination, flow.Protocol, flow.Port);
            }
        }

        return mismatches;
    }

    public void Dispose() => Datapath.Dispose();

    public static byte ProtocolNumber(TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => TestPacket.Tcp,
        TransportProtocol.Udp => TestPacket.Udp,
        _ => TestPacket.Sctp,
    };

    private static List<int> Ports(CompiledPolicySet policySet)
    {
        var ports = new SortedSet<int>(s_extraPorts);
        foreach (var rule in policySet.RuleSets.Values.SelectMany(r => r.Rules))
        {
            if (rule.Port is { IsAnyPort: false } match)
            {
                foreach (var p in new[] { match.First - 1, match.First, match.Last, match.Last + 1 })
                {
                    if (p is >= 1 and <= 65535)
                    {
                        ports.Add(p);
                    }
                }
            }
        }

        return [.. ports];
    }
}
