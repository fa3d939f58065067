using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader.Lab;

/// <summary>A network-namespace lab: one namespace per pod, each joined by a veth pair to a node namespace that routes
/// between them as a real node does, with servers on every probed port and probes between pods.</summary>
/// <remarks>
/// <para>Topology: pod namespace <c>PREFIX-N</c> has <c>eth0</c> with the pod's /32 and /128, a default route through
/// the gateway <see cref="GatewayIPv4"/> / <see cref="GatewayIPv6"/>; the node namespace <c>PREFIX-node</c> holds the
/// host side of every pair (<see cref="LabEndpoint.HostInterface"/>, where a datapath attaches), a host route per pod
/// address and forwarding on. Addresses are restricted to 198.18.0.0/15 and <c>fd00::/8</c>: a lab never sends to
/// anything else.</para>
/// <para>Every pod answers on every probed port whatever its declared container ports, because a matrix asks whether
/// policy lets the connection through: TCP with real listening sockets, UDP with an echo server, SCTP with crafted INIT
/// chunks sent and received through raw sockets (kernels without SCTP sockets still deliver to raw sockets).</para>
/// <para>Requires root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2. <see cref="DisposeAsync"/> deletes every namespace the
/// lab created, also after a failed creation.</para>
/// </remarks>
public sealed class NetworkLab : IAsyncDisposable
{
    /// <summary>The IPv4 gateway address of every pod (on every host-side interface).</summary>
    public static readonly IPAddress GatewayIPv4 = IPAddress.Parse("198.19.255.254");

    /// <summary>The IPv6 gateway address of every pod (on every host-side interface).</summary>
    public static readonly IPAddress GatewayIPv6 = IPAddress.Parse("fd00:198::fffe:fffe");

    private static readonly IPNetwork AllowedIPv4 = IPNetwork.Parse("198.18.0.0/15");
    private static readonly IPNetwork AllowedIPv6 = IPNetwork.Parse("fd00::/8");

