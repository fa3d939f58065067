using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.Support;

namespace NetPolicy.Compiler.Tests.Compilation;

/// <summary>The compiled IR, decided the way a datapath decides (ipcache lookup + rule-set match), must agree with
/// the reference evaluator on every flow of randomly generated clusters.</summary>
public sealed class DifferentialTests
{
    public static TheoryData<int> Seeds()
    {
        var seeds = Environment.GetEnvironmentVariable("NETPOLICY_SEED") is { } s ? [int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)] : Enumerable.Range(1, 400);
        var data = new TheoryData<int>();
        foreach (var seed in seeds)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Decide_RandomCluster_AgreesWithReferenceEvaluator(int seed)
    {
        var snapshot = RandomCluster.Create(seed);
        var evaluator = new PolicyEvaluator(snapshot);
        var compiled = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var mismatches = new List<string>();

        void Check(FlowEndpoint from, FlowEndpoint to, IPAddress src, IPAddress dst, TransportProtocol protocol, int port)
        {
            var expected = evaluator.Evaluate(from, to, protocol, port, src.AddressFamily);
            var actual = compiled.Decide(src, dst, protocol, port);
            if (expected.Allowed != actual && mismatches.Count < 5)
            {
                mismatches.Add($"{from}({src}) -> {to}({dst}) {protocol}/{port}: reference {(expected.Allowed ? "allows" : "denies")}, IR {(actual ? "allows" : "denies")}\n{expected.Explain()}");
            }
        }

        foreach (var flow in FlowSpace.Enumerate(snapshot, RandomCluster.Ports, RandomCluster.ExternalAddresses))
        {
            Check(flow.From, flow.To, flow.Source, flow.Destination, flow.Protocol, flow.Port);
        }

        Assert.True(mismatches.Count == 0, $"seed {seed} (replay with NETPOLICY_SEED={seed}):\n" + string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Compile_SameInputTwice_GivesEqualPolicySets(int seed)
    {
        var first = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
        var second = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();

        Assert.Equal(first, second);
    }
}
