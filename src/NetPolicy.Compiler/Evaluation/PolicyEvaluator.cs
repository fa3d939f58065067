using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Evaluation;

/// <summary>The reference evaluator: decides flows straight from the NetworkPolicy v1 semantics, with explanations.</summary>
/// <remarks>
/// This is the oracle every backend is checked against. It reads the policies directly, without identities or
/// compiled rule sets, so a compiler bug cannot hide in it. The rules it implements
/// (<see href="https://kubernetes.io/docs/concepts/services-networking/network-policies/"/>):
/// <list type="bullet">
/// <item>A pod is isolated for a direction when a policy of its own namespace selects it and lists that direction in policyTypes.</item>
/// <item>An isolated pod allows what the union of the rules of its isolating policies allows; a pod that is not isolated allows everything.</item>
/// <item>A connection needs both the source pod's egress and the destination pod's ingress to allow it.</item>
/// <item>Named ports resolve against the destination pod's container ports, protocol included, in both directions.</item>
/// <item>ipBlock peers match pod IPs as well as external addresses; selector peers match pods only.</item>
/// <item>A pod's traffic to itself is not policed.</item>
/// </list>
/// </remarks>
public sealed class PolicyEvaluator
{
    private readonly ClusterSnapshot _snapshot;
    private readonly FrozenDictionary<string, ImmutableArray<NetworkPolicyDefinition>> _policiesByNamespace;
    private readonly FrozenDictionary<IPAddress, PodEndpoint> _podsByAddress;

    /// <summary>Initializes an evaluator over a snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    public PolicyEvaluator(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _snapshot = snapshot;
        _policiesByNamespace = snapshot.Policies.Values
            .GroupBy(p => p.Namespace, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.ToImmutableArray(), StringComparer.Ordinal);
        var byAddress = new Dictionary<IPAddress, PodEndpoint>();
        foreach (var pod in snapshot.Pods.Values)
        {
            foreach (var address in pod.Addresses)
            {
                byAddress.TryAdd(address, pod);
            }
        }