    private readonly NetworkLabOptions _options;
    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly Dictionary<string, LabEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Pod, LabProtocol Protocol, int Port), Task> _servers = new();
    private readonly ConcurrentDictionary<(string Pod, AddressFamily Family), Task> _sctpReceivers = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _sctpWaiting = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _parallel;
    private int _nextSourcePort;
    private int _disposed;

    private NetworkLab(NetworkLabOptions options)
    {
        _options = options;
        _parallel = new SemaphoreSlim(Math.Max(1, options.MaxParallelProbes));
        Node = null!;
    }

    /// <summary>Gets the node namespace (the host side of every veth pair lives here).</summary>
    public NetworkNamespace Node { get; private set; }

    /// <summary>Gets the lab's pods by key.</summary>
    public IReadOnlyDictionary<string, LabEndpoint> Endpoints => _endpoints;

    /// <summary>Builds a lab.</summary>
    /// <param name="pods">The pods; their addresses must be in 198.18.0.0/15 or <c>fd00::/8</c>.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the build (what was built is removed).</param>
    /// <returns>The lab.</returns>
    /// <exception cref="ArgumentException">When an address is outside the lab ranges, or two pods share one.</exception>
    /// <exception cref="KernelOperationException">When a namespace, interface or route cannot be made (typically: not root).</exception>
    public static async Task<NetworkLab> CreateAsync(IEnumerable<LabPod> pods, NetworkLabOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var list = pods.ToList();
        Validate(list);
        var lab = new NetworkLab(options ?? new NetworkLabOptions());
        try
        {
            await Task.Run(() => lab.Build(list, cancellationToken), cancellationToken).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Probes whether a connection from a pod to an address and port gets through.</summary>
    /// <param name="fromPod">The source pod key.</param>
    /// <param name="destination">The destination address: a lab pod's address.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns><see langword="true"/> when the destination answered (TCP, UDP) or saw the packet (SCTP).</returns>
    public async Task<bool> ProbeAsync(string fromPod, IPAddress destination, LabProtocol protocol, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var source = Endpoint(fromPod);
        var target = _endpoints.Values.FirstOrDefault(e => e.Addresses.Contains(destination))
            ?? throw new ArgumentException($"{destination} is not the address of a lab pod; a lab only sends to its own pods.", nameof(destination));
        if (source.AddressOf(destination.AddressFamily) is null)
        {
            throw new ArgumentException($"pod {fromPod} has no {destination.AddressFamily} address.", nameof(destination));
        }

        await EnsureServerAsync(target, protocol, port, destination.AddressFamily).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            await _parallel.WaitAsync(cancellationToken).ConfigureAwait(false);
            bool answered;
            try
            {
                answered = protocol switch
                {
                    LabProtocol.Tcp => await ConnectTcpFromAsync(source.Namespace, destination, port, cancellationToken).ConfigureAwait(false),
                    LabProtocol.Udp => await ProbeUdpAsync(source, destination, port, cancellationToken).ConfigureAwait(false),
                    _ => await ProbeSctpAsync(source, destination, port, cancellationToken).ConfigureAwait(false),
                };
            }
            finally
            {
                _parallel.Release();
            }

            if (answered || attempt >= _options.DeniedRetries)
            {
                return answered;
            }
        }
    }

    /// <summary>Probes whether a TCP connection from the node namespace itself (as a kubelet probe is) to a pod gets through;
    /// its source is the node's address on the pod's host interface (<see cref="GatewayIPv4"/> or <see cref="GatewayIPv6"/>).</summary>
    /// <param name="destination">A lab pod's address.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns><see langword="true"/> when the pod accepted the connection.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not a lab pod's address.</exception>
    public async Task<bool> ProbeFromNodeAsync(IPAddress destination, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var target = _endpoints.Values.FirstOrDefault(e => e.Addresses.Contains(destination))
            ?? throw new ArgumentException($"{destination} is not the address of a lab pod; a lab only sends to its own pods.", nameof(destination));
        await EnsureServerAsync(target, LabProtocol.Tcp, port, destination.AddressFamily).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            if (await ConnectTcpFromAsync(Node, destination, port, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (attempt >= _options.DeniedRetries)
            {
                return false;
            }
        }
    }

    /// <summary>Probes every ordered pair of pods on one port, in parallel; a pod's connection to itself counts as allowed
    /// (it never leaves the pod), and a pair without a common address family as denied.</summary>
    /// <param name="pods">The pods, in matrix order.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="family">The family to probe, or <see langword="null"/> for IPv4 where both pods have it, else IPv6.</param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>Rows are sources, columns destinations.</returns>
    public async Task<ImmutableArray<ImmutableArray<bool>>> ProbeMatrixAsync(
        IReadOnlyList<string> pods, LabProtocol protocol, int port, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var results = new bool[pods.Count, pods.Count];
        var probes = new List<Task>();
        for (var i = 0; i < pods.Count; i++)
        {
            for (var j = 0; j < pods.Count; j++)
            {
                if (i == j)
                {
                    results[i, j] = true;
                    continue;
                }

                var source = Endpoint(pods[i]);
                var target = Endpoint(pods[j]);
                var chosen = family is { } f
                    ? (source.AddressOf(f) is not null ? target.AddressOf(f) : null)
                    : (source.AddressOf(AddressFamily.InterNetwork) is not null ? target.AddressOf(AddressFamily.InterNetwork) : null)
                      ?? (source.AddressOf(AddressFamily.InterNetworkV6) is not null ? target.AddressOf(AddressFamily.InterNetworkV6) : null);
                if (chosen is null)
                {
                    continue;
                }

                var (row, column) = (i, j);
                probes.Add(Task.Run(
                    async () => results[row, column] = await ProbeAsync(source.Key, chosen, protocol, port, cancellationToken).ConfigureAwait(false),
                    cancellationToken));
            }
        }

        await Task.WhenAll(probes).ConfigureAwait(false);
        var rows = ImmutableArray.CreateBuilder<ImmutableArray<bool>>(pods.Count);
        for (var i = 0; i < pods.Count; i++)
        {
            var row = ImmutableArray.CreateBuilder<bool>(pods.Count);
            for (var j = 0; j < pods.Count; j++)
            {
                row.Add(results[i, j]);
            }

            rows.Add(row.MoveToImmutable());
        }

        return rows.MoveToImmutable();
    }

    /// <summary>Opens a TCP connection from a pod and keeps it open (for established-flow tests).</summary>
    /// <param name="fromPod">The source pod key.</param>
    /// <param name="destination">The destination pod address.</param>
    /// <param name="port">The port; the destination's server echoes every byte it receives.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connected socket; the caller disposes it.</returns>
    /// <exception cref="TimeoutException">When the connection does not get through within the probe timeout.</exception>
    public async Task<Socket> ConnectTcpAsync(string fromPod, IPAddress destination, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var source = Endpoint(fromPod);
        var target = _endpoints.Values.FirstOrDefault(e => e.Addresses.Contains(destination))
            ?? throw new ArgumentException($"{destination} is not the address of a lab pod.", nameof(destination));
        await EnsureServerAsync(target, LabProtocol.Tcp, port, destination.AddressFamily).ConfigureAwait(false);
        var socket = await source.Namespace.RunAsync(() => new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp)).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(destination, port), timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"TCP connection {fromPod} -> {destination}:{port} did not get through within {_options.ProbeTimeout.TotalMilliseconds} ms.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends bytes over a connection made by <see cref="ConnectTcpAsync"/> and returns whether they came back
    /// (echoed by the destination) within the probe timeout.</summary>
    /// <param name="socket">The connection.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns><see langword="true"/> when the echo arrived.</returns>
    public async Task<bool> ExchangeAsync(Socket socket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var payload = BitConverter.GetBytes(Random.Shared.Next());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            await socket.SendAsync(payload, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[payload.Length];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return buffer.AsSpan().SequenceEqual(payload);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Stops every server and deletes every namespace of the lab.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        var errors = new List<Exception>();
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try
            {
                ns.Dispose();
            }
            catch (KernelOperationException ex)
            {
                errors.Add(ex);
            }
        }

        _stopping.Dispose();
        _parallel.Dispose();
        if (errors.Count > 0)
        {
            throw new AggregateException("some lab namespaces could not be deleted", errors);
        }
    }

    private static void Validate(List<LabPod> pods)
    {
        var seen = new HashSet<IPAddress>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            if (!keys.Add(pod.Key))
            {
                throw new ArgumentException($"pod {pod.Key} appears twice.", nameof(pods));
            }

            if (pod.Addresses.IsDefaultOrEmpty)
            {
                throw new ArgumentException($"pod {pod.Key} has no address.", nameof(pods));
            }

            foreach (var address in pod.Addresses)
            {
                var allowed = address.AddressFamily == AddressFamily.InterNetwork ? AllowedIPv4 : AllowedIPv6;
                if (!allowed.Contains(address) || address.Equals(GatewayIPv4) || address.Equals(GatewayIPv6))
                {
                    throw new ArgumentException($"pod {pod.Key}: address {address} is outside the lab ranges (198.18.0.0/15, fd00::/8) or is a lab gateway; the lab never uses other addresses.", nameof(pods));
                }

                if (!seen.Add(address))
                {
                    throw new ArgumentException($"pod {pod.Key}: address {address} is used twice.", nameof(pods));
                }
            }

            if (pod.Addresses.Count(a => a.AddressFamily == AddressFamily.InterNetwork) > 1 || pod.Addresses.Count(a => a.AddressFamily == AddressFamily.InterNetworkV6) > 1)
            {
                throw new ArgumentException($"pod {pod.Key}: at most one address per family.", nameof(pods));
            }
        }
    }

    private void Build(List<LabPod> pods, CancellationToken cancellationToken)
    {
        var prefix = _options.NamePrefix;
        Node = NetworkNamespace.Create(prefix + "-node");
        _namespaces.Add(Node);
        Node.SetSysctl("net/ipv4/ip_forward", "1");
        Node.SetSysctl("net/ipv6/conf/all/forwarding", "1");
        Node.SetSysctl("net/ipv4/conf/all/rp_filter", "0");
        Node.SetSysctl("net/ipv4/conf/default/rp_filter", "0");

        // No duplicate address detection: addresses (link-local ones included) must be usable at once. Interfaces copy
        // these defaults when they are created, so they are set before any veth exists.
        Node.SetSysctl("net/ipv6/conf/all/accept_dad", "0");
        Node.SetSysctl("net/ipv6/conf/default/accept_dad", "0");
        Node.IpBatch(["link set lo up"]);
        var nodeCommands = new List<string>();
        for (var i = 0; i < pods.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pod = pods[i];
            var ns = NetworkNamespace.Create($"{prefix}-{i}");
            _namespaces.Add(ns);
            var host = "p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ns.SetSysctl("net/ipv6/conf/all/accept_dad", "0");
            ns.SetSysctl("net/ipv6/conf/default/accept_dad", "0");
            Node.IpBatch([$"link add {host} type veth peer name eth0 netns {ns.Name}"]);
            var podCommands = new List<string> { "link set lo up", "link set eth0 up" };
            nodeCommands.Add($"link set {host} up");
            foreach (var address in pod.Addresses)
            {
                var v4 = address.AddressFamily == AddressFamily.InterNetwork;
                var bits = v4 ? 32 : 128;
                var gateway = v4 ? GatewayIPv4 : GatewayIPv6;
                podCommands.Add($"addr add {address}/{bits} dev eth0" + (v4 ? string.Empty : " nodad"));
                podCommands.Add($"route add {gateway}/{bits} dev eth0 scope link");
                podCommands.Add(v4 ? $"route add default via {gateway} dev eth0" : $"route add ::/0 via {gateway} dev eth0");
                nodeCommands.Add($"route add {address}/{bits} dev {host}");
            }

            nodeCommands.Add($"addr add {GatewayIPv4}/32 dev {host}");
            nodeCommands.Add($"addr add {GatewayIPv6}/128 dev {host} nodad");
            ns.IpBatch(podCommands);
            _endpoints[pod.Key] = new LabEndpoint(pod.Key, ns, host, 0, pod.Addresses);
        }

        // Addresses and routes need the interfaces up; the host side's gateway address goes on before the routes use it.
        Node.IpBatch(nodeCommands.Where(c => c.StartsWith("link", StringComparison.Ordinal))
            .Concat(nodeCommands.Where(c => c.StartsWith("addr", StringComparison.Ordinal)))
            .Concat(nodeCommands.Where(c => c.StartsWith("route", StringComparison.Ordinal))));
        foreach (var key in _endpoints.Keys.ToList())
        {
            var endpoint = _endpoints[key];
            _endpoints[key] = endpoint with { HostInterfaceIndex = Node.GetInterfaceIndex(endpoint.HostInterface) };
        }
    }

    private LabEndpoint Endpoint(string pod) =>
        _endpoints.TryGetValue(pod, out var endpoint) ? endpoint : throw new ArgumentException($"pod {pod} is not in the lab.", nameof(pod));

    private int NextSourcePort() => 20000 + (int)((uint)Interlocked.Increment(ref _nextSourcePort) % 40000);

    private Task EnsureServerAsync(LabEndpoint target, LabProtocol protocol, int port, AddressFamily family) =>
        protocol == LabProtocol.Sctp
            ? _sctpReceivers.GetOrAdd((target.Key, family), k => StartSctpReceiver(target, k.Family))
            : _servers.GetOrAdd((target.Key, protocol, port), k => StartServer(target, k.Protocol, k.Port));

    private Task StartServer(LabEndpoint target, LabProtocol protocol, int port)
    {
        var sockets = target.Namespace.Run(() =>
        {
            var made = new List<Socket>();
            foreach (var address in target.Addresses)
            {
                var socket = protocol == LabProtocol.Tcp
                    ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                    : new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, port));
                if (protocol == LabProtocol.Tcp)
                {
                    socket.Listen(1024);
                }

                made.Add(socket);
            }

            return made;
        });
        foreach (var socket in sockets)
        {
            _sockets.Add(socket);
            _ = protocol == LabProtocol.Tcp ? Task.Run(() => AcceptLoopAsync(socket)) : Task.Run(() => EchoLoopAsync(socket));
        }

        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var connection = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                _sockets.Add(connection);
                _ = Task.Run(() => EchoStreamAsync(connection));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
    }

    private async Task EchoStreamAsync(Socket connection)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await connection.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
        finally
        {
            connection.Dispose();
        }
    }

    private async Task EchoLoopAsync(Socket socket)
    {
        var buffer = new byte[2048];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetwork ? new IPEndPoint(IPAddress.Any, 0) : new IPEndPoint(IPAddress.IPv6Any, 0);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token).ConfigureAwait(false);
                await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Connects over TCP from a namespace (a pod's or the node's); false when refused or timed out.</summary>
    private async Task<bool> ConnectTcpFromAsync(NetworkNamespace origin, IPAddress destination, int port, CancellationToken cancellationToken)
    {
        using var socket = await origin.RunAsync(() => new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp)).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(destination, port), timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task<bool> ProbeUdpAsync(LabEndpoint source, IPAddress destination, int port, CancellationToken cancellationToken)
    {
        var local = source.AddressOf(destination.AddressFamily)!;
        using var socket = await source.Namespace.RunAsync(() =>
        {
            // A fresh source port per probe (rotating through 40,000), so a conntrack entry of an earlier probe never
            // stands in for this one.
            for (var attempt = 0; ; attempt++)
            {
                var s = new Socket(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                try
                {
                    s.Bind(new IPEndPoint(local, NextSourcePort()));
                    return s;
                }
                catch (SocketException) when (attempt < 16)
                {
                    s.Dispose();
                }
            }
        }).ConfigureAwait(false);
        var payload = BitConverter.GetBytes(Random.Shared.NextInt64());
        var target = new IPEndPoint(destination, port);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProbeTimeout);
        var buffer = new byte[64];
        var receive = socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).AsTask();
        try
        {
            for (var attempt = 0; attempt < 3 && !receive.IsCompleted; attempt++)
            {
                await socket.SendToAsync(payload, SocketFlags.None, target, timeout.Token).ConfigureAwait(false);
                await Task.WhenAny(receive, Task.Delay(_options.ProbeTimeout / 3, timeout.Token)).ConfigureAwait(false);
            }

            var n = await receive.ConfigureAwait(false);
            return buffer.AsSpan(0, n).SequenceEqual(payload);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // .NET refuses protocol numbers it does not know for raw sockets, so the socket comes from socket(2) directly.
    private static Socket RawSctpSocket(AddressFamily family)
    {
        const int AfInet = 2, AfInet6 = 10, SockRaw = 3;
        var fd = NetnsInterop.Socket(family == AddressFamily.InterNetwork ? AfInet : AfInet6, SockRaw, SctpPacket.Protocol);
        if (fd < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new KernelOperationException($"cannot open a raw SCTP socket (errno {errno}); raw sockets need CAP_NET_RAW.", "socket", errno);
        }

        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    private Task StartSctpReceiver(LabEndpoint target, AddressFamily family)
    {
        if (target.AddressOf(family) is null)
        {
            return Task.CompletedTask;
        }

        var socket = target.Namespace.Run(() => RawSctpSocket(family));
        _sockets.Add(socket);
        _ = Task.Run(() => SctpReceiveLoopAsync(socket, family));
        return Task.CompletedTask;
    }

    private async Task SctpReceiveLoopAsync(Socket socket, AddressFamily family)
    {
        var buffer = new byte[2048];
        EndPoint any = family == AddressFamily.InterNetwork ? new IPEndPoint(IPAddress.Any, 0) : new IPEndPoint(IPAddress.IPv6Any, 0);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token).ConfigureAwait(false);
                var packet = buffer.AsSpan(0, received.ReceivedBytes);
                if (family == AddressFamily.InterNetwork && packet.Length > 0)
                {
                    // IPv4 raw sockets receive the IP header too.
                    packet = packet[Math.Min(packet.Length, (packet[0] & 0xf) * 4)..];
                }

                if (SctpPacket.TryReadInitTag(packet, out var tag) && _sctpWaiting.TryGetValue(tag, out var waiter))
                {
                    waiter.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
    }

    private async Task<bool> ProbeSctpAsync(LabEndpoint source, IPAddress destination, int port, CancellationToken cancellationToken)
    {
        using var socket = await source.Namespace.RunAsync(() => RawSctpSocket(destination.AddressFamily)).ConfigureAwait(false);
        uint tag;
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        do
        {
            tag = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        }
        while (!_sctpWaiting.TryAdd(tag, arrived));

        try
        {
            var packet = SctpPacket.Init((ushort)NextSourcePort(), (ushort)port, tag);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ProbeTimeout);
            for (var attempt = 0; attempt < 3 && !arrived.Task.IsCompleted; attempt++)
            {
                await socket.SendToAsync(packet, SocketFlags.None, new IPEndPoint(destination, 0), timeout.Token).ConfigureAwait(false);
                await Task.WhenAny(arrived.Task, Task.Delay(_options.ProbeTimeout / 3, timeout.Token)).ConfigureAwait(false);
            }

            await arrived.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            _sctpWaiting.TryRemove(tag, out _);
        }
    }
}
