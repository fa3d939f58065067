using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Text;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Testing;

/// <summary>The same assertions as <see cref="PolicyTestCluster"/>, enforced by the real kernel: every pod of the cluster
/// in a network namespace of its own, the policies compiled and applied with the chosen backend (the BPF datapath,
/// iptables or nftables), and real packets between the pods.</summary>
/// <remarks>
/// <para>Needs Linux and root (CAP_NET_ADMIN, CAP_SYS_ADMIN, and CAP_BPF for <see cref="LabEnforcement.Bpf"/>), iproute2 and
/// the backend's tools; <see cref="FindMissingRequirements"/> says what is missing, for a skip reason. Pod addresses must
/// be in 198.18.0.0/15 or <c>fd00::/8</c>: pods without <c>status.podIPs</c> get addresses from 198.18.0.0/15, so
/// manifests without status work as they are. The lab only sends between its own pods, never to other addresses.</para>
/// <para>Dispose it (<c>await using</c>): that detaches the programs and deletes every namespace it made. A failure
/// message says what the kernel did and what the reference evaluator says, with its explanation.</para>
/// </remarks>
/// <example>
/// <code>
/// await using var lab = await Cluster.StartLabAsync(LabEnforcement.Nftables);
/// await lab.AssertAllowedAsync("production/nginx-ingress", "production/payments-api", 8080);
/// await lab.AssertDeniedAsync("production/frontend", "production/payments-api", 8080);
/// await lab.AssertMatchesReferenceAsync(8080);
/// </code>
/// </example>
public sealed class PolicyTestLab : IAsyncDisposable
{
    private readonly object _lab;

    private PolicyTestLab(PolicyTestCluster cluster, LabEnforcement enforcement, object lab, ImmutableArray<string> pods)
    {
        Cluster = cluster;
        Enforcement = enforcement;
        _lab = lab;
        Pods = pods;
    }

    /// <summary>Gets the cluster the lab runs.</summary>
    public PolicyTestCluster Cluster { get; }

    /// <summary>Gets the enforcement backend.</summary>
    public LabEnforcement Enforcement { get; }

    /// <summary>Gets the keys of the pods in the lab, sorted by namespace then name.</summary>
    public ImmutableArray<string> Pods { get; }

    /// <summary>Gets the underlying lab (namespaces, datapath or appliers), for checks beyond these assertions.</summary>
    [SupportedOSPlatform("linux")]
    public PolicyLab Lab => (PolicyLab)_lab;

    /// <summary>Says what this machine lacks to run a lab with a backend: use it as a test's skip reason.</summary>
    /// <param name="enforcement">The backend.</param>
    /// <returns><see langword="null"/> when a lab can run here; otherwise what is missing (not Linux, not root, a tool).</returns>
    public static string? FindMissingRequirements(LabEnforcement enforcement) =>
        OperatingSystem.IsLinux() ? PolicyLab.FindMissingRequirements(ToBackend(enforcement)) : "not Linux (the lab uses Linux network namespaces)";

