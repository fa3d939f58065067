using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>packet-cost</c> command: what enforcing N NetworkPolicies costs per forwarded packet with the BPF
/// datapath, iptables+ipset and nftables, measured on real packets between two pods of the network-namespace lab, against
/// a lab without policy.</summary>
/// <remarks>
/// <para>For each N a synthetic cluster with exactly N policies is compiled (see <see cref="BuildCluster"/>); only two of
/// its pods get a namespace, a client and an ingress-isolated server, and the rest of the cluster sizes the artifacts
/// (dispatch rules, chains, set members, map entries). Four labs run side by side: no policy, <see cref="LabBackend.Bpf"/>,
/// <see cref="LabBackend.Iptables"/> and <see cref="LabBackend.Nftables"/>.</para>
/// <para>One thread of the client's namespace writes UDP datagrams to a raw socket (<c>IPPROTO_RAW</c>, the IPv4 header
/// built here), as fast as it can for <c>--millis</c>. A veth transmit hands the packet to the backlog of the same CPU and
/// the softirq runs when the send returns, so the node's forwarding, the policy and the delivery to the server's socket
/// all run in the sender's context: wall time and thread CPU time per send are the cost of the whole path. Each datagram
/// of the "new flow" case has a source/destination port pair never used before in that lab, so conntrack (netfilter) or
/// the BPF conntrack map misses and the policy decides it; the "established" case repeats one flow whose reply was seen.
/// The server's namespace counts what arrived (<c>/proc/net/snmp</c>: Udp InDatagrams + RcvbufErrors; the server sockets
/// are never read, so the kernel drops at the socket once the small buffer is full) and every measurement must
/// deliver all it sent.</para>
/// <para>Rounds interleave the labs (each round starts at another one) so other load falls on all alike; the figures are
/// medians over rounds, the first round discarded as warm-up.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class PacketCostCommand
{
    private const int AllowedFirstPort = 5000;
    private const int AllowedLastPort = 5127;
    private const int MeasuredPorts = 64; // 5000..5063 carry the new flows; 5100 is probed
    private const int ProbePort = 5100;
    private const int DeniedProbePort = 6000;
    private const int FirstSourcePort = 1024;
    private const int SourcePorts = 60_000;
    private const int EstablishedSourcePort = 65_000;
    private const int AppsPerNamespace = 10;
    private const int ServerPolicies = 4;
    private const int GroupNamespaces = 10;

    private static readonly string[] s_labNames = ["none", "bpf", "iptables", "nftables"];

    public static int Run(ReadOnlySpan<string> args)
    {
        int[] sizes = [10, 100, 1_000, 10_000];
        var rounds = 21;
        var millis = 30;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
            switch (args[i])
            {
                case "--policies": sizes = [.. value.Split(',').Select(Number)]; break;
                case "--rounds": rounds = Number(value); break;
                case "--millis": millis = Number(value); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        if (sizes.Length == 0 || sizes.Any(n => n < 10 || n > 60_000) || rounds < 2 || millis < 5)
        {
            throw new ArgumentException("--policies sizes must be within 10..60,000, --rounds at least 2 and --millis at least 5.");
        }

        foreach (var backend in new[] { LabBackend.Bpf, LabBackend.Iptables, LabBackend.Nftables })
        {
            if (PolicyLab.FindMissingRequirements(backend) is { } missing)
            {
                Console.Error.WriteLine($"packet-cost needs the {backend} lab: {missing}");
                return 2;
            }
        }

        Console.WriteLine(Invariant($"NetPolicy packet-cost: UDP datagrams client -> ingress-isolated server through the lab's node namespace; {rounds} rounds of {millis} ms per lab and case (first round discarded), median"));
        Console.WriteLine(Invariant($"kernel {BpfPacketCommand.ReadProc("/proc/sys/kernel/osrelease")}, {BpfPacketCommand.CpuModel()}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {Tool("nft", "--version")}, {Tool("iptables", "--version")}, {Tool("ipset", "--version")}"));
        var loads = new List<string> { BpfPacketCommand.ReadProc("/proc/loadavg") };
        Console.WriteLine($"load average at start: {loads[0]}");
        Console.WriteLine();

        var rows = new List<Row>();
        foreach (var n in sizes)
        {
            // Caught here, so the labs' finally blocks run (an unhandled exception ends the process before they do).
            try
            {
                rows.Add(MeasureAsync(n, rounds, TimeSpan.FromMilliseconds(millis)).GetAwaiter().GetResult());
            }
            catch (Exception ex) when (ex is InvalidOperationException or PolicyCompilationException or Loader.KernelOperationException or SocketException or IOException)
            {
                Console.Error.WriteLine($"packet-cost, N = {n}: {ex.Message}");
                return 1;
            }

            loads.Add(BpfPacketCommand.ReadProc("/proc/loadavg"));
            Console.WriteLine($"  load average: {loads[^1]}");
        }

        Print(rows, rounds);
        Console.WriteLine();
        Console.WriteLine($"load average (1/5/15 min) at start and after each N: {string.Join(" | ", loads.Select(l => string.Join(' ', l.Split(' ').Take(3))))}");
        return 0;
    }

    private static async Task<Row> MeasureAsync(int policies, int rounds, TimeSpan budget)
    {
        var cluster = BuildCluster(policies);
        var policySet = new PolicyCompiler().Compile(cluster.Snapshot).ThrowIfErrors();
        var row = new Row(policies, cluster.Snapshot.Pods.Count);
        row.Describe(policySet, cluster);
        Console.WriteLine(Invariant($"N = {policies:N0} policies, {cluster.Snapshot.Pods.Count:N0} pods: {row.Shape}"));

        var labs = new List<Lab>();
        try
        {
            // Recognisable namespace names: pcost<pid>-<N>-<lab>-node, -0, -1.
            NetworkLabOptions LabOptions(string lab) => new()
            {
                NamePrefix = Invariant($"pcost{Environment.ProcessId}-{policies}-{lab}"),
                ProbeTimeout = TimeSpan.FromMilliseconds(500),
                DeniedRetries = 0,
            };

            var baseline = await NetworkLab.CreateAsync(
                [new LabPod(cluster.Client, cluster.Snapshot.Pods[cluster.Client].Addresses), new LabPod(cluster.Server, cluster.Snapshot.Pods[cluster.Server].Addresses)],
                LabOptions(s_labNames[0])).ConfigureAwait(false);
            labs.Add(new Lab(s_labNames[0], baseline, null));
            foreach (var backend in new[] { LabBackend.Bpf, LabBackend.Iptables, LabBackend.Nftables })
            {
                var start = Stopwatch.GetTimestamp();
                var policyLab = await PolicyLab.StartAsync(cluster.Snapshot, new PolicyLabOptions
                {
                    Backend = backend,
                    Pods = key => key == cluster.Client || key == cluster.Server,
                    Lab = LabOptions(s_labNames[labs.Count]),
                }).ConfigureAwait(false);
                labs.Add(new Lab(s_labNames[labs.Count], policyLab.Lab, policyLab));
                Console.WriteLine(Invariant($"  {labs[^1].Name}: lab built and policy applied in {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s"));
            }

            foreach (var lab in labs)
            {
                await lab.PrepareAsync(cluster).ConfigureAwait(false);
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < labs.Count; k++)
                {
                    var lab = labs[(round + k) % labs.Count];
                    var established = lab.Measure(newFlows: false, budget);
                    var fresh = lab.Measure(newFlows: true, budget);
                    if (round > 0)
                    {
                        row.Add(lab.Name, established, fresh);
                    }
                }

                if (round == rounds - 1)
                {
                    row.Lost = string.Join(", ", labs.Select(l => Invariant($"{l.Name} {l.Lost:N0}")));
                }

                if (round > 0)
                {
                    Console.WriteLine(Invariant($"  round {round}: ") + string.Join("; ", labs.Select(l => Invariant($"{l.Name} {row.Last(l.Name, true):0}/{row.Last(l.Name, false):0}"))) + " ns per new/established packet (wall)");
                }
            }
        }
        finally
        {
            foreach (var lab in Enumerable.Reverse(labs))
            {
                await lab.DisposeAsync().ConfigureAwait(false);
            }
        }

        return row;
    }

    /// <summary>A cluster of exactly <paramref name="policies"/> policies. Namespaces <c>ns-00000</c>.. hold ten pods each
    /// (<c>app=a0</c>..<c>a9</c>; the namespace has <c>group=gK</c>, ten namespaces a group), and each pod is selected by
    /// one policy <c>allow-aJ</c>: ingress from <c>app=a(J+1)</c> of its namespace on TCP 8080, and from <c>app=a(J+2)</c>
    /// of every namespace of its group on UDP 5353 (a peer set of ten pods). Every pod is thus ingress-isolated with a rule
    /// set of its own: an iptables dispatch rule and chain, an nftables verdict-map element and chain, BPF policy entries
    /// (about 11 per rule set, so 10,000 policies stay within the datapath's default 262,144). The middle namespace (so the
    /// server's iptables dispatch rule is in the middle of <c>NP-FORWARD</c>) also holds <c>pc-client</c> (selected by
    /// nothing) and <c>pc-server</c>, selected by four policies: from <c>app=a0</c> TCP 8080, <c>app=a1</c> TCP 9090, group
    /// g0's <c>app=a2</c> TCP 9100 and, the only one that matches the measured flow, <c>app=pc-client</c> UDP 5000-5127.</summary>
    private static Cluster BuildCluster(int policies)
    {
        var generic = policies - ServerPolicies;
        var namespaceCount = Math.Max(1, (generic + AppsPerNamespace - 1) / AppsPerNamespace);
        var middle = namespaceCount / 2;
        var namespaces = new List<NamespaceDefinition>();
        var pods = new List<PodEndpoint>();
        var list = new List<NetworkPolicyDefinition>();
        var ordinal = 0;
        var made = 0;
        IPAddress Next() => new(Address(++ordinal));
        static NetworkPolicyRule Rule(NetworkPolicyPeer peer, TransportProtocol protocol, int port, int? endPort = null) =>
            new() { Peers = [peer], Ports = [new NetworkPolicyPort { Protocol = protocol, Port = port, EndPort = endPort }] };

        for (var i = 0; i < namespaceCount; i++)
        {
            var name = Invariant($"ns-{i:D5}");
            var group = Invariant($"g{i / GroupNamespaces}");
            namespaces.Add(NamespaceDefinition.Create(name, LabelSet.Of("group", group)));
            for (var j = 0; j < AppsPerNamespace; j++)
            {
                pods.Add(new PodEndpoint { Namespace = name, Name = Invariant($"a{j}"), Labels = LabelSet.Of("app", Invariant($"a{j}")), Addresses = [Next()] });
                if (made < generic)
                {
                    made++;
                    list.Add(new NetworkPolicyDefinition
                    {
                        Namespace = name,
                        Name = Invariant($"allow-a{j}"),
                        PodSelector = LabelSelector.ForLabels("app", Invariant($"a{j}")),
                        AffectsIngress = true,
                        Ingress =
                        [
                            Rule(new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", Invariant($"a{(j + 1) % AppsPerNamespace}")) }, TransportProtocol.Tcp, 8080),
                            Rule(new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels("group", group), PodSelector = LabelSelector.ForLabels("app", Invariant($"a{(j + 2) % AppsPerNamespace}")) },
                                TransportProtocol.Udp, 5353),
                        ],
                    });
                }
            }

            if (i == middle)
            {
                pods.Add(new PodEndpoint { Namespace = name, Name = "pc-client", Labels = LabelSet.Of("app", "pc-client"), Addresses = [Next()] });
                pods.Add(new PodEndpoint { Namespace = name, Name = "pc-server", Labels = LabelSet.Of("app", "pc-server"), Addresses = [Next()] });
                NetworkPolicyDefinition Server(string policy, NetworkPolicyRule rule) => new()
                {
                    Namespace = name,
                    Name = policy,
                    PodSelector = LabelSelector.ForLabels("app", "pc-server"),
                    AffectsIngress = true,
                    Ingress = [rule],
                };
                list.Add(Server("server-from-a0", Rule(new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "a0") }, TransportProtocol.Tcp, 8080)));
                list.Add(Server("server-from-a1", Rule(new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "a1") }, TransportProtocol.Tcp, 9090)));
                list.Add(Server("server-from-g0-a2", Rule(new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels("group", "g0"), PodSelector = LabelSelector.ForLabels("app", "a2") }, TransportProtocol.Tcp, 9100)));
                list.Add(Server("server-from-client", Rule(new NetworkPolicyPeer { PodSelector = LabelSelector.ForLabels("app", "pc-client") }, TransportProtocol.Udp, AllowedFirstPort, AllowedLastPort)));
            }
        }

        if (list.Count != policies)
        {
            throw new InvalidOperationException($"generated {list.Count} policies, expected {policies}");
        }

        var serverNamespace = Invariant($"ns-{middle:D5}");
        return new Cluster(ClusterSnapshot.FromModel(namespaces, pods, list), serverNamespace + "/pc-client", serverNamespace + "/pc-server");
    }

    /// <summary>198.18.0.0 + ordinal (pods from 198.18.0.1; the /15 holds 131,070 of them before the lab's gateway).</summary>
    private static byte[] Address(int ordinal)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (198u << 24) | (18u << 16) | (uint)ordinal);
        return bytes;
    }

    private static void Print(List<Row> rows, int rounds)
    {
        Console.WriteLine();
        Console.WriteLine(Invariant($"Wall time per datagram sent (ns), median of {rounds - 1} rounds [min-max]; 'policy' = backend - no-policy lab of the same N, medians"));
        Console.WriteLine();
        Console.WriteLine("| policies (pods) | no policy: new / established | BPF: new / est. | iptables+ipset: new / est. | nftables: new / est. | policy cost, new flow: BPF / iptables / nftables | policy cost, established: BPF / iptables / nftables |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(Invariant($"| {r.Policies:N0} ({r.Pods:N0}) | {r.Cell("none", true)} / {r.Cell("none", false)} | {r.Cell("bpf", true)} / {r.Cell("bpf", false)} | {r.Cell("iptables", true)} / {r.Cell("iptables", false)} | {r.Cell("nftables", true)} / {r.Cell("nftables", false)} | {r.Cost("bpf", true)} / {r.Cost("iptables", true)} / {r.Cost("nftables", true)} | {r.Cost("bpf", false)} / {r.Cost("iptables", false)} / {r.Cost("nftables", false)} |"));
        }

        Console.WriteLine();
        if (rows.Count > 1)
        {
            // The slope between consecutive sizes: what one more dispatch rule in front of the server's costs (the fixed
            // part, conntrack and the server's chain, cancels out).
            Console.WriteLine("iptables: new-flow cost per extra dispatch rule passed before the server's (NP-TO-POD shards + rules in the shard), between consecutive sizes (wall / CPU): " +
                string.Join("; ", rows.Zip(rows.Skip(1), (a, b) => Invariant(
                    $"{a.Policies:N0} -> {b.Policies:N0}: {Slope(a, b, r => r.Median("iptables", true) - r.Median("none", true)):0.0} / {Slope(a, b, r => r.CpuMedian("iptables", true) - r.CpuMedian("none", true)):0.0} ns"))));
        }

        Console.WriteLine();
        Console.WriteLine("The same with the sender thread's CPU time (/proc/thread-self/schedstat; softirq time is charged to it: no CONFIG_IRQ_TIME_ACCOUNTING), ns, medians");
        Console.WriteLine();
        Console.WriteLine("| policies | no policy: new / est. | BPF | iptables+ipset | nftables | policy cost, new flow: BPF / iptables / nftables |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(Invariant($"| {r.Policies:N0} | {r.CpuMedian("none", true):0} / {r.CpuMedian("none", false):0} | {r.CpuMedian("bpf", true):0} / {r.CpuMedian("bpf", false):0} | {r.CpuMedian("iptables", true):0} / {r.CpuMedian("iptables", false):0} | {r.CpuMedian("nftables", true):0} / {r.CpuMedian("nftables", false):0} | {r.CpuMedian("bpf", true) - r.CpuMedian("none", true):0} / {r.CpuMedian("iptables", true) - r.CpuMedian("none", true):0} / {r.CpuMedian("nftables", true) - r.CpuMedian("none", true):0} |"));
        }

        Console.WriteLine();
        foreach (var r in rows)
        {
            Console.WriteLine(Invariant($"N = {r.Policies:N0}: {r.Shape}; datagrams per measurement (median): ") +
                string.Join(", ", s_labNames.Select(l => Invariant($"{l} {r.Count(l, true):N0}/{r.Count(l, false):N0}"))) + $"; sent but not counted at the server, all rounds (9 per server socket stay in its queue, unread): {r.Lost}");
        }
    }

    private static double Slope(Row a, Row b, Func<Row, double> cost) => (cost(b) - cost(a)) / (b.DispatchPosition - a.DispatchPosition);

    private static string Tool(string tool, string argument)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output.Split('\n')[0];
    }

    private static int Number(string value) => int.Parse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Cluster(ClusterSnapshot Snapshot, string Client, string Server);

    /// <summary>One measurement: datagrams sent, wall and CPU nanoseconds per datagram.</summary>
    private sealed record Sample(long Sent, double WallNs, double CpuNs);

    /// <summary>A lab under measurement: the raw sender in the client's namespace, the never-read server sockets, the
    /// established flow, and the counters that check every datagram arrived.</summary>
    private sealed class Lab(string name, NetworkLab network, PolicyLab? policyLab) : IAsyncDisposable
    {
        private readonly List<Socket> _sockets = [];
        private readonly byte[] _packet = new byte[20 + 8 + 16];
        private Socket? _raw;
        private int _flow;

        public string Name { get; } = name;

        public long Lost { get; private set; }

        public async Task PrepareAsync(Cluster cluster)
        {
            var client = network.Endpoints[cluster.Client];
            var server = network.Endpoints[cluster.Server];
            var clientAddress = client.AddressOf(AddressFamily.InterNetwork)!;
            var serverAddress = server.AddressOf(AddressFamily.InterNetwork)!;

            // The policy works (before the sockets below take the ports): allowed in range, denied outside (the no-policy
            // lab lets both through).
            var allowed = await network.ProbeAsync(cluster.Client, serverAddress, LabProtocol.Udp, ProbePort).ConfigureAwait(false);
            var denied = !await network.ProbeAsync(cluster.Client, serverAddress, LabProtocol.Udp, DeniedProbePort).ConfigureAwait(false);
            if (!allowed || denied != (policyLab is not null))
            {
                throw new InvalidOperationException($"{Name}: UDP {ProbePort} {(allowed ? "allowed" : "denied")}, UDP {DeniedProbePort} {(denied ? "denied" : "allowed")}; expected allowed and {(policyLab is null ? "allowed" : "denied")}");
            }

            if (policyLab is { Backend: not LabBackend.Bpf })
            {
                // Unanswered UDP flows stay in the node's conntrack table for 30 s by default; keep the table from growing
                // over the run (tens of thousands of flows a second), so every round sees a similar table.
                network.Node.SetSysctl("net/netfilter/nf_conntrack_udp_timeout", "2");
            }

            server.Namespace.Run(() =>
            {
                for (var port = AllowedFirstPort; port < AllowedFirstPort + MeasuredPorts; port++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4096, ReceiveTimeout = 2000 };
                    _sockets.Add(socket);
                    socket.Bind(new IPEndPoint(serverAddress, port));
                }
            });
            var established = client.Namespace.Run(() =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
                _sockets.Add(socket);
                socket.Bind(new IPEndPoint(clientAddress, EstablishedSourcePort));
                _raw = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
                _raw.Connect(new IPEndPoint(serverAddress, 0));
                return socket;
            });

            // The established flow: client:65000 -> server:5000 and the server's answer, so conntrack has seen a reply.
            established.SendTo("hello"u8, new IPEndPoint(serverAddress, AllowedFirstPort));
            var buffer = new byte[64];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            var n = _sockets[0].ReceiveFrom(buffer, ref from);
            _sockets[0].SendTo(buffer.AsSpan(0, n), from);
            n = established.Receive(buffer);
            if (n != 5)
            {
                throw new InvalidOperationException($"{Name}: the established flow's answer did not arrive");
            }

            // IPv4 header (the kernel fills in the id and checksum when they are 0) and a UDP header without checksum.
            var p = _packet.AsSpan();
            p[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)_packet.Length);
            p[8] = 64;
            p[9] = (byte)ProtocolType.Udp;
            clientAddress.TryWriteBytes(p[12..], out _);
            serverAddress.TryWriteBytes(p[16..], out _);
            BinaryPrimitives.WriteUInt16BigEndian(p[24..], (ushort)(_packet.Length - 20));
            "packet-cost data"u8.CopyTo(p[28..]);
        }

        /// <summary>Sends for <paramref name="budget"/> on the client namespace's thread; checks the server got them all.</summary>
        public Sample Measure(bool newFlows, TimeSpan budget)
        {
            var datapath = policyLab?.Datapath;
            if (newFlows)
            {
                // Equal conditions for every round: an empty LRU (the netfilter labs' table shrinks with the 2 s timeout).
                datapath?.FlushConntrack();
            }

            var stats = datapath?.ReadStatistics();
            var before = ServerDatagrams();
            var sample = network.Endpoints.Values.First(e => e.Key.EndsWith("/pc-client", StringComparison.Ordinal)).Namespace.Run(() => Send(newFlows, budget));
            var arrived = ServerDatagrams() - before;
            for (var wait = 0; arrived < sample.Sent && wait < 20; wait++)
            {
                Thread.Sleep(5); // a softirq deferred to ksoftirqd
                arrived = ServerDatagrams() - before;
            }

            // Udp InDatagrams counts a datagram when it is read, so the few queued in a never-read socket (its 4 KiB buffer,
            // doubled by the kernel, holds 9) never show; a softirq deferred to ksoftirqd may also lose some to a full
            // backlog (netdev_max_backlog). A policy drop loses them all.
            if (arrived < sample.Sent * 0.99)
            {
                throw new InvalidOperationException($"{Name}: sent {sample.Sent:N0} datagrams ({(newFlows ? "new flows" : "established")}), the server got {arrived:N0}");
            }

            Lost += sample.Sent - arrived;

            if (datapath is not null && stats is { } s && datapath.ReadStatistics().Dropped != s.Dropped)
            {
                throw new InvalidOperationException($"{Name}: the datapath dropped packets of allowed flows");
            }

            return sample;
        }

        public async ValueTask DisposeAsync()
        {
            _raw?.Dispose();
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            if (policyLab is not null)
            {
                await policyLab.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                await network.DisposeAsync().ConfigureAwait(false);
            }
        }

        private Sample Send(bool newFlows, TimeSpan budget)
        {
            var raw = _raw!;
            var packet = _packet;
            var ports = packet.AsSpan(20, 4);
            BinaryPrimitives.WriteUInt16BigEndian(ports, EstablishedSourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(ports[2..], AllowedFirstPort);
            long sent = 0;
            var cpu = ThreadCpuNanoseconds();
            var start = Stopwatch.GetTimestamp();
            var end = start + (long)(budget.TotalSeconds * Stopwatch.Frequency);
            do
            {
                for (var i = 0; i < 64; i++)
                {
                    if (newFlows)
                    {
                        // Every (source port, destination port) pair once per lab: 60,000 x 64 = 3.84 million flows.
                        var flow = _flow++;
                        BinaryPrimitives.WriteUInt16BigEndian(ports, (ushort)(FirstSourcePort + (flow % SourcePorts)));
                        BinaryPrimitives.WriteUInt16BigEndian(ports[2..], (ushort)(AllowedFirstPort + (flow / SourcePorts % MeasuredPorts)));
                    }

                    raw.Send(packet);
                }

                sent += 64;
            }
            while (Stopwatch.GetTimestamp() < end);

            var wall = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
            cpu = ThreadCpuNanoseconds() - cpu;
            return new Sample(sent, wall / sent, (double)cpu / sent);
        }

        /// <summary>Datagrams that reached a UDP socket of the server's namespace (queued or dropped on a full buffer).</summary>
        private long ServerDatagrams()
        {
            var server = network.Endpoints.Values.First(e => e.Key.EndsWith("/pc-server", StringComparison.Ordinal));
            var lines = server.Namespace.Run(() => File.ReadAllLines("/proc/thread-self/net/snmp")).Where(l => l.StartsWith("Udp: ", StringComparison.Ordinal)).ToList();
            var names = lines[0].Split(' ');
            var values = lines[1].Split(' ');
            long Field(string field) => long.Parse(values[Array.IndexOf(names, field)], CultureInfo.InvariantCulture);
            return Field("InDatagrams") + Field("RcvbufErrors");
        }

        private static long ThreadCpuNanoseconds() =>
            long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private sealed class Row(int policies, int pods)
    {
        private readonly Dictionary<(string Lab, bool New), List<Sample>> _samples = [];

        public int Policies { get; } = policies;

        public int Pods { get; } = pods;

        public string Shape { get; private set; } = "";

        public int DispatchPosition { get; private set; }

        public string Lost { get; set; } = "";

        public void Describe(Compiler.Ir.CompiledPolicySet policySet, Cluster cluster)
        {
            var rendered = IptablesRenderer.Render(policySet);
            var ipt = rendered.IPv4Rules.Split('\n');
            var nft = NftablesRenderer.Render(policySet).Text;
            var server = cluster.Snapshot.Pods[cluster.Server].Addresses[0];
            var client = cluster.Snapshot.Pods[cluster.Client].Addresses[0];
            // Dispatch to a receiving pod goes NP-TO-POD -> one shard chain per /24 -> the pod's rule: the rules a new
            // packet walks are the shard's position in NP-TO-POD plus the pod's position in its shard.
            var rules = ipt.Where(l => l.StartsWith("-A ", StringComparison.Ordinal)).ToList();
            var podRule = rules.First(l => l.Contains($"-d {server}/32 ", StringComparison.Ordinal) && l.Contains(" -j NP-IN-", StringComparison.Ordinal));
            var shard = podRule.Split(' ')[1];
            var shardRules = rules.Where(l => l.StartsWith($"-A {shard} ", StringComparison.Ordinal)).ToList();
            var toPod = rules.Where(l => l.StartsWith("-A NP-TO-POD ", StringComparison.Ordinal)).ToList();
            var shardPosition = toPod.FindIndex(l => l.EndsWith($" -j {shard}", StringComparison.Ordinal)) + 1;
            var podPosition = shardRules.IndexOf(podRule) + 1;
            var chain = podRule.Split(" -j ")[^1];
            DispatchPosition = shardPosition + podPosition;
            var chainRules = ipt.Where(l => l.StartsWith($"-A {chain} ", StringComparison.Ordinal)).ToList();
            var allowing = chainRules.FindIndex(l => l.Contains("udp", StringComparison.Ordinal) && l.Contains("5000:5127", StringComparison.Ordinal)
                && Sets(l).Any(set => rendered.IpsetRestore.Contains($"add {set}-tmp {client}\n", StringComparison.Ordinal)));
            Shape = Invariant($"iptables: {ipt.Count(l => l.StartsWith("-A ", StringComparison.Ordinal)):N0} rules, the server's dispatch: shard {shard} is {shardPosition} of {toPod.Count} in NP-TO-POD, the server {podPosition} of {shardRules.Count} in it, the allowing rule {allowing + 1} of {chainRules.Count} in {chain}; nftables: {nft.Length / 1e6:0.00} MB, {nft.Split('\n').Count(l => l.TrimStart().StartsWith("chain ", StringComparison.Ordinal)):N0} chains; BPF: {policySet.Identities.Count:N0} identities");
        }

        public void Add(string lab, Sample established, Sample fresh)
        {
            Samples(lab, false).Add(established);
            Samples(lab, true).Add(fresh);
        }

        public double Last(string lab, bool newFlows) => Samples(lab, newFlows)[^1].WallNs;

        public double Median(string lab, bool newFlows) => PacketCostCommand.Median(Samples(lab, newFlows).Select(s => s.WallNs));

        public double CpuMedian(string lab, bool newFlows) => PacketCostCommand.Median(Samples(lab, newFlows).Select(s => s.CpuNs));

        public long Count(string lab, bool newFlows) => (long)PacketCostCommand.Median(Samples(lab, newFlows).Select(s => (double)s.Sent));

        public string Cell(string lab, bool newFlows)
        {
            var list = Samples(lab, newFlows);
            return Invariant($"{Median(lab, newFlows):0} [{list.Min(s => s.WallNs):0}-{list.Max(s => s.WallNs):0}]");
        }

        public string Cost(string lab, bool newFlows) => Invariant($"{Median(lab, newFlows) - Median("none", newFlows):+0;-0}");

        private static IEnumerable<string> Sets(string rule)
        {
            var parts = rule.Split(' ');
            for (var i = 0; i + 1 < parts.Length; i++)
            {
                if (parts[i] == "--match-set")
                {
                    yield return parts[i + 1];
                }
            }
        }

        private List<Sample> Samples(string lab, bool newFlows)
        {
            if (!_samples.TryGetValue((lab, newFlows), out var list))
            {
                _samples[(lab, newFlows)] = list = [];
            }

            return list;
        }
    }
}
