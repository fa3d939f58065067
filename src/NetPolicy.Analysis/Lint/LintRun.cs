using System.Collections.Immutable;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis.Lint;

/// <summary>One lint pass over a snapshot.</summary>
internal sealed class LintRun(ClusterSnapshot snapshot, CompiledPolicySet compiled, PolicyLintOptions options)
{
    private const int NamesShown = 5;
    private readonly List<LintFinding> _findings = [];
    private readonly Dictionary<string, List<PodEndpoint>> _podsByNamespace = snapshot.Pods.Values
        .GroupBy(p => p.Namespace, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

    public ImmutableArray<LintFinding> Findings => [.. _findings
        .OrderBy(f => f.ObjectName, ObjectKeyComparer.Instance)
        .ThenBy(f => f.ObjectKind, StringComparer.Ordinal)
        .ThenBy(f => f.FieldPath ?? string.Empty, StringComparer.Ordinal)
        .ThenBy(f => f.Code, StringComparer.Ordinal)
        .ThenBy(f => f.Message, StringComparer.Ordinal)];

    public void Run()
    {
        foreach (var policy in snapshot.Policies.Values)
        {
            var selected = PodsOf(policy.Namespace).Where(p => policy.PodSelector.Matches(p.Labels)).ToList();
            if (selected.Count == 0)
            {
                Report(LintCodes.PolicySelectsNoPod, DiagnosticSeverity.Warning, policy, "spec.podSelector",
                    $"podSelector {Describe(policy.PodSelector)} selects no pod of namespace {policy.Namespace}, so the policy has no effect; check the selector against the pods' labels.");
            }

            foreach (var direction in new[] { PolicyDirection.Ingress, PolicyDirection.Egress })
            {
                if (!policy.Affects(direction))
                {
                    continue;
                }

                var rules = policy.RulesFor(direction);
                for (var r = 0; r < rules.Length; r++)
                {
                    CheckPeers(policy, direction, r, rules[r]);
                    CheckNamedPorts(policy, direction, r, rules[r], selected);
                }

                CheckRedundancy(policy, direction, rules);
            }
        }

        CheckUnisolatedPods();
        CheckDns();
    }

    private List<PodEndpoint> PodsOf(string ns) => _podsByNamespace.TryGetValue(ns, out var pods) ? pods : [];

    private static string RulePath(PolicyDirection direction, int rule) => $"spec.{(direction == PolicyDirection.Ingress ? "ingress" : "egress")}[{rule}]";

    private static string PeerPath(PolicyDirection direction, int rule, int peer) => $"{RulePath(direction, rule)}.{(direction == PolicyDirection.Ingress ? "from" : "to")}[{peer}]";

    private static string Describe(LabelSelector selector) => selector.IsEmpty ? "{}" : selector.ToString();

    private static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= NamesShown ? string.Join(", ", list) : string.Join(", ", list.Take(NamesShown)) + $", ... ({list.Count} in all)";
    }

    /// <summary>The pods a selector peer of a policy selects (as the reference evaluator matches them).</summary>
    private List<PodEndpoint> SelectedBy(NetworkPolicyDefinition policy, NetworkPolicyPeer peer)
    {
        if (peer.IPBlock is { } block)
        {
            return [.. snapshot.Pods.Values.Where(p => p.Addresses.Any(block.Contains))];
        }

        IEnumerable<PodEndpoint> scope = peer.NamespaceSelector is null
            ? PodsOf(policy.Namespace)
            : snapshot.Namespaces.Values.Where(n => peer.NamespaceSelector.Matches(n.Labels)).SelectMany(n => PodsOf(n.Name));
        return [.. scope.Where(p => peer.PodSelector is null || peer.PodSelector.Matches(p.Labels))];
    }

