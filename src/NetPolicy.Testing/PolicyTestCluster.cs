using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using k8s.Models;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Manifests;

namespace NetPolicy.Testing;

/// <summary>A team's manifests loaded once (namespaces, pods, workloads and NetworkPolicies) with assertions about which
/// connections they allow, decided by the reference evaluator.</summary>
/// <remarks>
/// <para>Load it once per test class or assembly (a static field or a fixture): it is immutable and every member can be
/// called from several threads at once. Inputs with errors throw <see cref="PolicyInputException"/>, whose message lists
/// each error with its file:line.</para>
/// <para>Endpoints are written as <c>namespace/name</c> (a Pod, or a workload such as a Deployment, which becomes one pod
/// named after it), <c>namespace/Kind/name</c> (the kind is checked: <c>production/Deployment/payments-api</c>), a bare
/// <c>name</c> when exactly one pod has it, or an IP address (a pod's address is that pod; any other is outside the
/// cluster). Ports are numbers or container port names, resolved on the destination pod for the protocol.</para>
/// </remarks>
/// <example>
/// <code>
/// static readonly PolicyTestCluster Cluster = PolicyTestCluster.Load("deploy/k8s", "rendered/helm.yaml");
///
/// Cluster.From("production/nginx-ingress").To("production/payments-api").OnPort(8080).ShouldBeAllowed();
/// Cluster.From("production/frontend").To("production/payments-api").OnPort("http").ShouldBeDenied();
/// Cluster.AssertMatchesSnapshot("snapshots/production.tcp-8080.txt", 8080);
/// </code>
/// </example>
public sealed class PolicyTestCluster
{
    private readonly ManifestSet? _manifests;
    private readonly ConcurrentDictionary<(TransportProtocol, int), Lazy<ReachabilityMatrix>> _matrices = new();

    private PolicyTestCluster(ClusterSnapshot snapshot, ImmutableArray<PolicyDiagnostic> diagnostics, ManifestSet? manifests)
    {
        Snapshot = snapshot;
        Diagnostics = diagnostics;
        Evaluator = new PolicyEvaluator(snapshot);
        _manifests = manifests;
    }

    /// <summary>Gets the validated snapshot.</summary>
    public ClusterSnapshot Snapshot { get; }

    /// <summary>Gets the reference evaluator over <see cref="Snapshot"/>.</summary>
    public PolicyEvaluator Evaluator { get; }

    /// <summary>Gets the diagnostics of reading and validation (warnings and infos; errors throw when loading).</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Gets the pod keys, <c>namespace/name</c>, sorted by namespace then name.</summary>
    public ImmutableArray<string> Pods => [.. Snapshot.Pods.Keys];

    /// <summary>Loads manifests from files and directories: YAML or JSON, multi-document, <c>kind: List</c>, rendered Helm
    /// output (<c>helm template</c>), workloads (Deployment, StatefulSet, ...). Directories are read recursively
    /// (<c>*.yaml</c>, <c>*.yml</c>, <c>*.json</c>).</summary>
    /// <param name="paths">Files and directories; relative paths are relative to the current directory.</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="PolicyInputException">A path cannot be read, or the manifests have errors; the message lists them with file:line.</exception>
    /// <exception cref="ArgumentException">No path is given.</exception>
    public static PolicyTestCluster Load(params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Length == 0)
        {
            throw new ArgumentException("Give at least one manifest file or directory.", nameof(paths));
        }

