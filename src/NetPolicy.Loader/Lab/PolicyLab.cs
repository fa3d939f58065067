using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Iptables;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Nftables;

namespace NetPolicy.Loader.Lab;

/// <summary>A <see cref="NetworkLab"/> of a snapshot's pods with a real backend enforcing the snapshot's policies: the
/// BPF datapath attached to every pod's veth, or iptables or nftables rules in the node namespace.</summary>
/// <remarks>
/// <para>This is what the kernel tests, <c>netpol matrix --engine bpf|iptables|nftables</c> and NetPolicy.Testing's lab
/// assertions run on. Pod addresses must be in 198.18.0.0/15 or <c>fd00::/8</c> (pods without <c>status.podIPs</c> get
/// addresses from 198.18.0.0/15 by default).</para>
/// <para>Requires Linux and root (CAP_NET_ADMIN, CAP_SYS_ADMIN, and CAP_BPF for <see cref="LabBackend.Bpf"/>), iproute2,
/// and the backend's library or tools (<see cref="FindMissingRequirements"/>). <see cref="DisposeAsync"/> detaches the
/// programs, releases the maps and deletes every namespace, also when starting failed half-way.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var lab = await PolicyLab.StartAsync(snapshot, new PolicyLabOptions { Backend = LabBackend.Nftables });
/// bool allowed = await lab.ProbeAsync("production/nginx-ingress", "production/payments-api", TransportProtocol.Tcp, 8080);
/// </code>
/// </example>
public sealed class PolicyLab : IAsyncDisposable
{
    private static readonly NetworkLabOptions s_defaultLabOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    private readonly List<BpfEndpointAttachment> _attachments = [];
    private readonly PolicyLabOptions _options;
    private int _disposed;

    private PolicyLab(NetworkLab lab, PolicyLabOptions options, ClusterSnapshot snapshot)
    {
        Lab = lab;
        _options = options;
        Backend = options.Backend;
        Snapshot = snapshot;
        Pods = [.. snapshot.Pods.Keys.Where(lab.Endpoints.ContainsKey)];
        switch (Backend)
        {
            case LabBackend.Iptables:
                IptablesApplier = new IptablesApplier(lab.Node);
                break;
            case LabBackend.Nftables:
                NftablesApplier = new NftablesApplier(lab.Node);
                break;
        }
    }

    /// <summary>Gets the lab: its namespaces, pods and probes.</summary>
    public NetworkLab Lab { get; }

    /// <summary>Gets the enforcement backend.</summary>
    public LabBackend Backend { get; }

    /// <summary>Gets the last snapshot applied.</summary>
    public ClusterSnapshot Snapshot { get; private set; }

    /// <summary>Gets the keys of the lab's pods, in the snapshot's order.</summary>
    public ImmutableArray<string> Pods { get; }

    /// <summary>Gets the datapath for <see cref="LabBackend.Bpf"/>, otherwise <see langword="null"/>.</summary>
    public BpfDatapath? Datapath { get; private set; }

    /// <summary>Gets the applier for <see cref="LabBackend.Iptables"/>, otherwise <see langword="null"/>.</summary>
    public IptablesApplier? IptablesApplier { get; }

    /// <summary>Gets the applier for <see cref="LabBackend.Nftables"/>, otherwise <see langword="null"/>.</summary>
    public NftablesApplier? NftablesApplier { get; }