    private void CheckPeers(NetworkPolicyDefinition policy, PolicyDirection direction, int r, NetworkPolicyRule rule)
    {
        for (var i = 0; i < rule.Peers.Length; i++)
        {
            var peer = rule.Peers[i];
            if (peer.IPBlock is { } block)
            {
                var covered = snapshot.Pods.Values.Where(p => !p.AddressesAssigned && p.Addresses.Any(block.Contains)).Select(p => p.Key).ToList();
                if (covered.Count > 0)
                {
                    Report(LintCodes.IPBlockCoversPods, DiagnosticSeverity.Warning, policy, PeerPath(direction, r, i) + ".ipBlock.cidr",
                        $"ipBlock {block} contains the addresses of {covered.Count} pod(s) ({Names(covered)}); ipBlocks match pod IPs whatever the pods' labels. " +
                        "Add the pod CIDR to except, or use pod and namespace selectors for pods.");
                }

                continue;
            }

            if (SelectedBy(policy, peer).Count > 0)
            {
                continue;
            }

            string why;
            if (peer.NamespaceSelector is { } nsSelector && !snapshot.Namespaces.Values.Any(n => nsSelector.Matches(n.Labels)))
            {
                why = $"namespaceSelector {Describe(nsSelector)} selects no namespace";
            }
            else if (peer.NamespaceSelector is null)
            {
                why = $"podSelector {Describe(peer.PodSelector!)} selects no pod of namespace {policy.Namespace}";
            }
            else
            {
                why = $"{peer} selects no pod";
            }

            Report(LintCodes.PeerSelectsNothing, DiagnosticSeverity.Warning, policy, PeerPath(direction, r, i),
                $"{why}, so this peer allows nothing; check the selectors against the labels (a peer without namespaceSelector selects pods of the policy's own namespace only).");
        }
    }

    private void CheckNamedPorts(NetworkPolicyDefinition policy, PolicyDirection direction, int r, NetworkPolicyRule rule, List<PodEndpoint> selected)
    {
        if (!rule.Ports.Any(p => p.PortName is not null))
        {
            return;
        }

        // Ingress named ports resolve against the selected pods, egress ones against the destination pods.
        List<PodEndpoint> candidates;
        string whose;
        if (direction == PolicyDirection.Ingress)
        {
            if (selected.Count == 0)
            {
                return; // NP4001 already says the policy selects nothing.
            }

            candidates = selected;
            whose = "no pod the policy selects";
        }
        else
        {
            if (rule.Peers.IsEmpty)
            {
                candidates = [.. snapshot.Pods.Values];
            }
            else
            {
                candidates = [.. rule.Peers.SelectMany(p => SelectedBy(policy, p)).DistinctBy(p => p.Key)];
                if (candidates.Count == 0 && rule.Peers.All(p => p.IPBlock is null))
                {
                    return; // NP4002 already says the peers select nothing.
                }
            }

            whose = "no destination pod of the rule's peers";
        }

        for (var k = 0; k < rule.Ports.Length; k++)
        {
            var port = rule.Ports[k];
            if (port.PortName is not { } name || candidates.Any(p => p.ResolveNamedPort(name, port.Protocol) is not null))
            {
                continue;
            }

            Report(LintCodes.NamedPortNotFound, DiagnosticSeverity.Warning, policy, $"{RulePath(direction, r)}.ports[{k}].port",
                $"{whose} declares a {port.Protocol.ToKubernetesName()} container port named '{name}', so this port entry matches nothing; " +
                "name the port in the pods' spec, fix the name or protocol, or use a number.");
        }
    }

    private void CheckRedundancy(NetworkPolicyDefinition policy, PolicyDirection direction, ImmutableArray<NetworkPolicyRule> rules)
    {
        for (var i = 0; i < rules.Length; i++)
        {
            for (var j = 0; j < rules.Length; j++)
            {
                if (i == j || !RuleCoverage.Covers(rules[j], rules[i]))
                {
                    continue;
                }

                var mutual = RuleCoverage.Covers(rules[i], rules[j]);
                if (mutual && i < j)
                {
                    continue; // Of two equivalent rules, report the later one only.
                }

                Report(LintCodes.RedundantRule, DiagnosticSeverity.Info, policy, RulePath(direction, i),
                    mutual
                        ? $"{RulePath(direction, i)} allows exactly what {RulePath(direction, j)} allows; remove one of them."
                        : $"every flow {RulePath(direction, i)} allows is also allowed by {RulePath(direction, j)}; remove it or narrow the broader rule.");
                break;
            }
        }
    }

