using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>A deterministic, realistic-looking synthetic cluster for benchmarks: namespaces, pods and NetworkPolicies
/// as model objects, <c>k8s.Models</c> objects (<see cref="ToKubernetesObjects"/>) or one YAML manifest (<see cref="WriteYaml(TextWriter)"/>).</summary>
/// <remarks>
/// The same (shape, seed) always gives the same cluster (<see cref="Random"/> with a seed is stable across runtimes).
/// <list type="bullet">
/// <item>Namespaces: <c>kube-system</c> (CoreDNS), <c>monitoring</c> (Prometheus), then <c>ns-NNNNN</c> labelled
/// <c>team=team-NN</c> (50 teams), <c>env=prod|staging|dev</c> and, as the API server does, <c>kubernetes.io/metadata.name</c>.</item>
/// <item>Pods: about pods/namespaces per namespace, each namespace weighted 1..2x; labels <c>app</c> (from a per-namespace pool
/// of 3-5 apps), <c>tier=web|api|db|cache</c> (per app), <c>version=v1..v3</c> (per app, 10% of pods differ), and for ~15% one extra label. Named ports
/// <c>http</c> (8080 or 80 per app), <c>grpc=9090</c> (api tier), <c>metrics=9100</c>, with rare per-pod differences.
/// IPv4 from 100.64.0.0/10 in order; 10% of pods are dual stack with an address in fd00:100::/48. Nothing is ever sent.</item>
/// <item>Policies (about 3 per namespace): a default deny per namespace (ingress, 30% also egress, then followed by a DNS
/// egress allow to <c>kube-system</c>), then a weighted mix of same-namespace app allows, cross-namespace allows
/// (<c>namespaceSelector team=T</c> AND <c>podSelector</c>), matchExpressions (In/NotIn/Exists), ipBlocks with except
/// (external ranges and ranges covering pod IPs, both families), Prometheus scrapes by the named port <c>metrics</c>,
/// endPort ranges and egress to databases and gRPC backends.</item>
/// </list>
/// </remarks>
public sealed partial class SyntheticCluster
{
    private const string AppLabel = "app";
    private const string TierLabel = "tier";
    private const string VersionLabel = "version";
    private const string TeamLabel = "team";
    private const string EnvLabel = "env";
    private const string KubeSystem = "kube-system";
    private const string Monitoring = "monitoring";

    private static readonly string[] s_apps =
    [
        "frontend", "web", "api", "gateway", "auth", "users", "orders", "cart", "checkout", "payments",
        "inventory", "catalog", "search", "recommendations", "reviews", "shipping", "notifications", "email", "billing", "invoices",
        "ledger", "reports", "analytics", "ingest", "etl", "scheduler", "worker", "queue", "cache", "redis",
        "postgres", "mysql", "mongo", "kafka", "elasticsearch", "grafana", "vault", "config", "profile", "media",
    ];

    private static readonly string[] s_tiers = ["web", "api", "db", "cache"];
    private static readonly string[] s_envs = ["prod", "staging", "dev"];
    private static readonly string[] s_versions = ["v1", "v2", "v3"];
    private static readonly string[] s_teams = [.. Enumerable.Range(0, 50).Select(i => "team-" + i.ToString("00", CultureInfo.InvariantCulture))];

    // ipBlocks outside the cluster, shared by many policies (as copy-pasted policies are in real clusters).
    private static readonly IPBlock[] s_externalBlocks =
    [
        new(IPNetwork.Parse("172.16.0.0/12"), [IPNetwork.Parse("172.16.5.0/24")]),
        new(IPNetwork.Parse("10.0.0.0/8"), [IPNetwork.Parse("10.96.0.0/12"), IPNetwork.Parse("10.255.0.0/16")]),
        new(IPNetwork.Parse("192.168.0.0/16")),
        new(IPNetwork.Parse("203.0.113.0/24"), [IPNetwork.Parse("203.0.113.128/25")]),
    ];

    // "The internet, but not the pod network": an ipBlock whose except covers every pod IP.
    private static readonly IPBlock s_internet = new(IPNetwork.Parse("0.0.0.0/0"), [IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("10.0.0.0/8")]);
    private static readonly IPBlock s_internetV6 = new(IPNetwork.Parse("::/0"), [IPNetwork.Parse("fd00::/8")]);

