using System.Net;
using BenchmarkDotNet.Attributes;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>Deciding one pod-to-pod flow on the 10k-pod shape: the reference evaluator
/// (<see cref="PolicyEvaluator.Evaluate"/>, with explanations) against the IR (<see cref="CompiledPolicySet.Decide"/>,
/// two ipcache lookups and rule-set matches, as a datapath does).</summary>
[MemoryDiagnoser]
public class EvaluatorBenchmarks
{
    private PolicyEvaluator _evaluator = null!;
    private CompiledPolicySet _policySet = null!;
    private FlowEndpoint _source = null!;
    private FlowEndpoint _destination = null!;
    private IPAddress _sourceAddress = IPAddress.None;
    private IPAddress _destinationAddress = IPAddress.None;
    private int _port;

    /// <summary>Gets or sets the flow: <c>allowed</c> (both sides isolated, allowed by a rule each) or <c>denied</c> (the
    /// source's egress allows it, the destination's ingress denies it).</summary>
    [Params("allowed", "denied")]
    public string Flow { get; set; } = "allowed";

    [GlobalSetup]
    public void Setup()
    {
        var cluster = SyntheticCluster.Generate(SyntheticClusterShape.Medium, seed: 1);
        var snapshot = cluster.ToSnapshot();
        _evaluator = new PolicyEvaluator(snapshot);
        _policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var wantAllowed = Flow == "allowed";

        // The first flow, in pod order, between two pods of one namespace (or from Prometheus) whose destination is
        // isolated for ingress and that has the wanted verdict; an allowed flow must be allowed by a rule, and the
        // first pass also wants the source isolated for egress, so both directions are evaluated.
        var prometheus = snapshot.Pods.Values.First(p => p.Namespace == "monitoring" && p.Labels.TryGetValue("app", out var a) && a == "prometheus");
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var group in snapshot.Pods.Values.GroupBy(p => p.Namespace, StringComparer.Ordinal))
            {
                foreach (var from in group.Append(prometheus))
                {
                    foreach (var to in group)
                    {
                        int[] ports = [to.ResolveNamedPort("http", TransportProtocol.Tcp) ?? 8080, 5432, 6379, to.ResolveNamedPort("metrics", TransportProtocol.Tcp) ?? 9100];
                        foreach (var port in ports)
                        {
                            var verdict = _evaluator.Evaluate(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), TransportProtocol.Tcp, port);
                            if (from.Key == to.Key || verdict.Ingress is not { Isolated: true } || verdict.Ingress.Allowed != wantAllowed ||
                                verdict.Allowed != wantAllowed || verdict.Egress is { Allowed: false } ||
                                (pass == 0 && verdict.Egress is not { Isolated: true }))
                            {
                                continue;
                            }

                            _source = FlowEndpoint.ForPod(from);
                            _destination = FlowEndpoint.ForPod(to);
                            _sourceAddress = from.Addresses[0];
                            _destinationAddress = to.Addresses[0];
                            _port = port;
                            if (_policySet.Decide(_sourceAddress, _destinationAddress, TransportProtocol.Tcp, _port) != wantAllowed)
                            {
                                throw new InvalidOperationException($"The IR and the reference evaluator disagree on {from.Key} -> {to.Key} TCP/{port}.");
                            }

                            Console.WriteLine($"// Flow [{Flow}]: {from.Key} -> {to.Key} TCP/{port}: {verdict.Summary}");
                            return;
                        }
                    }
                }
            }
        }

        throw new InvalidOperationException($"No {Flow} flow found in the synthetic cluster.");
    }

    [Benchmark]
    public FlowVerdict ReferenceEvaluate() => _evaluator.Evaluate(_source, _destination, TransportProtocol.Tcp, _port);

    [Benchmark]
    public bool CompiledDecide() => _policySet.Decide(_sourceAddress, _destinationAddress, TransportProtocol.Tcp, _port);
}
