using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Validation;

namespace NetPolicy.Compiler;

/// <summary>An immutable, validated view of a cluster: namespaces, pods and NetworkPolicies, sorted by (namespace, name).</summary>
/// <remarks>Create one from <c>k8s.Models</c> objects as a watch delivers them, or from model objects. Updates
/// (<see cref="SetPod"/>, <see cref="RemovePod"/>, ...) return a new snapshot in O(log n) and leave this one intact.</remarks>
public sealed class ClusterSnapshot
{
    private ClusterSnapshot(
        ImmutableSortedDictionary<string, NamespaceDefinition> namespaces,
        ImmutableSortedDictionary<string, PodEndpoint> pods,
        ImmutableSortedDictionary<string, NetworkPolicyDefinition> policies,
        ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        Namespaces = namespaces;
        Pods = pods;
        Policies = policies;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets an empty snapshot.</summary>
    public static ClusterSnapshot Empty { get; } = new(
        ImmutableSortedDictionary.Create<string, NamespaceDefinition>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, PodEndpoint>(ObjectKeyComparer.Instance),
        ImmutableSortedDictionary.Create<string, NetworkPolicyDefinition>(ObjectKeyComparer.Instance),
        []);

    /// <summary>Gets the namespaces by name.</summary>
    public ImmutableSortedDictionary<string, NamespaceDefinition> Namespaces { get; }

    /// <summary>Gets the pods by <c>namespace/name</c>, sorted by namespace then name.</summary>
    public ImmutableSortedDictionary<string, PodEndpoint> Pods { get; }

    /// <summary>Gets the policies by <c>namespace/name</c>, sorted by namespace then name.</summary>
    public ImmutableSortedDictionary<string, NetworkPolicyDefinition> Policies { get; }

    /// <summary>Gets the diagnostics from conversion and validation, in input order.</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Creates a snapshot from Kubernetes objects, applying API-server defaulting and validation.</summary>
    /// <param name="policies">NetworkPolicies.</param>
    /// <param name="pods">Pods.</param>
    /// <param name="namespaces">Namespaces; ones that pods or policies use but that are missing are created.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The snapshot; check <see cref="Diagnostics"/>. With <see cref="InvalidObjectHandling.Fail"/> invalid objects are
    /// left out and the errors stay, so the compile fails; with <see cref="InvalidObjectHandling.Skip"/> they are dropped with a warning.</returns>
    /// <example>
    /// <code>
    /// var snapshot = ClusterSnapshot.Create(policies, pods, namespaces);
    /// var result = new PolicyCompiler().Compile(snapshot);
    /// </code>
    /// </example>
    public static ClusterSnapshot Create(
        IEnumerable<V1NetworkPolicy> policies,
        IEnumerable<V1Pod> pods,
        IEnumerable<V1Namespace> namespaces,
        ClusterSnapshotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(namespaces);
        options ??= new ClusterSnapshotOptions();
        var diagnostics = new List<PolicyDiagnostic>();
        var sources = options.Sources;
        ObjectSource? SourceOf(object o) => sources is not null && sources.TryGetValue(o, out var s) ? s : null;

        var nsModels = new List<(NamespaceDefinition Model, ObjectSource? Source)>();
        foreach (var ns in namespaces)
        {
            var errorsBefore = diagnostics.Count;
            var model = ObjectConverter.ConvertNamespace(ns, diagnostics, SourceOf(ns));
            if (model is not null)
            {
                nsModels.Add((model, SourceOf(ns)));
            }
            else
            {
                Dropped(diagnostics, errorsBefore, options, "Namespace", ns.Metadata?.Name ?? "<unnamed>", SourceOf(ns));
            }
        }

        var podModels = new List<(PodEndpoint Model, ObjectSource? Source)>();
        foreach (var pod in pods)
        {
            var errorsBefore = diagnostics.Count;
            var model = ObjectConverter.ConvertPod(pod, diagnostics, SourceOf(pod));
            if (model is not null)
            {
                podModels.Add((model, SourceOf(pod)));
            }
            else
            {
                Dropped(diagnostics, errorsBefore, options, "Pod", $"{pod.Metadata?.NamespaceProperty ?? ObjectConverter.DefaultNamespace}/{pod.Metadata?.Name}", SourceOf(pod));
            }
        }

        var policyModels = new List<(NetworkPolicyDefinition Model, ObjectSource? Source)>();
        foreach (var policy in policies)
        {
            var errorsBefore = diagnostics.Count;
            var model = ObjectConverter.ConvertPolicy(policy, diagnostics, SourceOf(policy));
            if (model is not null)
            {
                policyModels.Add((model, SourceOf(policy)));
            }
            else
            {
                Dropped(diagnostics, errorsBefore, options, "NetworkPolicy", $"{policy.Metadata?.NamespaceProperty ?? ObjectConverter.DefaultNamespace}/{policy.Metadata?.Name}", SourceOf(policy));
            }
        }

        return Build(nsModels, podModels, policyModels, diagnostics, options);
    }

    /// <summary>Creates a snapshot from model objects (already validated by construction); missing namespaces are created
    /// and pods without addresses get them from the pools in <paramref name="options"/>.</summary>
    /// <param name="namespaces">Namespaces.</param>
    /// <param name="pods">Pods.</param>
    /// <param name="policies">Policies.</param>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The snapshot.</returns>
    public static ClusterSnapshot FromModel(
        IEnumerable<NamespaceDefinition> namespaces,
        IEnumerable<PodEndpoint> pods,
        IEnumerable<NetworkPolicyDefinition> policies,
        ClusterSnapshotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(policies);
        return Build(
            [.. namespaces.Select(n => (n, (ObjectSource?)null))],
            [.. pods.Select(p => (p, (ObjectSource?)null))],
            [.. policies.Select(p => (p, (ObjectSource?)null))],
            [],
            options ?? new ClusterSnapshotOptions());
    }

    /// <summary>Returns a snapshot with the pod added or replaced. The pod's namespace must exist.</summary>
    /// <param name="pod">The pod.</param>
    /// <returns>The new snapshot.</returns>
    /// <exception cref="InvalidOperationException">The pod's namespace is not in the snapshot.</exception>
    public ClusterSnapshot SetPod(PodEndpoint pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        RequireNamespace(pod.Namespace);
        return new ClusterSnapshot(Namespaces, Pods.SetItem(pod.Key, pod), Policies, Diagnostics);
    }

    /// <summary>Returns a snapshot without the pod.</summary>
    /// <param name="key">The pod key, <c>namespace/name</c>.</param>
    /// <returns>The new snapshot.</returns>
    public ClusterSnapshot RemovePod(string key) => new(Namespaces, Pods.Remove(key), Policies, Diagnostics);

    /// <summary>Returns a snapshot with the policy added or replaced. The policy's namespace must exist.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The new snapshot.</returns>
    /// <exception cref="InvalidOperationException">The policy's namespace is not in the snapshot.</exception>
    public ClusterSnapshot SetPolicy(NetworkPolicyDefinition policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        RequireNamespace(policy.Namespace);
        return new ClusterSnapshot(Namespaces, Pods, Policies.SetItem(policy.Key, policy), Diagnostics);
    }

    /// <summary>Returns a snapshot without the policy.</summary>
    /// <param name="key">The policy key, <c>namespace/name</c>.</param>
    /// <returns>The new snapshot.</returns>
    public ClusterSnapshot RemovePolicy(string key) => new(Namespaces, Pods, Policies.Remove(key), Diagnostics);

    /// <summary>Returns a snapshot with the namespace added or replaced (its labels always include <see cref="NamespaceDefinition.NameLabel"/>).</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The new snapshot.</returns>
    public ClusterSnapshot SetNamespace(NamespaceDefinition ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var labels = ns.Labels.TryGetValue(NamespaceDefinition.NameLabel, out var v) && v == ns.Name ? ns : ns with { Labels = ns.Labels.With(NamespaceDefinition.NameLabel, ns.Name) };
        return new ClusterSnapshot(Namespaces.SetItem(ns.Name, labels), Pods, Policies, Diagnostics);
    }

    /// <summary>Returns a snapshot without the namespace and everything in it.</summary>
    /// <param name="name">The namespace name.</param>
    /// <returns>The new snapshot.</returns>
    public ClusterSnapshot RemoveNamespace(string name)
    {
        var prefix = name + "/";
        return new ClusterSnapshot(
            Namespaces.Remove(name),
            Pods.RemoveRange(Pods.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList()),
            Policies.RemoveRange(Policies.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList()),
            Diagnostics);
    }

    /// <summary>Finds a pod by key.</summary>
    /// <param name="key">The key, <c>namespace/name</c>.</param>
    /// <returns>The pod, or <see langword="null"/>.</returns>
    public PodEndpoint? FindPod(string key) => Pods.TryGetValue(key, out var pod) ? pod : null;

    /// <summary>Finds the pod owning an address.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The pod, or <see langword="null"/> when the address belongs to no pod.</returns>
    public PodEndpoint? FindPodByAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        foreach (var pod in Pods.Values)
        {
            foreach (var a in pod.Addresses)
            {
                if (a.Equals(address))
                {
                    return pod;
                }
            }
        }

        return null;
    }