    private SyntheticCluster(SyntheticClusterShape shape, int seed, ImmutableArray<NamespaceDefinition> namespaces, ImmutableArray<PodEndpoint> pods, ImmutableArray<NetworkPolicyDefinition> policies)
    {
        Shape = shape;
        Seed = seed;
        Namespaces = namespaces;
        Pods = pods;
        Policies = policies;
    }

    /// <summary>Gets the shape the cluster was generated for.</summary>
    public SyntheticClusterShape Shape { get; }

    /// <summary>Gets the seed the cluster was generated from.</summary>
    public int Seed { get; }

    /// <summary>Gets the namespaces, in generation order.</summary>
    public ImmutableArray<NamespaceDefinition> Namespaces { get; }

    /// <summary>Gets the pods, in generation order (namespace by namespace).</summary>
    public ImmutableArray<PodEndpoint> Pods { get; }

    /// <summary>Gets the policies, in generation order (namespace by namespace).</summary>
    public ImmutableArray<NetworkPolicyDefinition> Policies { get; }

    /// <summary>Generates a cluster.</summary>
    /// <param name="namespaces">The number of namespaces, at least 3.</param>
    /// <param name="pods">The number of pods.</param>
    /// <param name="policies">The number of policies.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The cluster.</returns>
    public static SyntheticCluster Generate(int namespaces, int pods, int policies, int seed = 1) =>
        Generate(new SyntheticClusterShape(namespaces, pods, policies), seed);

    /// <summary>Generates a cluster.</summary>
    /// <param name="shape">The shape.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The cluster.</returns>
    public static SyntheticCluster Generate(SyntheticClusterShape shape, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.Namespaces, 3, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfNegative(shape.Pods, nameof(shape));
        ArgumentOutOfRangeException.ThrowIfNegative(shape.Policies, nameof(shape));
        if (shape.Pods > (1 << 22) - 512)
        {
            throw new ArgumentOutOfRangeException(nameof(shape), "At most ~4M pods fit in 100.64.0.0/10.");
        }

        return new Generator(shape, seed).Run();
    }

    /// <summary>Builds a snapshot from the model objects, as <see cref="ClusterSnapshot.FromModel"/> does.</summary>
    /// <returns>The snapshot.</returns>
    public ClusterSnapshot ToSnapshot() => ClusterSnapshot.FromModel(Namespaces, Pods, Policies);

    /// <summary>Returns the pod with one label changed, for incremental-compile benchmarks.</summary>
    /// <param name="pod">The pod.</param>
    /// <param name="key">The label key.</param>
    /// <param name="value">The new value.</param>
    /// <returns>The changed pod.</returns>
    public static PodEndpoint WithLabel(PodEndpoint pod, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod with { Labels = pod.Labels.With(key, value) };
    }

    /// <summary>Generates one cluster; all randomness is drawn in one fixed order from one <see cref="Random"/>.</summary>
    private sealed class Generator(SyntheticClusterShape shape, int seed)
    {
        private readonly Random _random = new(seed);
        private readonly List<NamespaceDefinition> _namespaces = new(shape.Namespaces);
        private readonly List<PodEndpoint> _pods = new(shape.Pods);
        private readonly List<NetworkPolicyDefinition> _policies = new(shape.Policies);
        private readonly List<NamespaceInfo> _infos = new(shape.Namespaces);
        private int _podOrdinal;

        public SyntheticCluster Run()
        {
            var podCounts = Distribute(shape.Pods, shape.Namespaces, 1.0, 2.0);
            var policyCounts = Distribute(shape.Policies, shape.Namespaces, 0.5, 1.5);
            for (var n = 0; n < shape.Namespaces; n++)
            {
                var info = CreateNamespace(n);
                _infos.Add(info);
                for (var p = 0; p < podCounts[n]; p++)
                {
                    _pods.Add(CreatePod(info, p));
                }
            }

            for (var n = 0; n < shape.Namespaces; n++)
            {
                CreatePolicies(_infos[n], policyCounts[n]);
            }

            return new SyntheticCluster(shape, seed, [.. _namespaces], [.. _pods], [.. _policies]);
        }