    /// <summary>Says what this machine lacks to run a lab with a backend.</summary>
    /// <param name="backend">The backend.</param>
    /// <returns><see langword="null"/> when a lab can run; otherwise what is missing, for example
    /// <c>not running as root (needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and CAP_BPF for the BPF backend)</c>.</returns>
    public static string? FindMissingRequirements(LabBackend backend)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux (network namespaces and the datapath are Linux only)";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "not running as root (needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and CAP_BPF for the BPF backend)";
        }

        if (!File.Exists("/proc/self/ns/net"))
        {
            return "network namespaces are not available";
        }

        var tools = backend switch
        {
            LabBackend.Iptables => new[] { "ip", "iptables-restore", "ip6tables-restore", "ipset" },
            LabBackend.Nftables => ["ip", "nft"],
            _ => ["ip", "tc"],
        };
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Concat(["/usr/sbin", "/sbin"]).ToArray();
        foreach (var tool in tools)
        {
            if (!path.Any(directory => directory.Length > 0 && File.Exists(Path.Combine(directory, tool))))
            {
                return $"'{tool}' is not installed (Debian: apt-get install {PackageOf(tool)})";
            }
        }

        if (backend == LabBackend.Bpf)
        {
            if (!NativeLibrary.TryLoad(LibBpf.Library, out var library))
            {
                return $"{LibBpf.Library} is not installed (Debian: apt-get install libbpf1)";
            }

            NativeLibrary.Free(library);
        }

        return null;
    }

    /// <summary>Builds a lab of the snapshot's pods, compiles the snapshot and applies it with the chosen backend.</summary>
    /// <param name="snapshot">The cluster; it must compile without errors.</param>
    /// <param name="options">Options, or <see langword="null"/> for the BPF backend and every pod.</param>
    /// <param name="cancellationToken">Cancels the build (what was built is removed).</param>
    /// <returns>The running lab; dispose it.</returns>
    /// <exception cref="LabUnavailableException">This machine cannot run the lab (<see cref="FindMissingRequirements"/>).</exception>
    /// <exception cref="ArgumentException">A pod address is outside the lab ranges, or no pod is selected.</exception>
    /// <exception cref="PolicyCompilationException">The snapshot does not compile.</exception>
    /// <exception cref="KernelOperationException">The kernel refused a step.</exception>
    public static async Task<PolicyLab> StartAsync(ClusterSnapshot snapshot, PolicyLabOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        options ??= new PolicyLabOptions();
        if (FindMissingRequirements(options.Backend) is { } missing)
        {
            throw new LabUnavailableException(
                $"The network-namespace lab ({options.Backend} backend) cannot run here: {missing}. Run lab tests as root on Linux, or skip them on this machine.");
        }

        var pods = snapshot.Pods.Values.Where(p => options.Pods?.Invoke(p.Key) ?? true).Select(p => new LabPod(p.Key, p.Addresses)).ToList();
        if (pods.Count == 0)
        {
            throw new ArgumentException("The lab needs at least one pod; the snapshot has none (or the pod filter kept none).", nameof(snapshot));
        }

        var lab = await NetworkLab.CreateAsync(pods, options.Lab ?? s_defaultLabOptions, cancellationToken).ConfigureAwait(false);
        var run = new PolicyLab(lab, options, snapshot);
        try
        {
            if (options.Backend == LabBackend.Bpf)
            {
                run.Datapath = BpfDatapath.Create(options.Bpf);
            }

            run.Apply(snapshot);
            if (run.Datapath is { } datapath)
            {
                foreach (var pod in lab.Endpoints.Values)
                {
                    run._attachments.Add(datapath.Attach(datapath.Images!.EndpointIds[pod.Key], lab.Node, pod.HostInterfaceIndex));
                }
            }

            return run;
        }
        catch
        {
            await run.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Compiles a snapshot and applies it: a map delta for the BPF datapath (endpoint ids and attachments kept), a
    /// full atomic re-apply for iptables and nftables.</summary>
    /// <param name="snapshot">The new cluster state; pods that are not in the lab are compiled but have no namespace.</param>
    /// <returns>What was compiled and applied.</returns>
    /// <exception cref="PolicyCompilationException">The snapshot does not compile.</exception>
    /// <exception cref="KernelOperationException">The kernel or a tool refused the artifacts.</exception>
    public PolicyLabApplyResult Apply(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        PolicyLabApplyResult result;
        switch (Backend)
        {
            case LabBackend.Iptables:
                var rules = IptablesRenderer.Render(policySet, _options.Iptables);
                IptablesApplier!.Apply(rules);
                result = new PolicyLabApplyResult(policySet, null, rules, null);
                break;
            case LabBackend.Nftables:
                var ruleset = NftablesRenderer.Render(policySet, _options.Nftables);
                NftablesApplier!.Apply(ruleset);
                result = new PolicyLabApplyResult(policySet, null, null, ruleset);
                break;
            default:
                var images = BpfMapRenderer.Render(policySet, new BpfRenderOptions { EndpointIds = Datapath!.Images?.EndpointIds }).ThrowIfErrors();
                result = new PolicyLabApplyResult(policySet, Datapath.Apply(images), null, null);
                break;
        }

        Snapshot = snapshot;
        return result;
    }

    /// <summary>Sends a real connection (TCP), datagram (UDP) or INIT chunk (SCTP) from one lab pod to another and reports
    /// whether it got through.</summary>
    /// <param name="fromPod">The source pod key, <c>namespace/name</c>.</param>
    /// <param name="toPod">The destination pod key.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port, 1–65535.</param>
    /// <param name="family">The address family, or <see langword="null"/> for IPv4 where both pods have it, else IPv6.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns><see langword="true"/> when the destination answered; a pod's traffic to itself always counts as allowed.</returns>
    /// <exception cref="ArgumentException">A pod is not in the lab, or the pods share no address family.</exception>
    public async Task<bool> ProbeAsync(string fromPod, string toPod, TransportProtocol protocol, int port, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fromPod);
        ArgumentNullException.ThrowIfNull(toPod);
        var source = EndpointOf(fromPod, nameof(fromPod));
        var target = EndpointOf(toPod, nameof(toPod));
        if (string.Equals(source.Key, target.Key, StringComparison.Ordinal))
        {
            return true;
        }

        var destination = ChooseDestination(source, target, family)
            ?? throw new ArgumentException($"pods {fromPod} and {toPod} have no address of a common family{(family is null ? string.Empty : $" ({family})")}.", nameof(toPod));
        return await Lab.ProbeAsync(source.Key, destination, ToLab(protocol), port, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Probes every ordered pair of the lab's pods on one port, in parallel.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="family">The family, or <see langword="null"/> for IPv4 where both pods have it, else IPv6.</param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>The measured matrix over <see cref="Pods"/>, comparable with <see cref="PolicyEvaluator.Matrix"/>.</returns>
    public async Task<ReachabilityMatrix> ProbeMatrixAsync(TransportProtocol protocol, int port, AddressFamily? family = null, CancellationToken cancellationToken = default)
    {
        var rows = await Lab.ProbeMatrixAsync(Pods, ToLab(protocol), port, family, cancellationToken).ConfigureAwait(false);
        return new ReachabilityMatrix(protocol, port, Pods, rows);
    }

    /// <summary>Converts a protocol to the lab's.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The lab protocol.</returns>
    public static LabProtocol ToLab(TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => LabProtocol.Tcp,
        TransportProtocol.Udp => LabProtocol.Udp,
        TransportProtocol.Sctp => LabProtocol.Sctp,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown transport protocol."),
    };

    /// <summary>Detaches the programs, releases the maps and deletes every namespace of the lab. Idempotent.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var attachment in _attachments)
            {
                attachment.Dispose();
            }

            Datapath?.Dispose();
        }
        finally
        {
            // The netfilter rules live in the node namespace and go with it.
            await Lab.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static IPAddress? ChooseDestination(LabEndpoint source, LabEndpoint target, AddressFamily? family)
    {
        foreach (var f in family is { } given ? [given] : new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if (source.AddressOf(f) is not null && target.AddressOf(f) is { } address)
            {
                return address;
            }
        }

        return null;
    }

    private LabEndpoint EndpointOf(string key, string parameter) =>
        Lab.Endpoints.TryGetValue(key, out var endpoint)
            ? endpoint
            : throw new ArgumentException($"pod {key} is not in the lab; its pods are {string.Join(", ", Pods)}.", parameter);

    private static string PackageOf(string tool) => tool switch
    {
        "ip" or "tc" => "iproute2",
        "nft" => "nftables",
        "ipset" => "ipset",
        _ => "iptables",
    };
}