    private void RequireNamespace(string name)
    {
        if (!Namespaces.ContainsKey(name))
        {
            throw new InvalidOperationException($"Namespace '{name}' is not in the snapshot; add it with SetNamespace first.");
        }
    }

    private static void Dropped(List<PolicyDiagnostic> diagnostics, int firstNew, ClusterSnapshotOptions options, string kind, string name, ObjectSource? source)
    {
        if (options.InvalidObjects != InvalidObjectHandling.Skip)
        {
            return;
        }

        // Downgrade the object's errors to warnings and say that the object was dropped.
        for (var i = firstNew; i < diagnostics.Count; i++)
        {
            if (diagnostics[i].Severity == DiagnosticSeverity.Error)
            {
                diagnostics[i] = diagnostics[i] with { Severity = DiagnosticSeverity.Warning };
            }
        }

        diagnostics.Add(new PolicyDiagnostic
        {
            Code = DiagnosticCodes.DroppedInvalidObject,
            Severity = DiagnosticSeverity.Warning,
            ObjectKind = kind,
            ObjectName = name,
            Location = source?.Location,
            Message = "the object is invalid and was dropped; the rest of the input compiles without it.",
        });
    }

    private static ClusterSnapshot Build(
        List<(NamespaceDefinition Model, ObjectSource? Source)> namespaces,
        List<(PodEndpoint Model, ObjectSource? Source)> pods,
        List<(NetworkPolicyDefinition Model, ObjectSource? Source)> policies,
        List<PolicyDiagnostic> diagnostics,
        ClusterSnapshotOptions options)
    {
        // The three indexes are independent: build them in parallel, each with its own duplicate diagnostics, reported in
        // the order namespaces, pods, policies (as one pass would report them).
        var nsBuilder = ImmutableSortedDictionary.CreateBuilder<string, NamespaceDefinition>(StringComparer.Ordinal);
        var podBuilder = ImmutableSortedDictionary.CreateBuilder<string, PodEndpoint>(ObjectKeyComparer.Instance);
        var policyBuilder = ImmutableSortedDictionary.CreateBuilder<string, NetworkPolicyDefinition>(ObjectKeyComparer.Instance);
        var nsDuplicates = new List<PolicyDiagnostic>();
        var podDuplicates = new List<PolicyDiagnostic>();
        var policyDuplicates = new List<PolicyDiagnostic>();
        Parallel.Invoke(
            () => Index(namespaces, nsBuilder, static n => n.Name, "Namespace", nsDuplicates),
            () => Index(pods, podBuilder, static p => p.Key, "Pod", podDuplicates),
            () => Index(policies, policyBuilder, static p => p.Key, "NetworkPolicy", policyDuplicates));
        diagnostics.AddRange(nsDuplicates);
        diagnostics.AddRange(podDuplicates);
        diagnostics.AddRange(policyDuplicates);

        // Namespaces that objects use but the input does not declare are created, as a cluster would have them.
        var implicitNamespaces = podBuilder.Values.Select(p => p.Namespace)
            .Concat(policyBuilder.Values.Select(p => p.Namespace))
            .Where(n => !nsBuilder.ContainsKey(n))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        foreach (var name in implicitNamespaces)
        {
            nsBuilder[name] = NamespaceDefinition.Create(name) with { Implicit = true };
            diagnostics.Add(new PolicyDiagnostic
            {
                Code = DiagnosticCodes.ImplicitNamespace,
                Severity = DiagnosticSeverity.Info,
                ObjectKind = "Namespace",
                ObjectName = name,
                Message = $"namespace '{name}' is used but not declared; created with only the label {NamespaceDefinition.NameLabel}={name}.",
            });
        }

        AssignAddresses(podBuilder, diagnostics, options);
        return new ClusterSnapshot(nsBuilder.ToImmutable(), podBuilder.ToImmutable(), policyBuilder.ToImmutable(), [.. diagnostics]);
    }