    private void CheckUnisolatedPods()
    {
        foreach (var (ns, pods) in _podsByNamespace.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var policies = snapshot.Policies.Values.Where(p => p.Namespace == ns).ToList();
            foreach (var direction in new[] { PolicyDirection.Ingress, PolicyDirection.Egress })
            {
                var isolating = policies.Where(p => p.Affects(direction)).ToList();
                if (isolating.Count == 0)
                {
                    continue;
                }

                var name = direction == PolicyDirection.Ingress ? "ingress" : "egress";
                foreach (var pod in pods)
                {
                    if (isolating.Any(p => p.PodSelector.Matches(pod.Labels)))
                    {
                        continue;
                    }

                    Report(LintCodes.PodNotIsolated, DiagnosticSeverity.Warning, "Pod", pod.Key, null, options.Sources.LocatePod(pod.Key, null),
                        $"no policy with {name} in policyTypes selects this pod, although {Names(isolating.Select(p => p.Key))} isolate(s) other pods of namespace {ns} for {name}, " +
                        $"so all {name} traffic of this pod is allowed; select it in a policy (for example a default-deny policy with podSelector {{}}) if that is not intended.");
                }
            }
        }
    }

    /// <summary>DNS is reported blocked only when the policy text provably allows no port 53: peers count whatever they select
    /// today (the cluster DNS is rarely part of the manifests; NP4002 reports peers that select nothing), and a named port
    /// of the protocol counts as possibly 53.</summary>
    private void CheckDns()
    {
        foreach (var endpoint in compiled.Endpoints.Values)
        {
            if (endpoint.EgressRuleSet is null)
            {
                continue;
            }

            var rules = endpoint.EgressPolicies.Select(key => snapshot.Policies[key]).SelectMany(p => p.Egress).ToList();
            bool Allows(TransportProtocol protocol) => rules.Any(r => r.Ports.IsEmpty || r.Ports.Any(p => p.Protocol == protocol &&
                (p.IsAllPorts || p.PortName is not null || (p.Port is int first && first <= 53 && 53 <= (p.EndPort ?? first)))));
            var udp = Allows(TransportProtocol.Udp);
            var tcp = Allows(TransportProtocol.Tcp);
            if (udp && tcp)
            {
                continue;
            }

            var blocked = !udp && !tcp ? "UDP/53 and TCP/53" : !udp ? "UDP/53" : "TCP/53";
            var consequence = !udp ? "name lookups fail" : "DNS answers too large for UDP (truncated, retried over TCP) fail";
            Report(LintCodes.EgressBlocksDns, udp ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, "Pod", endpoint.Pod, null, options.Sources.LocatePod(endpoint.Pod, null),
                $"egress is isolated by {Names(endpoint.EgressPolicies)}, and no egress rule of them allows {blocked} to any destination, so {consequence}; " +
                "add an egress rule for port 53 (UDP and TCP) to the cluster DNS (for example namespaceSelector kubernetes.io/metadata.name=kube-system).");
        }
    }

    private void Report(string code, DiagnosticSeverity severity, NetworkPolicyDefinition policy, string? fieldPath, string message) =>
        Report(code, severity, "NetworkPolicy", policy.Key, fieldPath, options.Sources.LocatePolicy(policy.Key, fieldPath), message);

    private void Report(string code, DiagnosticSeverity severity, string kind, string name, string? fieldPath, SourceLocation? location, string message)
    {
        if (options.DisabledCodes.Contains(code))
        {
            return;
        }

        _findings.Add(new LintFinding
        {
            Code = code,
            Severity = severity,
            ObjectKind = kind,
            ObjectName = name,
            FieldPath = fieldPath,
            Location = location,
            Message = message,
        });
    }
}