    /// <summary>Builds the lab and applies the cluster's policies with the chosen backend.</summary>
    /// <param name="cluster">The cluster.</param>
    /// <param name="enforcement">The backend.</param>
    /// <param name="options">Options, or <see langword="null"/> for every pod and a 700 ms probe timeout.</param>
    /// <param name="cancellationToken">Cancels the build (what was built is removed).</param>
    /// <returns>The running lab; dispose it.</returns>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="LabUnavailableException">Not root, or a tool or library is missing; the message says which.</exception>
    /// <exception cref="ArgumentException">A pod address is outside the lab ranges, or a pod named in the options is not in the cluster.</exception>
    public static async Task<PolicyTestLab> StartAsync(
        PolicyTestCluster cluster, LabEnforcement enforcement = LabEnforcement.Bpf, PolicyTestLabOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                $"The policy test lab ({enforcement}) runs only on Linux, as root: it builds network namespaces and loads kernel rules. Skip lab tests on this machine (PolicyTestLab.FindMissingRequirements gives the reason).");
        }

        options ??= new PolicyTestLabOptions();
        HashSet<string>? selected = null;
        if (options.Pods is { } pods)
        {
            selected = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pod in pods)
            {
                var endpoint = cluster.ResolveEndpoint(pod, nameof(options));
                selected.Add(endpoint.Pod?.Key ?? throw new ArgumentException($"'{pod}' is an address outside the cluster; the lab is made of pods.", nameof(options)));
            }
        }

        var lab = await PolicyLab.StartAsync(
            cluster.Snapshot,
            new PolicyLabOptions
            {
                Backend = ToBackend(enforcement),
                Pods = selected is null ? null : selected.Contains,
                Lab = new NetworkLabOptions { ProbeTimeout = options.ProbeTimeout },
            },
            cancellationToken).ConfigureAwait(false);
        return new PolicyTestLab(cluster, enforcement, lab, lab.Pods);
    }

    /// <summary>Probes a connection with real packets.</summary>
    /// <param name="from">The source pod: <c>namespace/name</c>, <c>namespace/Kind/name</c>, a unique pod name or a pod's address.</param>
    /// <param name="to">The destination pod, in the same forms.</param>
    /// <param name="port">The port number or container port name.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns><see langword="true"/> when the connection got through.</returns>
    /// <exception cref="ArgumentException">An endpoint is not a pod of the lab, or the port cannot be resolved.</exception>
    public async Task<bool> ProbeAsync(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp, CancellationToken cancellationToken = default)
    {
        var (_, allowed) = await ProbeWithVerdictAsync(from, to, port.Text, protocol, cancellationToken).ConfigureAwait(false);
        return allowed;
    }

    /// <summary>Asserts that the kernel lets a connection through.</summary>
    /// <param name="from">The source pod.</param>
    /// <param name="to">The destination pod.</param>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PolicyAssertionException">The connection was dropped; the message has the reference evaluator's explanation.</exception>
    public Task AssertAllowedAsync(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp, CancellationToken cancellationToken = default) =>
        AssertAsync(new ConnectionCase(from, to, port.Text, protocol, Verdict.Allowed), cancellationToken);

    /// <summary>Asserts that the kernel drops a connection.</summary>
    /// <param name="from">The source pod.</param>
    /// <param name="to">The destination pod.</param>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PolicyAssertionException">The connection got through; the message has the reference evaluator's explanation.</exception>
    public Task AssertDeniedAsync(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp, CancellationToken cancellationToken = default) =>
        AssertAsync(new ConnectionCase(from, to, port.Text, protocol, Verdict.Denied), cancellationToken);

    /// <summary>Asserts one truth-table row with real packets.</summary>
    /// <param name="connection">The row.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PolicyAssertionException">The kernel's verdict differs from the expected one.</exception>
    public async Task AssertAsync(ConnectionCase connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (verdict, allowed) = await ProbeWithVerdictAsync(connection.From, connection.To, connection.Port, connection.Protocol, cancellationToken).ConfigureAwait(false);
        if (allowed != (connection.Expected == Verdict.Allowed))
        {
            throw new PolicyAssertionException(
                PolicyTestCluster.Describe(connection, verdict with { Allowed = allowed }, Judge).Split(Environment.NewLine)[0] + Environment.NewLine + ReferenceSays(verdict),
                [verdict]);
        }
    }

    /// <summary>Asserts every row of a truth table with real packets (probed in parallel) and reports every mismatch at once.</summary>
    /// <param name="table">The rows.</param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PolicyAssertionException">Some rows differ; the message lists each with the reference evaluator's explanation.</exception>
    public async Task AssertAllAsync(IEnumerable<ConnectionCase> table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.ToList();
        var results = await Task.WhenAll(rows.Select(r => ProbeWithVerdictAsync(r.From, r.To, r.Port, r.Protocol, cancellationToken))).ConfigureAwait(false);
        var failures = new List<string>();
        var verdicts = new List<FlowVerdict>();
        for (var i = 0; i < rows.Count; i++)
        {
            var (verdict, allowed) = results[i];
            if (allowed != (rows[i].Expected == Verdict.Allowed))
            {
                failures.Add($"{failures.Count + 1}) {rows[i].From} -> {rows[i].To} {rows[i].Protocol.ToKubernetesName()}/{rows[i].Port}: expected {Word(rows[i].Expected == Verdict.Allowed)}, the kernel {(allowed ? "let it through" : "dropped it")}" +
                    Environment.NewLine + Indent(ReferenceSays(verdict), "     "));
                verdicts.Add(verdict);
            }
        }

        if (failures.Count > 0)
        {
            throw new PolicyAssertionException(
                $"{failures.Count} of {rows.Count} connection(s) differ from the expected verdicts ({Judge}):{Environment.NewLine}{string.Join(Environment.NewLine, failures)}".TrimEnd(),
                [.. verdicts]);
        }
    }

    /// <summary>Probes every ordered pair of the lab's pods on a port.</summary>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>The measured matrix over <see cref="Pods"/>.</returns>
    public async Task<ReachabilityMatrix> MatrixAsync(int port, TransportProtocol protocol = TransportProtocol.Tcp, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException();
        }

        return await Lab.ProbeMatrixAsync(protocol, port, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asserts that the kernel's matrix on a port equals the reference evaluator's, and lists every pair that differs.</summary>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>A task.</returns>
    /// <exception cref="PolicyAssertionException">Some pairs differ; each is listed with the reference evaluator's summary.</exception>
    public async Task AssertMatchesReferenceAsync(int port, TransportProtocol protocol = TransportProtocol.Tcp, CancellationToken cancellationToken = default)
    {
        var measured = await MatrixAsync(port, protocol, cancellationToken).ConfigureAwait(false);
        var failures = new List<string>();
        foreach (var from in Pods)
        {
            foreach (var to in Pods)
            {
                var verdict = Cluster.Evaluator.Evaluate(FlowEndpoint.ForPod(Cluster.Snapshot.Pods[from]), FlowEndpoint.ForPod(Cluster.Snapshot.Pods[to]), protocol, port);
                if (verdict.Allowed != measured[from, to])
                {
                    failures.Add($"  {from} -> {to}: the kernel {(measured[from, to] ? "lets it through" : "drops it")}, the reference {(verdict.Allowed ? "allows" : "denies")}: {verdict.Summary}");
                }
            }
        }

        if (failures.Count > 0)
        {
            throw new PolicyAssertionException(
                $"The {Enforcement} lab's {protocol.ToKubernetesName()}/{port} matrix differs from the reference evaluator's in {failures.Count} pair(s):{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
        }
    }

    /// <summary>Compares the kernel's matrix on a port with a golden snapshot file (the same file the reference assertions use).</summary>
    /// <param name="path">The snapshot file; relative to the calling source file's directory.</param>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="options">Options, or <see langword="null"/> for the environment's defaults.</param>
    /// <param name="callerFilePath">Filled in by the compiler.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="PolicyAssertionException">The measured matrix differs from the file.</exception>
    public async Task<SnapshotOutcome> AssertMatchesSnapshotAsync(
        string path, int port, TransportProtocol protocol = TransportProtocol.Tcp, ReachabilitySnapshotOptions? options = null, [CallerFilePath] string callerFilePath = "")
    {
        ArgumentNullException.ThrowIfNull(path);
        var measured = await MatrixAsync(port, protocol).ConfigureAwait(false);
        return ReachabilitySnapshot.Verify(measured, SourcePaths.Resolve(path, callerFilePath), options ?? new ReachabilitySnapshotOptions(), null);
    }

    /// <summary>Detaches the programs, removes the rules and deletes every namespace of the lab.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (OperatingSystem.IsLinux())
        {
            await Lab.DisposeAsync().ConfigureAwait(false);
        }
    }

    private string Judge => $"the kernel ({Enforcement} lab)";

    private async Task<(FlowVerdict Verdict, bool Allowed)> ProbeWithVerdictAsync(string from, string to, string port, TransportProtocol protocol, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException();
        }

        var source = LabPod(from, nameof(from));
        var destination = LabPod(to, nameof(to));
        var number = PolicyTestCluster.ResolvePort(port, destination, protocol, nameof(port));
        var verdict = Cluster.Evaluator.Evaluate(source, destination, protocol, number);
        var allowed = await Lab.ProbeAsync(source.Pod!.Key, destination.Pod!.Key, protocol, number, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (verdict, allowed);
    }

    private FlowEndpoint LabPod(string endpoint, string parameterName)
    {
        var resolved = Cluster.ResolveEndpoint(endpoint, parameterName);
        if (resolved.Pod is not { } pod)
        {
            throw new ArgumentException($"'{endpoint}' is outside the cluster; the lab sends only between its own pods.", parameterName);
        }

        return Pods.Contains(pod.Key)
            ? resolved
            : throw new ArgumentException($"pod {pod.Key} is not in the lab (its pods: {string.Join(", ", Pods)}).", parameterName);
    }

    private static string ReferenceSays(FlowVerdict verdict) =>
        "The reference evaluator says:" + Environment.NewLine + Indent(verdict.Explain(), "  ").TrimEnd();

    private static string Indent(string text, string prefix)
    {
        var sb = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var l = line.TrimEnd('\r');
            if (l.Length > 0)
            {
                sb.Append(prefix).Append(l).Append(Environment.NewLine);
            }
        }

        return sb.ToString();
    }

    private static string Word(bool allowed) => allowed ? "allowed" : "denied";

    [SupportedOSPlatform("linux")]
    private static LabBackend ToBackend(LabEnforcement enforcement) => enforcement switch
    {
        LabEnforcement.Bpf => LabBackend.Bpf,
        LabEnforcement.Iptables => LabBackend.Iptables,
        LabEnforcement.Nftables => LabBackend.Nftables,
        _ => throw new ArgumentOutOfRangeException(nameof(enforcement), enforcement, string.Format(CultureInfo.InvariantCulture, "Unknown enforcement {0}.", enforcement)),
    };
}
