using System.Net;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis.Tests;

/// <summary>A small shop cluster and terse policy builders.</summary>
internal static class Fixtures
{
    public static PodEndpoint Pod(string ns, string name, string ip, string app, params NamedPort[] ports) => new()
    {
        Namespace = ns,
        Name = name,
        Labels = LabelSet.Of("app", app),
        Addresses = [IPAddress.Parse(ip)],
        NamedPorts = [.. ports.OrderBy(p => p.Name, StringComparer.Ordinal)],
    };

    /// <summary>shop/web, shop/api, shop/db (named port postgres), kube-system/coredns (named port dns, UDP and TCP).</summary>
    public static List<PodEndpoint> ShopPods() =>
    [
        Pod("shop", "web", "10.0.0.1", "web", new NamedPort("http", 8080, TransportProtocol.Tcp)),
        Pod("shop", "api", "10.0.0.2", "api"),
        Pod("shop", "db", "10.0.0.3", "db", new NamedPort("postgres", 5432, TransportProtocol.Tcp)),
        Pod("kube-system", "coredns", "10.0.1.10", "kube-dns", new NamedPort("dns", 53, TransportProtocol.Udp), new NamedPort("dns-tcp", 53, TransportProtocol.Tcp)),
    ];

    public static ClusterSnapshot Snapshot(IEnumerable<PodEndpoint> pods, params NetworkPolicyDefinition[] policies) =>
        ClusterSnapshot.FromModel([NamespaceDefinition.Create("shop"), NamespaceDefinition.Create("kube-system")], pods, policies);

    public static ClusterSnapshot Shop(params NetworkPolicyDefinition[] policies) => Snapshot(ShopPods(), policies);

    public static LabelSelector App(string app) => LabelSelector.ForLabels("app", app);

    public static NetworkPolicyPeer PodPeer(string app) => new() { PodSelector = App(app) };

    public static NetworkPolicyPeer Block(string cidr, params string[] except) => new() { IPBlock = new IPBlock(IPNetwork.Parse(cidr), except.Select(IPNetwork.Parse)) };

    public static NetworkPolicyPeer KubeSystem() => new() { NamespaceSelector = LabelSelector.ForLabels(NamespaceDefinition.NameLabel, "kube-system") };

    public static NetworkPolicyPort Tcp(int port, int? endPort = null) => new() { Protocol = TransportProtocol.Tcp, Port = port, EndPort = endPort };

    public static NetworkPolicyPort Udp(int port) => new() { Protocol = TransportProtocol.Udp, Port = port };

    public static NetworkPolicyPort Named(string name, TransportProtocol protocol = TransportProtocol.Tcp) => new() { Protocol = protocol, PortName = name };

    public static NetworkPolicyRule Rule(NetworkPolicyPeer[] peers, params NetworkPolicyPort[] ports) => new() { Peers = [.. peers], Ports = [.. ports] };

    public static NetworkPolicyDefinition Ingress(string name, LabelSelector target, params NetworkPolicyRule[] rules) => new()
    {
        Namespace = "shop",
        Name = name,
        PodSelector = target,
        AffectsIngress = true,
        Ingress = [.. rules],
    };

    public static NetworkPolicyDefinition Egress(string name, LabelSelector target, params NetworkPolicyRule[] rules) => new()
    {
        Namespace = "shop",
        Name = name,
        PodSelector = target,
        AffectsEgress = true,
        Egress = [.. rules],
    };

    /// <summary>An egress rule allowing DNS (UDP and TCP 53) to kube-system.</summary>
    public static NetworkPolicyRule Dns() => Rule([KubeSystem()], Udp(53), Tcp(53));
}