        _podsByAddress = byAddress.ToFrozenDictionary();
    }

    /// <summary>Gets the snapshot.</summary>
    public ClusterSnapshot Snapshot => _snapshot;

    /// <summary>Resolves an address to the pod that owns it, or an external endpoint.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The endpoint.</returns>
    public FlowEndpoint ResolveAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _podsByAddress.TryGetValue(a, out var pod) ? FlowEndpoint.ForPod(pod) : FlowEndpoint.ForAddress(a);
    }

    /// <summary>Returns whether a flow is allowed.</summary>
    /// <param name="source">The source.</param>
    /// <param name="destination">The destination.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns><see langword="true"/> when allowed.</returns>
    public bool Allows(FlowEndpoint source, FlowEndpoint destination, TransportProtocol protocol, int port) =>
        Evaluate(source, destination, protocol, port).Allowed;

    /// <summary>Returns whether a pod-to-pod flow is allowed.</summary>
    /// <param name="source">The source pod key, <c>namespace/name</c>.</param>
    /// <param name="destination">The destination pod key.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns><see langword="true"/> when allowed.</returns>
    /// <exception cref="ArgumentException">A pod is not in the snapshot.</exception>
    public bool Allows(string source, string destination, TransportProtocol protocol, int port) =>
        Evaluate(PodOrThrow(source, nameof(source)), PodOrThrow(destination, nameof(destination)), protocol, port).Allowed;

    /// <summary>Evaluates a flow and explains the decision.</summary>
    /// <param name="source">The source.</param>
    /// <param name="destination">The destination.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port, 1–65535.</param>
    /// <param name="family">For pod-to-pod flows, the address family to use; by default IPv4 when both pods have one, else IPv6.</param>
    /// <returns>The verdict.</returns>
    public FlowVerdict Evaluate(FlowEndpoint source, FlowEndpoint destination, TransportProtocol protocol, int port, AddressFamily? family = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);

        // An address given explicitly fixes the family of the flow, even when it belongs to a pod.
        family ??= source.Address?.AddressFamily ?? destination.Address?.AddressFamily;
        source = source.Address is { } sa ? ResolveAddress(sa) : source;
        destination = destination.Address is { } da ? ResolveAddress(da) : destination;
        var srcPod = source.Pod;
        var dstPod = destination.Pod;

        var verdict = new FlowVerdict
        {
            Source = source,
            Destination = destination,
            Protocol = protocol,
            Port = port,
            Allowed = true,
            Summary = string.Empty,
        };

        // Pick the addresses the flow travels with: ipBlock peers are matched against them.
        var chosenFamily = family ?? ChooseFamily(source, destination);
        var srcAddress = srcPod is null ? source.Address : chosenFamily is { } f1 ? srcPod.AddressOf(f1) : null;
        var dstAddress = dstPod is null ? destination.Address : chosenFamily is { } f2 ? dstPod.AddressOf(f2) : null;
        verdict = verdict with { SourceAddress = srcAddress, DestinationAddress = dstAddress };

        if (srcPod is null && dstPod is null)
        {
            return verdict with { Summary = "neither endpoint is a pod; NetworkPolicy does not apply." };
        }

        if (srcPod is not null && dstPod is not null && srcPod.Key == dstPod.Key)
        {
            return verdict with { Summary = "a pod's traffic to itself is not policed." };
        }

        if (srcAddress is null || dstAddress is null || srcAddress.AddressFamily != dstAddress.AddressFamily)
        {
            return verdict with { Allowed = false, Summary = "the endpoints have no address of a common family; no connection is possible." };
        }

        var egress = srcPod is null ? null : EvaluateDirection(srcPod, PolicyDirection.Egress, dstPod, dstAddress, protocol, port);
        var ingress = dstPod is null ? null : EvaluateDirection(dstPod, PolicyDirection.Ingress, srcPod, srcAddress, protocol, port);
        var allowed = (egress?.Allowed ?? true) && (ingress?.Allowed ?? true);
        string summary;
        if (allowed)
        {
            summary = "allowed: " + Describe(egress, "egress") + " and " + Describe(ingress, "ingress") + ".";
        }
        else if (egress is { Allowed: false } && ingress is { Allowed: false })
        {
            summary = "denied by both the source's egress and the destination's ingress policies.";
        }
        else
        {
            summary = egress is { Allowed: false }
                ? "denied by the source's egress policies (" + string.Join(", ", egress.IsolatingPolicies) + ")."
                : "denied by the destination's ingress policies (" + string.Join(", ", ingress!.IsolatingPolicies) + ").";
        }

        return verdict with { Allowed = allowed, Egress = egress, Ingress = ingress, Summary = summary };
    }

    /// <summary>Computes the reachability matrix over every pod of the snapshot for one port and protocol.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="family">The address family, or <see langword="null"/> for the default choice per pair.</param>
    /// <returns>The matrix; rows are sources, columns destinations.</returns>
    public ReachabilityMatrix Matrix(TransportProtocol protocol, int port, AddressFamily? family = null)
    {
        var pods = _snapshot.Pods.Values.ToImmutableArray();
        var rows = ImmutableArray.CreateBuilder<ImmutableArray<bool>>(pods.Length);
        foreach (var from in pods)
        {
            var row = ImmutableArray.CreateBuilder<bool>(pods.Length);
            foreach (var to in pods)
            {
                row.Add(Evaluate(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), protocol, port, family).Allowed);
            }

            rows.Add(row.MoveToImmutable());
        }

        return new ReachabilityMatrix(protocol, port, [.. pods.Select(p => p.Key)], rows.MoveToImmutable());
    }

    private static string Describe(DirectionVerdict? verdict, string direction) => verdict switch
    {
        null => direction + " not policed",
        { Isolated: false } => direction + " not isolated",
        _ => direction + " allowed by " + verdict.AllowedBy[0],
    };

    private static AddressFamily? ChooseFamily(FlowEndpoint source, FlowEndpoint destination)
    {
        if (source.Address is { } s)
        {
            return s.AddressFamily;
        }

        if (destination.Address is { } d)
        {
            return d.AddressFamily;
        }

        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if (source.Pod!.AddressOf(family) is not null && destination.Pod!.AddressOf(family) is not null)
            {
                return family;
            }
        }

        return null;
    }

    private FlowEndpoint PodOrThrow(string key, string parameter) =>
        _snapshot.FindPod(key) is { } pod ? FlowEndpoint.ForPod(pod) : throw new ArgumentException($"Pod '{key}' is not in the snapshot.", parameter);

    /// <summary>Evaluates one pod's policies for one direction against a peer.</summary>
    internal DirectionVerdict EvaluateDirection(PodEndpoint pod, PolicyDirection direction, PodEndpoint? peerPod, IPAddress peerAddress, TransportProtocol protocol, int port)
    {
        var isolating = new List<NetworkPolicyDefinition>();
        if (_policiesByNamespace.TryGetValue(pod.Namespace, out var policies))
        {
            foreach (var policy in policies)
            {
                if (policy.Affects(direction) && policy.PodSelector.Matches(pod.Labels))
                {
                    isolating.Add(policy);
                }
            }
        }

        if (isolating.Count == 0)
        {
            return new DirectionVerdict { Direction = direction, Pod = pod.Key, Allowed = true };
        }

        // Named ports always resolve against the destination pod.
        var destinationPod = direction == PolicyDirection.Ingress ? pod : peerPod;
        var allowedBy = new List<RuleReference>();
        var reasons = new List<string>();
        var peerField = direction == PolicyDirection.Ingress ? "from" : "to";
        foreach (var policy in isolating)
        {
            var rules = policy.RulesFor(direction);
            if (rules.IsEmpty)
            {
                reasons.Add($"{policy.Key} has no {direction.ToString().ToLowerInvariant()} rules: it allows no {direction.ToString().ToLowerInvariant()} traffic.");
                continue;
            }

            for (var r = 0; r < rules.Length; r++)
            {
                var rule = rules[r];
                var peers = new List<int?>();
                if (rule.Peers.IsEmpty)
                {
                    peers.Add(null);
                }
                else
                {
                    for (var i = 0; i < rule.Peers.Length; i++)
                    {
                        if (PeerMatches(policy, rule.Peers[i], peerPod, peerAddress))
                        {
                            peers.Add(i);
                        }
                    }
                }

                var ports = new List<int?>();
                if (rule.Ports.IsEmpty)
                {
                    ports.Add(null);
                }
                else
                {
                    for (var i = 0; i < rule.Ports.Length; i++)
                    {
                        if (rule.Ports[i].Matches(protocol, port, destinationPod))
                        {
                            ports.Add(i);
                        }
                    }
                }

                foreach (var peer in peers)
                {
                    foreach (var p in ports)
                    {
                        allowedBy.Add(new RuleReference(policy.Key, direction, r, peer, p));
                    }
                }

                if (peers.Count == 0 || ports.Count == 0)
                {
                    var why = new List<string>(2);
                    if (peers.Count == 0)
                    {
                        why.Add($"no {peerField} peer matches {(peerPod?.Key ?? peerAddress.ToString())} ({string.Join("; ", rule.Peers)})");
                    }

                    if (ports.Count == 0)
                    {
                        why.Add($"no port matches {protocol.ToKubernetesName()}/{port} ({string.Join(", ", rule.Ports)}){NamedPortHint(rule, destinationPod, protocol)}");
                    }

                    reasons.Add($"{policy.Key} spec.{direction.ToString().ToLowerInvariant()}[{r}]: {string.Join(" and ", why)}.");
                }
            }
        }

        allowedBy.Sort(static (a, b) => a.CompareTo(b));
        return new DirectionVerdict
        {
            Direction = direction,
            Pod = pod.Key,
            IsolatingPolicies = [.. isolating.Select(p => p.Key)],
            Allowed = allowedBy.Count > 0,
            AllowedBy = [.. allowedBy],
            Reasons = allowedBy.Count > 0 ? [] : [.. reasons],
        };
    }

    private static string NamedPortHint(NetworkPolicyRule rule, PodEndpoint? destinationPod, TransportProtocol protocol)
    {
        var named = rule.Ports.Where(p => p.PortName is not null && p.Protocol == protocol).ToList();
        if (named.Count == 0)
        {
            return string.Empty;
        }

        if (destinationPod is null)
        {
            return "; named ports never match a destination outside the cluster";
        }

        var resolved = named.Select(p => destinationPod.ResolveNamedPort(p.PortName!, p.Protocol) is int n ? $"{p.PortName}={n}" : $"{p.PortName} not declared").ToList();
        return $"; on {destinationPod.Key}: {string.Join(", ", resolved)}";
    }

    private bool PeerMatches(NetworkPolicyDefinition policy, NetworkPolicyPeer peer, PodEndpoint? peerPod, IPAddress peerAddress)
    {
        if (peer.IPBlock is { } block)
        {
            return block.Contains(peerAddress);
        }

        if (peerPod is null)
        {
            return false;
        }

        if (peer.NamespaceSelector is null)
        {
            if (!string.Equals(peerPod.Namespace, policy.Namespace, StringComparison.Ordinal))
            {
                return false;
            }
        }
        else if (!_snapshot.Namespaces.TryGetValue(peerPod.Namespace, out var ns) || !peer.NamespaceSelector.Matches(ns.Labels))
        {
            return false;
        }

        return peer.PodSelector is null || peer.PodSelector.Matches(peerPod.Labels);
    }
}
