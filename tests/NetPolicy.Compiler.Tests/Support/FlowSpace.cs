using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Support;

/// <summary>One flow of a differential test: a pod or an external address on each side.</summary>
internal readonly record struct Flow(PodEndpoint? FromPod, PodEndpoint? ToPod, IPAddress Source, IPAddress Destination, TransportProtocol Protocol, int Port)
{
    public FlowEndpoint From => FromPod is null ? FlowEndpoint.ForAddress(Source) : FlowEndpoint.ForPod(FromPod);

    public FlowEndpoint To => ToPod is null ? FlowEndpoint.ForAddress(Destination) : FlowEndpoint.ForPod(ToPod);

    public bool IsLoopback => FromPod is not null && ReferenceEquals(FromPod, ToPod);

    public override string ToString() => $"{From}({Source}) -> {To}({Destination}) {Protocol}/{Port}";
}

/// <summary>The flows the differential tests (IR, BPF image emulation, kernel) compare with the reference evaluator.</summary>
internal static class FlowSpace
{
    /// <summary>Every protocol × port × family: each pod to each pod (itself included) and each pod to and from each
    /// external address no pod owns.</summary>
    public static IEnumerable<Flow> Enumerate(ClusterSnapshot snapshot, IEnumerable<int> ports, IEnumerable<IPAddress> externals)
    {
        var pods = snapshot.Pods.Values.ToList();
        var outside = externals.Where(a => snapshot.FindPodByAddress(a) is null).ToList();
        var portList = ports.ToList();
        foreach (var protocol in TransportProtocolNames.All)
        {
            foreach (var port in portList)
            {
                foreach (var from in pods)
                {
                    foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                    {
                        if (from.AddressOf(family) is not { } src)
                        {
                            continue;
                        }

                        foreach (var to in pods)
                        {
                            if (to.AddressOf(family) is { } dst)
                            {
                                yield return new Flow(from, to, src, dst, protocol, port);
                            }
                        }

                        foreach (var external in outside.Where(a => a.AddressFamily == family))
                        {
                            yield return new Flow(from, null, src, external, protocol, port);
                            yield return new Flow(null, from, external, src, protocol, port);
                        }
                    }
                }
            }
        }
    }
}
