using System.Net;
using k8s.Models;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Tests.E2e;

namespace NetPolicy.Compiler.Tests.Support;

/// <summary>Clusters for the netfilter backends' named-port, fail-closed and incremental tests (compiler and kernel).</summary>
internal static class NetfilterScenarios
{
    /// <summary>The node's pod CIDRs in the lab: every model pod address.</summary>
    public static readonly IPNetwork[] PodCidrs = [IPNetwork.Parse("198.18.0.0/16"), IPNetwork.Parse("fd00:198::/64")];

    /// <summary>The IPv4 model where the pods of namespace y declare the container port <c>web</c>: y/a and y/c as TCP 80,
    /// y/b as TCP 81; pods of x may send only to namespace y on port <c>web</c> (and the optional extra policies apply).</summary>
    public static ClusterSnapshot NamedPortEgress(AddressMode addresses = AddressMode.IPv4, params V1NetworkPolicy[] extra)
    {
        var model = addresses switch
        {
            AddressMode.IPv6 => NetpolModel.IPv6,
            AddressMode.DualStack => NetpolModel.DualStack,
            _ => NetpolModel.IPv4,
        };
        var pods = model.KubePods().ToList();
        foreach (var pod in pods.Where(p => p.Metadata.NamespaceProperty == "y"))
        {
            pod.Spec.Containers.Add(new V1Container
            {
                Name = "web",
                Image = "registry.k8s.io/e2e-test-images/agnhost:2.53",
                Ports = [new V1ContainerPort { ContainerPort = pod.Metadata.Name == "b" ? 81 : 80, Name = "web", Protocol = "TCP" }],
            });
        }

        V1NetworkPolicy policy = Netpol.Policy("x", "egress-web").Egress(Netpol.EgressRule(
            [Netpol.Peer(namespaceSelector: Netpol.NamespaceNamed("y"))], [Netpol.NamedPort("web", TransportProtocol.Tcp)]));
        var snapshot = ClusterSnapshot.Create([policy, .. extra], pods, model.KubeNamespaces(), new ClusterSnapshotOptions { IPv4AddressPool = null, IPv6AddressPool = null });
        Assert.False(snapshot.HasErrors, string.Join('\n', snapshot.Diagnostics));
        return snapshot;
    }
}
