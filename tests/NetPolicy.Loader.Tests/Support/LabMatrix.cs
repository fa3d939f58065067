using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>Probes a lab's matrix and compares it, cell by cell, with the reference evaluator's.</summary>
internal static class LabMatrix
{
    /// <summary>Returns one line per cell where real packets and the reference evaluator disagree.</summary>
    public static async Task<List<string>> CompareAsync(NetworkLab lab, ClusterSnapshot snapshot, LabProtocol protocol, int port, string scenario, AddressFamily? family = null)
    {
        var pods = lab.Endpoints.Keys.Order(StringComparer.Ordinal).ToList();
        var expected = new PolicyEvaluator(snapshot).Matrix(ToModel(protocol), port, family);
        var actual = await lab.ProbeMatrixAsync(pods, protocol, port, family);
        var failures = new List<string>();
        for (var i = 0; i < pods.Count; i++)
        {
            for (var j = 0; j < pods.Count; j++)
            {
                if (expected[pods[i], pods[j]] != actual[i][j])
                {
                    failures.Add($"{scenario}: {pods[i]} -> {pods[j]} {protocol}/{port} {family}: reference {(expected[pods[i], pods[j]] ? "allows" : "denies")}, lab {(actual[i][j] ? "allows" : "denies")}");
                }
            }
        }

        return failures;
    }

    public static TransportProtocol ToModel(LabProtocol protocol) => protocol switch
    {
        LabProtocol.Tcp => TransportProtocol.Tcp,
        LabProtocol.Udp => TransportProtocol.Udp,
        _ => TransportProtocol.Sctp,
    };
}
