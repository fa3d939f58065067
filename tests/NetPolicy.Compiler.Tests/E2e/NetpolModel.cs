using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Which pod addresses the model gives its pods.</summary>
public enum AddressMode
{
    /// <summary>One IPv4 address per pod, in 198.18.0.0/15.</summary>
    IPv4,

    /// <summary>One IPv6 address per pod, in fd00:198::/64.</summary>
    IPv6,

    /// <summary>One address of each family per pod.</summary>
    DualStack,
}

/// <summary>The cluster of the upstream Kubernetes e2e NetworkPolicy suite (test/e2e/network/netpol/model.go): namespaces
/// x, y and z, each labelled <c>ns=&lt;name&gt;</c>, with pods a, b and c labelled <c>pod=&lt;name&gt;</c>; every pod serves
/// ports 80 and 81 on TCP, UDP and SCTP, one container per port and protocol, with named ports <c>serve-80-tcp</c> and so on.</summary>
/// <remarks>Pods get fixed addresses so that ipBlock tests can name them: IPv4 <c>198.18.(10+ns).(10+pod)</c> (x/a is
/// 198.18.10.10, y/b is 198.18.11.11; namespace x is 198.18.10.0/24), and IPv6 <c>fd00:198::(10+ns):(10+pod)</c> (x/a is
/// fd00:198::10:10; namespace x is fd00:198::10:0/112). The model is immutable; the <c>With...</c> methods return a
/// changed copy, which is how the upstream tests that relabel pods or namespaces are replayed.</remarks>
internal sealed class NetpolModel
{
    /// <summary>The pod CIDR of the IPv4 model.</summary>
    public const string PodCidrV4 = "198.18.0.0/15";

    /// <summary>The pod CIDR of the IPv6 model.</summary>
    public const string PodCidrV6 = "fd00:198::/64";

    private NetpolModel(
        AddressMode addresses,
        ImmutableDictionary<string, ImmutableDictionary<string, string>> extraPodLabels,
        ImmutableDictionary<string, ImmutableDictionary<string, string>> extraNamespaceLabels)
    {
        Addresses = addresses;
        ExtraPodLabels = extraPodLabels;
        ExtraNamespaceLabels = extraNamespaceLabels;
    }

    /// <summary>Gets the namespaces, in order.</summary>
    /// <summary>Gets the recorder of snapshots: while set, every snapshot the model makes is added, so the kernel tests
    /// (NetPolicy.Loader.Tests) can replay each e2e scenario on a real datapath.</summary>
    public static AsyncLocal<List<ClusterSnapshot>?> Recorded { get; } = new();

    public static ImmutableArray<string> NamespaceNames { get; } = ["x", "y", "z"];

    /// <summary>Gets the pod names of every namespace, in order.</summary>
    public static ImmutableArray<string> PodNames { get; } = ["a", "b", "c"];

    /// <summary>Gets the ports every pod serves.</summary>
    public static ImmutableArray<int> Ports { get; } = [80, 81];