        /// <summary>Splits <paramref name="total"/> over <paramref name="count"/> buckets with weights uniform in [min, max).</summary>
        private int[] Distribute(int total, int count, double min, double max)
        {
            var weights = new double[count];
            var sum = 0.0;
            for (var i = 0; i < count; i++)
            {
                weights[i] = min + (_random.NextDouble() * (max - min));
                sum += weights[i];
            }

            var result = new int[count];
            var assigned = 0;
            for (var i = 0; i < count; i++)
            {
                result[i] = (int)(total * weights[i] / sum);
                assigned += result[i];
            }

            for (var i = 0; assigned < total; i = (i + 1) % count)
            {
                result[i]++;
                assigned++;
            }

            return result;
        }

        private NamespaceInfo CreateNamespace(int index)
        {
            string name;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            string[] apps;
            switch (index)
            {
                case 0:
                    name = KubeSystem;
                    apps = ["coredns", "kube-proxy", "metrics-server"];
                    break;
                case 1:
                    name = Monitoring;
                    labels[TeamLabel] = s_teams[0];
                    labels[EnvLabel] = "prod";
                    apps = ["prometheus", "alertmanager", "grafana"];
                    break;
                default:
                    name = "ns-" + index.ToString("00000", CultureInfo.InvariantCulture);
                    labels[TeamLabel] = Pick(s_teams);
                    var e = _random.Next(10);
                    labels[EnvLabel] = e < 4 ? s_envs[0] : e < 7 ? s_envs[1] : s_envs[2];
                    if (_random.Next(5) == 0)
                    {
                        labels["istio-injection"] = "enabled";
                    }

                    apps = [.. s_apps.OrderBy(_ => _random.Next()).Take(_random.Next(3, 6))];
                    break;
            }

            _namespaces.Add(NamespaceDefinition.Create(name, LabelSet.Create(labels)));
            var info = new NamespaceInfo(name, labels.GetValueOrDefault(TeamLabel), apps);
            foreach (var app in apps)
            {
                info.Tiers[app] = app switch
                {
                    "postgres" or "mysql" or "mongo" or "elasticsearch" or "kafka" => "db",
                    "redis" or "cache" => "cache",
                    "frontend" or "web" or "gateway" or "grafana" => "web",
                    _ => Pick(s_tiers),
                };
                info.HttpPorts[app] = _random.Next(10) < 7 ? 8080 : 80;
                var v = _random.Next(10);
                info.Versions[app] = v < 6 ? "v1" : v < 9 ? "v2" : "v3";
            }

            return info;
        }

        private PodEndpoint CreatePod(NamespaceInfo ns, int ordinal)
        {
            var app = ns.Apps[ordinal < ns.Apps.Length ? ordinal : _random.Next(ns.Apps.Length)];
            var tier = ns.Tiers[app];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [AppLabel] = app,
                [TierLabel] = tier,
            };
            // Most pods run their deployment's version; one in ten is a canary or a leftover of a rollout.
            labels[VersionLabel] = _random.Next(10) == 0 ? Pick(s_versions) : ns.Versions[app];
            if (ns.Name == KubeSystem && app == "coredns")
            {
                labels["k8s-app"] = "kube-dns";
            }

            switch (_random.Next(20))
            {
                case 0: labels["release"] = "canary"; break;
                case 1: labels["sidecar.istio.io/inject"] = "true"; break;
                case 2: labels["owner"] = ns.Team ?? "platform"; break;
            }

            var http = ns.HttpPorts[app];
            if (_random.Next(100) == 0)
            {
                http += 1; // a pod mid-rollout listens elsewhere: named ports then differ within an identity.
            }

            var ports = new List<NamedPort> { new("http", http, TransportProtocol.Tcp) };
            if (tier == "api")
            {
                ports.Add(new NamedPort("grpc", 9090, TransportProtocol.Tcp));
            }

            ports.Add(new NamedPort("metrics", _random.Next(50) == 0 ? 9101 : 9100, TransportProtocol.Tcp));
            if (app == "coredns")
            {
                ports.Add(new NamedPort("dns", 53, TransportProtocol.Udp));
                ports.Add(new NamedPort("dns-tcp", 53, TransportProtocol.Tcp));
            }