    private static void Index<T>(List<(T Model, ObjectSource? Source)> items, ImmutableSortedDictionary<string, T>.Builder builder, Func<T, string> key, string kind, List<PolicyDiagnostic> diagnostics)
    {
        foreach (var (item, source) in items)
        {
            if (!builder.TryAdd(key(item), item))
            {
                Duplicate(diagnostics, kind, key(item), source);
            }
        }
    }

    private static void Duplicate(List<PolicyDiagnostic> diagnostics, string kind, string name, ObjectSource? source) =>
        diagnostics.Add(new PolicyDiagnostic
        {
            Code = DiagnosticCodes.DuplicateObject,
            Severity = DiagnosticSeverity.Error,
            ObjectKind = kind,
            ObjectName = name,
            Location = source?.Location,
            Message = $"another {kind} with the same namespace and name came earlier in the input; each object may appear once.",
        });

    private static void AssignAddresses(ImmutableSortedDictionary<string, PodEndpoint>.Builder pods, List<PolicyDiagnostic> diagnostics, ClusterSnapshotOptions options)
    {
        var used = new Dictionary<IPAddress, string>();
        foreach (var pod in pods.Values)
        {
            foreach (var address in pod.Addresses)
            {
                if (!used.TryAdd(address, pod.Key))
                {
                    diagnostics.Add(new PolicyDiagnostic
                    {
                        Code = DiagnosticCodes.DuplicatePodIP,
                        Severity = DiagnosticSeverity.Error,
                        ObjectKind = "Pod",
                        ObjectName = pod.Key,
                        FieldPath = "status.podIPs",
                        Message = $"address {address} is also the address of pod {used[address]}; pod IPs must be unique.",
                    });
                }
            }
        }

        var allocators = new[]
        {
            (Family: AddressFamily.InterNetwork, Pool: options.IPv4AddressPool),
            (Family: AddressFamily.InterNetworkV6, Pool: options.IPv6AddressPool),
        };

        var assigned = 0;
        foreach (var (family, pool) in allocators)
        {
            if (pool is not IPNetwork network || network.BaseAddress.AddressFamily != family)
            {
                continue;
            }

            var bits = family == AddressFamily.InterNetwork ? 32 : 128;
            var size = bits - network.PrefixLength == 128 ? UInt128.MaxValue : UInt128.One << (bits - network.PrefixLength);
            var next = (UInt128)256;
            var baseValue = IPAddressBits.ToUInt128(network.BaseAddress);
            // Only pods without status IPs get pool addresses: a single-stack pod stays single-stack. Collected in one
            // pass (in key order), so pods that keep their addresses cost no lookup.
            var pending = new List<PodEndpoint>();
            foreach (var pod in pods.Values)
            {
                if (pod.AddressOf(family) is null && (pod.AddressesAssigned || pod.Addresses.IsEmpty))
                {
                    pending.Add(pod);
                }
            }

            foreach (var pod in pending)
            {
                var key = pod.Key;
                IPAddress? candidate = null;
                while (next < size - 1)
                {
                    var address = IPAddressBits.FromUInt128(baseValue + next, family);
                    next++;
                    if (!used.ContainsKey(address))
                    {
                        candidate = address;
                        break;
                    }
                }

                if (candidate is null)
                {
                    diagnostics.Add(new PolicyDiagnostic
                    {
                        Code = DiagnosticCodes.AddressPoolExhausted,
                        Severity = DiagnosticSeverity.Error,
                        ObjectKind = "Pod",
                        ObjectName = pod.Key,
                        Message = $"the address pool {network} has no free address left for this pod; configure a larger pool or give pods status.podIPs.",
                    });
                    break;
                }

                used[candidate] = key;
                assigned++;
                pods[key] = pod with
                {
                    Addresses = [.. pod.Addresses.Append(candidate).OrderBy(a => a, IPAddressComparer.Instance)],
                    AddressesAssigned = true,
                };
            }
        }

        if (assigned > 0)
        {
            diagnostics.Add(new PolicyDiagnostic
            {
                Code = DiagnosticCodes.AddressAssigned,
                Severity = DiagnosticSeverity.Info,
                Message = $"{assigned} pod address(es) were assigned from the configured pools to pods without status.podIPs, in (namespace, name) order.",
            });
        }
    }
}