    /// <summary>Gets the protocols every pod serves each port on.</summary>
    public static ImmutableArray<TransportProtocol> Protocols { get; } = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp];

    /// <summary>Gets every pod key, <c>namespace/name</c>, in the order of the truth tables.</summary>
    public static ImmutableArray<string> AllPods { get; } = [.. NamespaceNames.SelectMany(ns => PodNames.Select(p => ns + "/" + p))];

    /// <summary>Gets the IPv4 single-stack model.</summary>
    public static NetpolModel IPv4 { get; } = new(AddressMode.IPv4, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty);

    /// <summary>Gets the IPv6 single-stack model.</summary>
    public static NetpolModel IPv6 { get; } = new(AddressMode.IPv6, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty);

    /// <summary>Gets the dual-stack model.</summary>
    public static NetpolModel DualStack { get; } = new(AddressMode.DualStack, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty, ImmutableDictionary<string, ImmutableDictionary<string, string>>.Empty);

    /// <summary>Gets the address families the pods have.</summary>
    public AddressMode Addresses { get; }

    /// <summary>Gets labels added to pods on top of <c>pod=&lt;name&gt;</c>, by pod key.</summary>
    public ImmutableDictionary<string, ImmutableDictionary<string, string>> ExtraPodLabels { get; }

    /// <summary>Gets labels added to namespaces on top of <c>ns=&lt;name&gt;</c>, by namespace.</summary>
    public ImmutableDictionary<string, ImmutableDictionary<string, string>> ExtraNamespaceLabels { get; }

    /// <summary>Returns the IPv4 address of a pod.</summary>
    /// <param name="pod">The pod key, for example <c>x/a</c>.</param>
    /// <returns>The address.</returns>
    public static IPAddress IPv4Of(string pod)
    {
        var (ns, name) = Indexes(pod);
        return IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"198.18.{10 + ns}.{10 + name}"));
    }

    /// <summary>Returns the IPv6 address of a pod.</summary>
    /// <param name="pod">The pod key, for example <c>x/a</c>.</param>
    /// <returns>The address.</returns>
    public static IPAddress IPv6Of(string pod)
    {
        var (ns, name) = Indexes(pod);
        return IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"fd00:198::{10 + ns}:{10 + name}"));
    }

    /// <summary>Returns a pod's address as a host CIDR (<c>/32</c> or <c>/128</c>), as upstream builds ipBlocks from pod IPs.</summary>
    /// <param name="pod">The pod key.</param>
    /// <param name="family">The family.</param>
    /// <returns>The CIDR text.</returns>
    public static string HostCidr(string pod, AddressFamily family = AddressFamily.InterNetwork) =>
        family == AddressFamily.InterNetwork ? IPv4Of(pod) + "/32" : IPv6Of(pod) + "/128";

    /// <summary>Returns the CIDR holding exactly the pods of a namespace: <c>/24</c> for IPv4, <c>/112</c> for IPv6.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="family">The family.</param>
    /// <returns>The CIDR text.</returns>
    public static string NamespaceCidr(string ns, AddressFamily family = AddressFamily.InterNetwork)
    {
        var index = NamespaceNames.IndexOf(ns);
        Assert.True(index >= 0, $"unknown namespace '{ns}'");
        return family == AddressFamily.InterNetwork
            ? string.Create(CultureInfo.InvariantCulture, $"198.18.{10 + index}.0/24")
            : string.Create(CultureInfo.InvariantCulture, $"fd00:198::{10 + index}:0/112");
    }

    /// <summary>Returns the labels of a pod: <c>pod=&lt;name&gt;</c> plus any extra labels.</summary>
    /// <param name="pod">The pod key.</param>
    /// <returns>The labels.</returns>
    public Dictionary<string, string> PodLabels(string pod)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["pod"] = pod.Split('/')[1] };
        if (ExtraPodLabels.TryGetValue(pod, out var extra))
        {
            foreach (var (k, v) in extra)
            {
                labels[k] = v;
            }
        }

        return labels;
    }

    /// <summary>Returns the declared labels of a namespace: <c>ns=&lt;name&gt;</c> plus any extra labels (the snapshot adds
    /// <c>kubernetes.io/metadata.name</c>).</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The labels.</returns>
    public Dictionary<string, string> NamespaceLabels(string ns)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["ns"] = ns };
        if (ExtraNamespaceLabels.TryGetValue(ns, out var extra))
        {
            foreach (var (k, v) in extra)
            {
                labels[k] = v;
            }
        }

        return labels;
    }

    /// <summary>Returns a copy in which a pod carries an extra label (upstream <c>AddPodLabels</c>).</summary>
    /// <param name="pod">The pod key.</param>
    /// <param name="key">The label key.</param>
    /// <param name="value">The label value.</param>
    /// <returns>The changed model.</returns>
    public NetpolModel WithPodLabel(string pod, string key, string value)
    {
        Assert.Contains(pod, AllPods);
        var current = ExtraPodLabels.GetValueOrDefault(pod, ImmutableDictionary<string, string>.Empty);
        return new NetpolModel(Addresses, ExtraPodLabels.SetItem(pod, current.SetItem(key, value)), ExtraNamespaceLabels);
    }

    /// <summary>Returns a copy in which a namespace carries an extra label (upstream <c>AddNamespaceLabel</c>).</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="key">The label key.</param>
    /// <param name="value">The label value.</param>
    /// <returns>The changed model.</returns>
    public NetpolModel WithNamespaceLabel(string ns, string key, string value)
    {
        Assert.Contains(ns, NamespaceNames);
        var current = ExtraNamespaceLabels.GetValueOrDefault(ns, ImmutableDictionary<string, string>.Empty);
        return new NetpolModel(Addresses, ExtraPodLabels, ExtraNamespaceLabels.SetItem(ns, current.SetItem(key, value)));
    }

    /// <summary>Returns the addresses of a pod in this model, IPv4 first.</summary>
    /// <param name="pod">The pod key.</param>
    /// <returns>The addresses.</returns>
    public ImmutableArray<IPAddress> AddressesOf(string pod) => Addresses switch
    {
        AddressMode.IPv4 => [IPv4Of(pod)],
        AddressMode.IPv6 => [IPv6Of(pod)],
        _ => [IPv4Of(pod), IPv6Of(pod)],
    };

    /// <summary>Builds the namespaces as the API server would hold them.</summary>
    /// <returns>The namespaces.</returns>
    public IReadOnlyList<V1Namespace> KubeNamespaces() =>
        [.. NamespaceNames.Select(ns => new V1Namespace { Metadata = new V1ObjectMeta { Name = ns, Labels = NamespaceLabels(ns) } })];

    /// <summary>Builds the pods: one container per port and protocol, named <c>cont-80-tcp</c>, serving the named port
    /// <c>serve-80-tcp</c>, with <c>status.podIPs</c> set.</summary>
    /// <returns>The pods.</returns>
    public IReadOnlyList<V1Pod> KubePods() => [.. AllPods.Select(KubePod)];

    /// <summary>Builds the model namespaces, for <see cref="ClusterSnapshot.FromModel"/>.</summary>
    /// <returns>The namespaces.</returns>
    public IReadOnlyList<NamespaceDefinition> ModelNamespaces() =>
        [.. NamespaceNames.Select(ns => NamespaceDefinition.Create(ns, LabelSet.Create(NamespaceLabels(ns))))];

    /// <summary>Builds the model pods, for <see cref="ClusterSnapshot.FromModel"/>.</summary>
    /// <returns>The pods.</returns>
    public IReadOnlyList<PodEndpoint> ModelPods() =>
        [.. AllPods.Select(pod => new PodEndpoint
        {
            Namespace = pod.Split('/')[0],
            Name = pod.Split('/')[1],
            Labels = LabelSet.Create(PodLabels(pod)),
            Addresses = AddressesOf(pod),
            NamedPorts = [.. Ports.SelectMany(port => Protocols.Select(proto => new NamedPort(PortName(port, proto), port, proto)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)],
        })];

    /// <summary>Creates a snapshot from Kubernetes objects (API-server defaulting included) and asserts that it has no errors.</summary>
    /// <param name="policies">The policies.</param>
    /// <returns>The snapshot.</returns>
    public ClusterSnapshot Snapshot(params IEnumerable<V1NetworkPolicy> policies)
    {
        var snapshot = ClusterSnapshot.Create(policies, KubePods(), KubeNamespaces(), SnapshotOptions());

        AssertNoErrors(snapshot);
        Recorded.Value?.Add(snapshot);
        Assert.Equal(AllPods.Length, snapshot.Pods.Count);
        Assert.All(snapshot.Pods.Values, p => Assert.False(p.AddressesAssigned, $"{p.Key} got a pool address; the model gives every pod its own"));
        return snapshot;
    }

    /// <summary>Creates an evaluator over <see cref="Snapshot"/>.</summary>
    /// <param name="policies">The policies.</param>
    /// <returns>The evaluator.</returns>
    public PolicyEvaluator Evaluator(params IEnumerable<V1NetworkPolicy> policies) => new(Snapshot(policies));

    /// <summary>Creates an evaluator over a snapshot built from model objects with <see cref="ClusterSnapshot.FromModel"/>.</summary>
    /// <param name="policies">The policies.</param>
    /// <returns>The evaluator.</returns>
    public PolicyEvaluator ModelEvaluator(params IEnumerable<NetworkPolicyDefinition> policies)
    {
        var snapshot = ClusterSnapshot.FromModel(ModelNamespaces(), ModelPods(), policies, SnapshotOptions());

        AssertNoErrors(snapshot);
        Recorded.Value?.Add(snapshot);
        return new PolicyEvaluator(snapshot);
    }

    /// <summary>Starts a truth table over every pod of the model.</summary>
    /// <param name="defaultExpectation">Whether every connection is expected to be allowed until told otherwise.</param>
    /// <returns>The expectations.</returns>
    public static Reachability NewReachability(bool defaultExpectation = true) => new(AllPods, defaultExpectation);

    /// <summary>Returns the upstream container port name for a port and protocol, for example <c>serve-80-tcp</c>.</summary>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The name.</returns>
    public static string PortName(int port, TransportProtocol protocol) =>
        string.Create(CultureInfo.InvariantCulture, $"serve-{port}-{protocol.ToKubernetesName().ToLowerInvariant()}");

    private static ClusterSnapshotOptions SnapshotOptions() => new()
    {
        // Every pod has its addresses; the pools must not hand an IPv6-only pod an IPv4 address (or the reverse).
        IPv4AddressPool = null,
        IPv6AddressPool = null,
    };

    private static void AssertNoErrors(ClusterSnapshot snapshot) =>
        Assert.False(snapshot.HasErrors, "the snapshot has errors:\n" + string.Join('\n', snapshot.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

    private V1Pod KubePod(string pod)
    {
        var addresses = AddressesOf(pod);
        return new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = pod.Split('/')[1], NamespaceProperty = pod.Split('/')[0], Labels = PodLabels(pod) },
            Spec = new V1PodSpec
            {
                Containers = [.. Ports.SelectMany(port => Protocols.Select(proto => new V1Container
                {
                    Name = "cont-" + PortName(port, proto)["serve-".Length..],
                    Image = "registry.k8s.io/e2e-test-images/agnhost:2.53",
                    Ports = [new V1ContainerPort { ContainerPort = port, Name = PortName(port, proto), Protocol = proto.ToKubernetesName() }],
                }))],
            },
            Status = new V1PodStatus
            {
                Phase = "Running",
                PodIP = addresses[0].ToString(),
                PodIPs = [.. addresses.Select(a => new V1PodIP { Ip = a.ToString() })],
            },
        };
    }

    private static (int Namespace, int Pod) Indexes(string pod)
    {
        var parts = pod.Split('/');
        var ns = parts.Length == 2 ? NamespaceNames.IndexOf(parts[0]) : -1;
        var name = parts.Length == 2 ? PodNames.IndexOf(parts[1]) : -1;
        Assert.True(ns >= 0 && name >= 0, $"'{pod}' is not a pod of the model (x|y|z)/(a|b|c)");
        return (ns, name);
    }
}