            var index = _podOrdinal++;
            var addresses = new List<IPAddress> { PodIPv4(index) };
            if (_random.Next(10) == 0)
            {
                addresses.Add(PodIPv6(index));
            }

            return new PodEndpoint
            {
                Namespace = ns.Name,
                Name = app + "-" + ordinal.ToString(CultureInfo.InvariantCulture),
                Labels = LabelSet.Create(labels),
                Addresses = [.. addresses],
                NamedPorts = [.. ports.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Protocol)],
                NodeName = NodeName(index),
            };
        }

        /// <summary>Pods are spread round-robin over one node per 100 pods (Kubernetes schedules up to 110 per node).</summary>
        private string NodeName(int podIndex) => "node-" + (podIndex % Math.Max(1, shape.Pods / 100)).ToString(CultureInfo.InvariantCulture);

        private void CreatePolicies(NamespaceInfo ns, int count)
        {
            if (count == 0)
            {
                return;
            }

            if (ns.Name == KubeSystem)
            {
                // CoreDNS takes queries from every namespace.
                Add(ns, "allow-dns-ingress", LabelSelector.ForLabels("k8s-app", "kube-dns"), ingress: [Rule([new NetworkPolicyPeer { NamespaceSelector = LabelSelector.Everything }], DnsPorts())]);
                count--;
            }
            else
            {
                var denyEgress = _random.Next(10) < 3;
                Add(ns, "default-deny", LabelSelector.Everything, ingress: [], egress: denyEgress ? [] : null);
                count--;
                if (denyEgress && count > 0)
                {
                    AddDnsEgress(ns, "allow-dns");
                    count--;
                }
            }

            for (var i = 0; i < count; i++)
            {
                var name = "-" + i.ToString(CultureInfo.InvariantCulture);
                var roll = _random.Next(100);
                switch (roll)
                {
                    case < 28: AddSameApp(ns, "allow-same-app" + name); break;
                    case < 50: AddCrossNamespace(ns, "allow-cross-ns" + name); break;
                    case < 60: AddExpressions(ns, "allow-expressions" + name); break;
                    case < 70: AddIPBlock(ns, "allow-ipblock" + name); break;
                    case < 79: AddMonitoring(ns, "allow-monitoring" + name); break;
                    case < 86: AddPortRange(ns, "allow-port-range" + name); break;
                    case < 95: AddBackendEgress(ns, "allow-backend-egress" + name); break;
                    default: AddDnsEgress(ns, "allow-dns" + name); break;
                }
            }
        }

        private void AddDnsEgress(NamespaceInfo ns, string name) =>
            Add(ns, name, LabelSelector.Everything, egress:
            [
                Rule(
                    [new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels(NamespaceDefinition.NameLabel, KubeSystem), PodSelector = LabelSelector.ForLabels("k8s-app", "kube-dns") }],
                    DnsPorts()),
            ]);

        private void AddSameApp(NamespaceInfo ns, string name)
        {
            var target = Pick(ns.Apps);
            var from = ns.Apps.Length > 1 ? Pick(ns.Apps.Where(a => a != target).ToArray()) : target;
            var portRoll = _random.Next(10);
            ImmutableArray<NetworkPolicyPort> ports = portRoll < 6 ? [new NetworkPolicyPort { PortName = "http" }]
                : portRoll < 8 ? [new NetworkPolicyPort { Port = ns.HttpPorts[target] }]
                : [];
            Add(ns, name, LabelSelector.ForLabels(AppLabel, target), ingress: [Rule([new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels(AppLabel, from) }], ports)]);
        }

        private void AddCrossNamespace(NamespaceInfo ns, string name)
        {
            var target = Pick(ns.Apps);
            var nsSelector = _random.Next(10) < 7
                ? LabelSelector.ForLabels(TeamLabel, Pick(s_teams))
                : LabelSelector.ForLabels(TeamLabel, Pick(s_teams), EnvLabel, "prod");
            var peer = new NetworkPolicyPeer { NamespaceSelector = nsSelector, PodSelector = LabelSelector.ForLabels(AppLabel, Pick(s_apps)) };
            var peers = _random.Next(4) == 0
                ? ImmutableArray.Create(peer, new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels(TeamLabel, ns.Team ?? s_teams[0]), PodSelector = LabelSelector.ForLabels(TierLabel, "web") })
                : [peer];
            ImmutableArray<NetworkPolicyPort> ports = ns.Tiers[target] == "api" && _random.Next(2) == 0
                ? [new NetworkPolicyPort { PortName = "grpc" }, new NetworkPolicyPort { PortName = "http" }]
                : [new NetworkPolicyPort { PortName = "http" }];
            Add(ns, name, LabelSelector.ForLabels(AppLabel, target), ingress: [Rule(peers, ports)]);
        }

        private void AddExpressions(NamespaceInfo ns, string name)
        {
            var podSelector = new LabelSelector(LabelSet.Empty, [new LabelSelectorRequirement(TierLabel, LabelSelectorOperator.In, ["api", "db"])]);
            var fromPods = new LabelSelector(LabelSet.Empty,
            [
                new LabelSelectorRequirement(AppLabel, LabelSelectorOperator.NotIn, [Pick(ns.Apps)]),
                new LabelSelectorRequirement(VersionLabel, LabelSelectorOperator.Exists),
            ]);
            var peer = _random.Next(2) == 0
                ? new NetworkPolicyPeer { PodSelector = fromPods }
                : new NetworkPolicyPeer
                {
                    NamespaceSelector = new LabelSelector(LabelSet.Of(TeamLabel, ns.Team ?? s_teams[0]), [new LabelSelectorRequirement(EnvLabel, LabelSelectorOperator.In, ["prod", "staging"])]),
                    PodSelector = fromPods,
                };
            Add(ns, name, podSelector, ingress: [Rule([peer], [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Port = 6379 }, new NetworkPolicyPort { PortName = "grpc" }])]);
        }

        private void AddIPBlock(NamespaceInfo ns, string name)
        {
            var target = Pick(ns.Apps);
            switch (_random.Next(4))
            {
                case 0:
                case 1:
                    // Ingress from corporate ranges, with holes.
                    var first = Pick(s_externalBlocks);
                    var second = Pick(s_externalBlocks);
                    var peers = first.Equals(second)
                        ? ImmutableArray.Create(new NetworkPolicyPeer { IPBlock = first })
                        : [new NetworkPolicyPeer { IPBlock = first }, new NetworkPolicyPeer { IPBlock = second }];
                    Add(ns, name, LabelSelector.ForLabels(AppLabel, target), ingress: [Rule(peers, [new NetworkPolicyPort { Port = 443 }, new NetworkPolicyPort { Port = 8443 }])]);
                    break;
                case 2:
                    // Egress to the internet but not to the pod network (the except covers every pod IP).
                    Add(ns, name, LabelSelector.ForLabels(AppLabel, target), egress:
                    [
                        Rule([new NetworkPolicyPeer { IPBlock = s_internet }, new NetworkPolicyPeer { IPBlock = s_internetV6 }], [new NetworkPolicyPort { Port = 443 }]),
                    ]);
                    break;
                default:
                    // Ingress from a slice of the pod network (a node pool's pod CIDR), minus one /24; or the IPv6 pod range.
                    var slices = Math.Max(1, (256 + shape.Pods) / 4096);
                    var slice = _random.Next(Math.Min(slices, 1024));
                    var v4 = new IPBlock(
                        new IPNetwork(Offset(IPAddress.Parse("100.64.0.0"), slice * 4096), 20),
                        [new IPNetwork(Offset(IPAddress.Parse("100.64.0.0"), (slice * 4096) + (256 * _random.Next(1, 16))), 24)]);
                    var v6 = new IPBlock(IPNetwork.Parse("fd00:100::/48"), [IPNetwork.Parse("fd00:100::/112")]);
                    Add(ns, name, LabelSelector.ForLabels(AppLabel, target), ingress:
                    [
                        Rule([new NetworkPolicyPeer { IPBlock = v4 }, new NetworkPolicyPeer { IPBlock = v6 }], [new NetworkPolicyPort { PortName = "http" }]),
                    ]);
                    break;
            }
        }

        private void AddMonitoring(NamespaceInfo ns, string name) =>
            Add(ns, name, LabelSelector.Everything, ingress:
            [
                Rule(
                    [new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels(NamespaceDefinition.NameLabel, Monitoring), PodSelector = LabelSelector.ForLabels(AppLabel, "prometheus") }],
                    [new NetworkPolicyPort { PortName = "metrics" }]),
            ]);

        private void AddPortRange(NamespaceInfo ns, string name) =>
            Add(ns, name, LabelSelector.ForLabels(AppLabel, Pick(ns.Apps)), ingress:
            [
                Rule(
                    [new NetworkPolicyPeer { PodSelector = LabelSelector.Everything }],
                    [new NetworkPolicyPort { Port = 30000, EndPort = 32767 }, new NetworkPolicyPort { Protocol = TransportProtocol.Udp, Port = 5000, EndPort = 5100 }]),
            ]);

        private void AddBackendEgress(NamespaceInfo ns, string name)
        {
            var rules = ImmutableArray.CreateBuilder<NetworkPolicyRule>();
            rules.Add(Rule([new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels(TierLabel, "db") }], [new NetworkPolicyPort { Port = 5432 }, new NetworkPolicyPort { Port = 3306 }, new NetworkPolicyPort { Port = 27017 }]));
            rules.Add(Rule([new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels(TierLabel, "cache") }], [new NetworkPolicyPort { Port = 6379 }]));
            if (_random.Next(2) == 0)
            {
                // Egress by named port: resolved against every selected destination pod.
                rules.Add(Rule(
                    [new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels(TeamLabel, ns.Team ?? s_teams[0]), PodSelector = LabelSelector.ForLabels(TierLabel, "api") }],
                    [new NetworkPolicyPort { PortName = "grpc" }]));
            }

            Add(ns, name, LabelSelector.ForLabels(TierLabel, _random.Next(2) == 0 ? "api" : "web"), egress: rules.ToImmutable());
        }

        private static ImmutableArray<NetworkPolicyPort> DnsPorts() =>
            [new NetworkPolicyPort { Protocol = TransportProtocol.Udp, Port = 53 }, new NetworkPolicyPort { Protocol = TransportProtocol.Tcp, Port = 53 }];

        private static NetworkPolicyRule Rule(ImmutableArray<NetworkPolicyPeer> peers, ImmutableArray<NetworkPolicyPort> ports) => new() { Peers = peers, Ports = ports };

        /// <summary>Adds a policy; a direction is in policyTypes when its rule list is given (empty means deny all).</summary>
        private void Add(NamespaceInfo ns, string name, LabelSelector podSelector, ImmutableArray<NetworkPolicyRule>? ingress = null, ImmutableArray<NetworkPolicyRule>? egress = null) =>
            _policies.Add(new NetworkPolicyDefinition
            {
                Namespace = ns.Name,
                Name = name,
                PodSelector = podSelector,
                AffectsIngress = ingress is not null,
                AffectsEgress = egress is not null,
                Ingress = ingress ?? [],
                Egress = egress ?? [],
            });

        private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];
    }

    /// <summary>Returns the IPv4 address of the pod with the given ordinal: 100.64.1.0 onwards (the first /24 is left to nodes).</summary>
    private static IPAddress PodIPv4(int ordinal) => Offset(IPAddress.Parse("100.64.0.0"), 256 + ordinal);

    /// <summary>Returns the IPv6 address of the pod with the given ordinal, in fd00:100::/48.</summary>
    private static IPAddress PodIPv6(int ordinal)
    {
        var bytes = new byte[16];
        bytes[0] = 0xfd;
        bytes[3] = 0x01;
        var value = (uint)(256 + ordinal);
        bytes[12] = (byte)(value >> 24);
        bytes[13] = (byte)(value >> 16);
        bytes[14] = (byte)(value >> 8);
        bytes[15] = (byte)value;
        return new IPAddress(bytes);
    }

    private static IPAddress Offset(IPAddress baseAddress, int offset)
    {
        var bytes = baseAddress.GetAddressBytes();
        var value = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) + (uint)offset;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

    private sealed class NamespaceInfo(string name, string? team, string[] apps)
    {
        public string Name { get; } = name;

        public string? Team { get; } = team;

        public string[] Apps { get; } = apps;

        public Dictionary<string, string> Tiers { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> HttpPorts { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Versions { get; } = new(StringComparer.Ordinal);
    }
}