        return FromManifests(new ManifestReader().ReadPaths(paths));
    }

    /// <summary>Loads manifests from YAML or JSON text.</summary>
    /// <param name="yaml">The text; documents separated by <c>---</c>.</param>
    /// <param name="fileName">The name diagnostics carry (<c>inline.yaml:12</c>).</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="PolicyInputException">The manifests have errors; the message lists them with file:line.</exception>
    public static PolicyTestCluster FromYaml(string yaml, string fileName = "inline.yaml")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        return FromManifests(new ManifestReader().Read(yaml, fileName));
    }

    /// <summary>Builds a cluster from manifests already read (for example several reads merged).</summary>
    /// <param name="manifests">The manifests.</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="PolicyInputException">The manifests have errors; the message lists them with file:line.</exception>
    public static PolicyTestCluster FromManifests(ManifestSet manifests)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        var (snapshot, diagnostics) = manifests.ToSnapshot();
        return Checked(snapshot, diagnostics, manifests);
    }

    /// <summary>Builds a cluster from <c>k8s.Models</c> objects; other object types are ignored.</summary>
    /// <param name="objects">Objects: <see cref="V1Namespace"/>, <see cref="V1Pod"/> and <see cref="V1NetworkPolicy"/>.</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="PolicyInputException">The objects have errors.</exception>
    public static PolicyTestCluster FromObjects(IEnumerable<object> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var list = objects.ToList();
        var snapshot = ClusterSnapshot.Create(list.OfType<V1NetworkPolicy>(), list.OfType<V1Pod>(), list.OfType<V1Namespace>());
        return Checked(snapshot, snapshot.Diagnostics, null);
    }

    /// <summary>Builds a cluster from a snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="PolicyInputException">The snapshot has error diagnostics.</exception>
    public static PolicyTestCluster FromSnapshot(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Checked(snapshot, snapshot.Diagnostics, null);
    }

    /// <summary>Starts a fluent assertion about connections from an endpoint.</summary>
    /// <param name="source">The source: <c>namespace/name</c>, <c>namespace/Kind/name</c>, a unique pod name, or an IP address.</param>
    /// <returns>The next step: <see cref="FlowSource.To"/>.</returns>
    /// <exception cref="ArgumentException">The endpoint is not in the cluster (the message lists the pods).</exception>
    public FlowSource From(string source) => new(this, ResolveEndpoint(source, nameof(source)), source);

    /// <summary>Evaluates a connection with the reference evaluator.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port: a number or a container port name of the destination.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The verdict and its explanation (<see cref="FlowVerdict.Explain"/>).</returns>
    /// <exception cref="ArgumentException">An endpoint or the port cannot be resolved.</exception>
    public FlowVerdict Evaluate(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp)
    {
        var source = ResolveEndpoint(from, nameof(from));
        var destination = ResolveEndpoint(to, nameof(to));
        return Evaluator.Evaluate(source, destination, protocol, ResolvePort(port.Text, destination, protocol, nameof(port)));
    }

    /// <summary>Asserts that a connection is allowed.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port: a number or a container port name of the destination.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The verdict.</returns>
    /// <exception cref="PolicyAssertionException">The connection is denied; the message explains why.</exception>
    public FlowVerdict AssertAllowed(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp) =>
        Assert(new ConnectionCase(from, to, port.Text, protocol, Verdict.Allowed));

    /// <summary>Asserts that a connection is denied.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port: a number or a container port name of the destination.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The verdict.</returns>
    /// <exception cref="PolicyAssertionException">The connection is allowed; the message names the rules that allow it.</exception>
    public FlowVerdict AssertDenied(string from, string to, ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp) =>
        Assert(new ConnectionCase(from, to, port.Text, protocol, Verdict.Denied));

    /// <summary>Asserts one truth-table row.</summary>
    /// <param name="connection">The row.</param>
    /// <returns>The verdict.</returns>
    /// <exception cref="PolicyAssertionException">The verdict differs from the expected one; the message explains it.</exception>
    /// <exception cref="ArgumentException">An endpoint or the port cannot be resolved.</exception>
    public FlowVerdict Assert(ConnectionCase connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var verdict = Evaluate(connection.From, connection.To, connection.Port, connection.Protocol);
        if (verdict.Allowed != (connection.Expected == Verdict.Allowed))
        {
            throw new PolicyAssertionException(Describe(connection, verdict, "the reference evaluator"), [verdict]);
        }

        return verdict;
    }

    /// <summary>Asserts every row of a truth table and reports every mismatch at once.</summary>
    /// <param name="table">The rows, for example a <see cref="PolicyTruthTable"/>'s <see cref="PolicyTruthTable.Cases"/>.</param>
    /// <exception cref="PolicyAssertionException">Some rows differ; the message lists each with its explanation.</exception>
    /// <exception cref="ArgumentException">An endpoint or port of a row cannot be resolved (all such rows are listed).</exception>
    public void AssertAll(IEnumerable<ConnectionCase> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.ToList();
        var failures = new List<(ConnectionCase Row, FlowVerdict Verdict)>();
        var invalid = new List<string>();
        foreach (var row in rows)
        {
            try
            {
                var verdict = Evaluate(row.From, row.To, row.Port, row.Protocol);
                if (verdict.Allowed != (row.Expected == Verdict.Allowed))
                {
                    failures.Add((row, verdict));
                }
            }
            catch (ArgumentException ex)
            {
                invalid.Add($"{row}: {ex.Message}");
            }
        }

        if (invalid.Count > 0)
        {
            throw new ArgumentException($"{invalid.Count} row(s) of the table name unknown endpoints or ports:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", invalid)}", nameof(table));
        }

        if (failures.Count > 0)
        {
            throw new PolicyAssertionException(DescribeAll(failures, rows.Count, "the reference evaluator"), [.. failures.Select(f => f.Verdict)]);
        }
    }

    /// <summary>Asserts every row of a truth table and reports every mismatch at once.</summary>
    /// <param name="table">The table.</param>
    /// <exception cref="PolicyAssertionException">Some rows differ; the message lists each with its explanation.</exception>
    public void AssertAll(PolicyTruthTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        AssertAll(table.Cases);
    }

    /// <summary>Computes (once, then cached) the reachability matrix between every pod for a port and protocol.</summary>
    /// <param name="port">The port, 1–65535.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The matrix over <see cref="Pods"/>.</returns>
    public ReachabilityMatrix Matrix(int port, TransportProtocol protocol = TransportProtocol.Tcp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return _matrices.GetOrAdd((protocol, port), key => new Lazy<ReachabilityMatrix>(() => Evaluator.Matrix(key.Item1, key.Item2))).Value;
    }

    /// <summary>Compares the reachability matrix for a port with a committed golden file.</summary>
    /// <param name="path">The snapshot file. A relative path is relative to the directory of the calling source file (so
    /// snapshots sit next to the tests and get committed), falling back to the current directory.</param>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults (from <c>NETPOL_UPDATE_SNAPSHOTS</c> and <c>CI</c>).</param>
    /// <param name="callerFilePath">Filled in by the compiler.</param>
    /// <returns>What happened: matched, created or updated.</returns>
    /// <exception cref="PolicyAssertionException">The matrix differs from the file (the message lists the pairs that
    /// changed, each with the reference evaluator's summary), or the file is missing under <c>CI=true</c>.</exception>
    /// <exception cref="PolicyInputException">The file cannot be parsed (the message names file:line).</exception>
    public SnapshotOutcome AssertMatchesSnapshot(
        string path, int port, TransportProtocol protocol = TransportProtocol.Tcp, ReachabilitySnapshotOptions? options = null, [CallerFilePath] string callerFilePath = "")
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReachabilitySnapshot.Verify(
            Matrix(port, protocol),
            SourcePaths.Resolve(path, callerFilePath),
            options ?? new ReachabilitySnapshotOptions(),
            (from, to) => Evaluator.Evaluate(FlowEndpoint.ForPod(Snapshot.Pods[from]), FlowEndpoint.ForPod(Snapshot.Pods[to]), protocol, port).Summary);
    }

    /// <summary>Builds a network-namespace lab of this cluster enforced by the kernel (root on Linux only).</summary>
    /// <param name="enforcement">The backend: the BPF datapath, iptables or nftables.</param>
    /// <param name="options">Options, or <see langword="null"/> for every pod.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <returns>The running lab; dispose it.</returns>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="NetPolicy.Loader.Lab.LabUnavailableException">Not root, or a tool is missing.</exception>
    public Task<PolicyTestLab> StartLabAsync(LabEnforcement enforcement = LabEnforcement.Bpf, PolicyTestLabOptions? options = null, CancellationToken cancellationToken = default) =>
        PolicyTestLab.StartAsync(this, enforcement, options, cancellationToken);

    /// <summary>Resolves an endpoint as the assertions do.</summary>
    /// <param name="endpoint">The endpoint text.</param>
    /// <param name="parameterName">The parameter name for errors.</param>
    /// <returns>The endpoint.</returns>
    internal FlowEndpoint ResolveEndpoint(string endpoint, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(endpoint, parameterName);
        if (IPAddress.TryParse(endpoint, out var address))
        {
            return Evaluator.ResolveAddress(address);
        }

        var parts = endpoint.Split('/');
        PodEndpoint? pod;
        switch (parts.Length)
        {
            case 1:
                var named = Snapshot.Pods.Values.Where(p => string.Equals(p.Name, endpoint, StringComparison.Ordinal)).ToList();
                if (named.Count > 1)
                {
                    throw new ArgumentException($"'{endpoint}' is ambiguous: pods {string.Join(", ", named.Select(p => p.Key))} have that name; write namespace/name.", parameterName);
                }

                pod = named.SingleOrDefault();
                break;
            case 2:
                pod = Snapshot.FindPod(endpoint);
                break;
            case 3:
                pod = Snapshot.FindPod(parts[0] + "/" + parts[2]);
                if (pod is not null && KindOf(pod) is { } kind && !string.Equals(kind, parts[1], StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"'{endpoint}': {pod.Key} was read from a {kind}, not a {parts[1]}.", parameterName);
                }

                break;
            default:
                throw new ArgumentException($"'{endpoint}' is not an endpoint; write namespace/name, namespace/Kind/name, a pod name or an IP address.", parameterName);
        }

        return pod is not null ? FlowEndpoint.ForPod(pod) : throw new ArgumentException(UnknownPod(endpoint), parameterName);
    }

    /// <summary>Resolves a port as the assertions do.</summary>
    internal static int ResolvePort(string port, FlowEndpoint destination, TransportProtocol protocol, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(port, parameterName);
        if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number is >= 1 and <= 65535 ? number : throw new ArgumentOutOfRangeException(parameterName, port, "A port is 1–65535.");
        }

        if (destination.Pod is not { } pod)
        {
            throw new ArgumentException($"port '{port}' is a name, but the destination {destination} is outside the cluster; use a number.", parameterName);
        }

        return pod.ResolveNamedPort(port, protocol) ?? throw new ArgumentException(
            $"pod {pod.Key} has no {protocol.ToKubernetesName()} container port named '{port}'" +
            (pod.NamedPorts.IsEmpty ? "; it names no ports." : $"; its named ports: {string.Join(", ", pod.NamedPorts.Select(p => $"{p.Name}={p.Port}/{p.Protocol.ToKubernetesName()}"))}."),
            parameterName);
    }

    /// <summary>Formats the failure of one connection.</summary>
    internal static string Describe(ConnectionCase connection, FlowVerdict verdict, string judge)
    {
        var sb = new StringBuilder();
        sb.Append("Expected ").Append(connection.From).Append(" -> ").Append(connection.To).Append(' ')
          .Append(connection.Protocol.ToKubernetesName()).Append('/').Append(connection.Port)
          .Append(" to be ").Append(connection.Expected == Verdict.Allowed ? "allowed" : "denied")
          .Append(", but ").Append(judge).Append(connection.Expected == Verdict.Allowed ? " denies it." : " allows it.").AppendLine();
        sb.Append(Indent(verdict.Explain(), "  "));
        return sb.ToString().TrimEnd();
    }

    /// <summary>Formats the failures of a table.</summary>
    internal static string DescribeAll(IReadOnlyList<(ConnectionCase Row, FlowVerdict Verdict)> failures, int total, string judge)
    {
        var sb = new StringBuilder();
        sb.Append(failures.Count).Append(" of ").Append(total).Append(" connection(s) differ from the expected verdicts (").Append(judge).Append("):").AppendLine();
        for (var i = 0; i < failures.Count; i++)
        {
            var (row, verdict) = failures[i];
            sb.Append(i + 1).Append(") ").Append(row.From).Append(" -> ").Append(row.To).Append(' ')
              .Append(row.Protocol.ToKubernetesName()).Append('/').Append(row.Port)
              .Append(": expected ").Append(row.Expected == Verdict.Allowed ? "allowed" : "denied")
              .Append(", got ").AppendLine(verdict.Allowed ? "allowed" : "denied");
            sb.Append(Indent(verdict.Explain(), "     "));
        }

        return sb.ToString().TrimEnd();
    }

    private static string Indent(string text, string prefix) =>
        string.Concat(text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Select(l => prefix + l + Environment.NewLine));

    private static PolicyTestCluster Checked(ClusterSnapshot snapshot, ImmutableArray<PolicyDiagnostic> diagnostics, ManifestSet? manifests)
    {
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            throw new PolicyInputException(diagnostics);
        }

        return new PolicyTestCluster(snapshot, diagnostics, manifests);
    }

    private string? KindOf(PodEndpoint pod)
    {
        if (_manifests is null)
        {
            return "Pod";
        }

        var source = _manifests.Pods.FirstOrDefault(p =>
            string.Equals(p.Metadata?.Name, pod.Name, StringComparison.Ordinal) &&
            string.Equals(string.IsNullOrEmpty(p.Metadata?.NamespaceProperty) ? "default" : p.Metadata.NamespaceProperty, pod.Namespace, StringComparison.Ordinal));
        return source is null ? null : _manifests.KindOf(source);
    }

    private string UnknownPod(string endpoint)
    {
        var name = endpoint.Split('/')[^1];
        var similar = Snapshot.Pods.Keys.Where(k => k.Split('/')[1].Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(k.Split('/')[1], StringComparison.OrdinalIgnoreCase)).ToList();
        var known = Snapshot.Pods.Keys.Take(30).ToList();
        return $"'{endpoint}' is not a pod or workload of the cluster" +
            (similar.Count > 0 ? $"; did you mean {string.Join(" or ", similar)}?" : ".") +
            $" Pods: {string.Join(", ", known)}{(Snapshot.Pods.Count > known.Count ? ", ..." : string.Empty)}.";
    }
}
