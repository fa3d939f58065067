using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Netfilter;

namespace NetPolicy.Compiler.Nftables;

/// <summary>Renders the policy IR as one nftables ruleset: an <c>inet</c> table of its own, applied with <c>nft -f</c> in one transaction.</summary>
/// <remarks>
/// <para>Layout of the file: <c>table inet T</c> and <c>delete table inet T</c> (so applying it again replaces the table
/// atomically), then the table: one interval set per peer set and family (<c>peers-ID-v4</c>, <c>peers-ID-v6</c>) holding
/// the exact address ranges of the peer set's identities and address classes; one concatenated set
/// (<c>np-HASH-v4</c>: <c>ipv4_addr . inet_proto . inet_service</c>) per egress named port that resolves to more than one
/// port; with <see cref="NftablesRenderOptions.PodCidrs"/>, the set <c>endpoints-v4</c>/<c>-v6</c> of every programmed
/// pod address inside them; one chain per rule set an endpoint uses (<c>rs-in-ID</c>, <c>rs-out-ID</c>) that returns for
/// every allowed (peer, port) and otherwise counts and drops; the dispatch verdict maps (<c>egress-dispatch-v4</c>,
/// <c>ingress-dispatch-v4</c>, and <c>-v6</c>) from every address of an isolated endpoint to its rule-set chain; the
/// chain <c>to-pod</c> for the receiving pod (fail closed, then the host-address exemption, then the ingress dispatch by
/// destination address); the <c>forward</c> base chain (hook forward, priority filter, policy accept) that accepts
/// established connections early (<see cref="NftablesRenderOptions.Mode"/>), lets neighbour discovery through, fails
/// closed on an unprogrammed source, jumps through the egress dispatch by source address and then to <c>to-pod</c>; and
/// the <c>output</c> base chain (hook output) that does the same for packets the node itself sends, receiving side only.</para>
/// <para>Semantics are those of <see cref="CompiledPolicySet.Decide"/>: a flow passes when the source endpoint's egress
/// rule set (if isolated) allows the destination and the destination endpoint's ingress rule set (if isolated) allows the
/// source. A remote matches a peer set by its identity or its address class, both resolved through the ipcache's longest
/// prefix match, which the sets hold as exact address ranges.</para>
/// <para>The node, with the same meaning as the BPF datapath: an address inside <see cref="NftablesRenderOptions.PodCidrs"/>
/// that no endpoint of the IR has (a pod that is not programmed yet) is dropped as source and as destination unless
/// <see cref="NftablesRenderOptions.FailOpen"/> is set (<c>BpfDatapathOptions.FailOpen</c>); traffic from
/// <see cref="NftablesRenderOptions.HostAddresses"/> to a pod skips the pod's ingress policy (kubelet probes;
/// <c>BpfRenderOptions.HostAddresses</c>), and other traffic the node sends to pods is policed like any other.
/// Not policed: a pod talking to itself (it never leaves the pod).</para>
/// <para><see cref="NftablesRuleset.DiffFrom"/> turns the file of the previous render into a delta transaction.</para>
/// <para>Only NetworkPolicy-tier allow rules can be rendered today.</para>
/// </remarks>
public static partial class NftablesRenderer
{
    /// <summary>Renders a compile.</summary>
    /// <param name="policySet">The policy IR.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The ruleset.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="policySet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="NotSupportedException">A used rule set has a rule other than a NetworkPolicy-tier allow.</exception>
    /// <example><code>
    /// var ruleset = NftablesRenderer.Render(result.PolicySet);
    /// File.WriteAllText("ruleset.nft", ruleset.Text);   // nft -f ruleset.nft
    /// </code></example>
    public static NftablesRuleset Render(CompiledPolicySet policySet, NftablesRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policySet);
        options ??= new NftablesRenderOptions();
        Validate(options);
        var node = NodeAddressing.Create(nameof(NftablesRenderOptions), options.PodCidrs, options.HostAddresses, options.FailOpen);

        var usedRuleSets = new SortedSet<int>();
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            if (endpoint.Addresses.IsEmpty)
            {
                continue;
            }

            if (endpoint.IngressRuleSet is int ingress)
            {
                usedRuleSets.Add(ingress);
            }

            if (endpoint.EgressRuleSet is int egress)
            {
                usedRuleSets.Add(egress);
            }
        }

        var ranges = AddressRanges.Compute(policySet);
        var namedPorts = new NamedPortGroups(policySet, (peers, family) =>
        {
            var v4 = family == AddressFamily.InterNetwork;
            var all = peers.Identities.SelectMany(i => ranges.ByIdentity.GetValueOrDefault(i) ?? [])
                .Concat(peers.AddressClasses.SelectMany(c => ranges.ByClass.GetValueOrDefault(c) ?? []))
                .Where(r => r.IsIPv4 == v4)
                .ToList();
            return all.TrueForAll(r => r.First == r.Last) ? [.. all.Select(r => r.First).Distinct().Order().Select(v => IPAddressBits.FromUInt128(v, family))] : null;
        });
        var chains = new StringBuilder();
        var usedPeerSets = new SortedDictionary<int, (List<AddressRange> V4, List<AddressRange> V6)>();
        foreach (var id in usedRuleSets)
        {
            var ruleSet = policySet.RuleSets[id];
            var ingress = ruleSet.Direction == PolicyDirection.Ingress;
            var name = ChainName(ruleSet);
            chains.Append("\tchain ").Append(name).Append(" {\n");
            var seen = new HashSet<(int, PortMatch?)>();
            foreach (var rule in ruleSet.Rules)
            {
                if (rule.Action != PolicyAction.Allow || rule.Tier != PolicyTier.NetworkPolicy)
                {
                    throw new NotSupportedException($"rule set {ruleSet.Id}: rule '{rule.Source}' is a {rule.Tier}-tier {rule.Action} rule; the nftables renderer supports NetworkPolicy-tier allow rules only.");
                }
            }

            var groups = namedPorts.Of(ruleSet);
            var grouped = groups.SelectMany(g => g.Rules).ToHashSet();
            foreach (var rule in ruleSet.Rules)
            {
                if (grouped.Contains(rule) || !seen.Add((rule.PeerSet, rule.Port)))
                {
                    continue;
                }

                var port = PortText(rule.Port);
                var peers = policySet.PeerSets[rule.PeerSet];
                if (peers.IsAny)
                {
                    chains.Append("\t\t").Append(port).Append(port.Length == 0 ? "return\n" : " return\n");
                    continue;
                }

                if (!usedPeerSets.TryGetValue(peers.Id, out var members))
                {
                    var all = peers.Identities.SelectMany(i => ranges.ByIdentity.GetValueOrDefault(i) ?? [])
                        .Concat(peers.AddressClasses.SelectMany(c => ranges.ByClass.GetValueOrDefault(c) ?? []))
                        .ToList();
                    members = (AddressRanges.Merge(all.Where(r => r.IsIPv4)), AddressRanges.Merge(all.Where(r => !r.IsIPv4)));
                    usedPeerSets[peers.Id] = members;
                }

                var field = ingress ? "saddr" : "daddr";
                foreach (var (family, list, suffix) in new[] { ("ip", members.V4, "v4"), ("ip6", members.V6, "v6") })
                {
                    if (list.Count > 0)
                    {
                        chains.Append("\t\t").Append(family).Append(' ').Append(field).Append(" @peers-")
                            .Append(peers.Id.ToString(CultureInfo.InvariantCulture)).Append('-').Append(suffix)
                            .Append(port.Length == 0 ? string.Empty : " " + port).Append(" return\n");
                    }
                }
            }

            // Egress named ports resolved per destination pod: one concatenated set of address . protocol . port.
            foreach (var group in groups.OrderBy(g => g.Hash, StringComparer.Ordinal))
            {
                foreach (var (family, suffix) in new[] { ("ip", "v4"), ("ip6", "v6") })
                {
                    if (group.Members(suffix == "v4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6).Count > 0)
                    {
                        chains.Append("\t\t").Append(family).Append(" daddr . meta l4proto . th dport @np-").Append(group.Hash).Append('-').Append(suffix).Append(" return\n");
                    }
                }
            }

            chains.Append("\t\tcounter ");
            if (options.LogPrefix is { } prefix)
            {
                chains.Append("log prefix \"").Append(prefix).Append(name).Append(": \" ");
            }

            chains.Append("drop\n\t}\n");
        }

        var table = options.TableName;
        var text = new StringBuilder();
        text.Append("# Generated by NetPolicy.Compiler; applied with nft -f as one transaction.\n");
        text.Append("table inet ").Append(table).Append('\n');
        text.Append("delete table inet ").Append(table).Append('\n');
        text.Append("table inet ").Append(table).Append(" {\n");
        foreach (var (id, (v4, v6)) in usedPeerSets)
        {
            AppendSet(text, id, "v4", "ipv4_addr", v4);
            AppendSet(text, id, "v6", "ipv6_addr", v6);
        }

        foreach (var group in namedPorts.Used.Values)
        {
            foreach (var (family, suffix, type) in new[] { (AddressFamily.InterNetwork, "v4", "ipv4_addr"), (AddressFamily.InterNetworkV6, "v6", "ipv6_addr") })
            {
                var members = group.Members(family);
                if (members.Count > 0)
                {
                    text.Append("\tset np-").Append(group.Hash).Append('-').Append(suffix).Append(" {\n\t\ttype ").Append(type).Append(" . inet_proto . inet_service\n");
                    AppendElements(text, members.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Address} . {ProtocolName(m.Protocol)} . {m.Port}")));
                    text.Append("\t}\n");
                }
            }
        }

        foreach (var (family, suffix, type) in new[] { (AddressFamily.InterNetwork, "v4", "ipv4_addr"), (AddressFamily.InterNetworkV6, "v6", "ipv6_addr") })
        {
            if (node.FailsClosed(family))
            {
                text.Append("\tset endpoints-").Append(suffix).Append(" {\n\t\ttype ").Append(type).Append('\n');
                AppendElements(text, node.ProgrammedAddresses(policySet, family).Select(a => a.ToString()));
                text.Append("\t}\n");
            }
        }

        text.Append(chains);
        var maps = new List<(string Name, string Type, SortedDictionary<UInt128, string> Elements, bool IsIPv4)>
        {
            ("egress-dispatch-v4", "ipv4_addr", new(), true),
            ("egress-dispatch-v6", "ipv6_addr", new(), false),
            ("ingress-dispatch-v4", "ipv4_addr", new(), true),
            ("ingress-dispatch-v6", "ipv6_addr", new(), false),
        };
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            foreach (var address in endpoint.Addresses)
            {
                var v4 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
                var value = IPAddressBits.ToUInt128(address);
                if (endpoint.EgressRuleSet is int egress)
                {
                    maps[v4 ? 0 : 1].Elements[value] = address + " : jump " + ChainName(policySet.RuleSets[egress]);
                }

                if (endpoint.IngressRuleSet is int ingress)
                {
                    maps[v4 ? 2 : 3].Elements[value] = address + " : jump " + ChainName(policySet.RuleSets[ingress]);
                }
            }
        }

        foreach (var (name, type, elements, _) in maps)
        {
            text.Append("\tmap ").Append(name).Append(" {\n\t\ttype ").Append(type).Append(" : verdict\n");
            AppendElements(text, elements.Values);
            text.Append("\t}\n");
        }

        var established = options.Mode == NftablesEnforcementMode.Strict
            ? "\t\tct state established,related ct direction reply accept\n"
            : "\t\tct state established,related accept\n";
        const string NeighbourDiscovery = "\t\ticmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept\n";
        var families = new[] { (AddressFamily.InterNetwork, "ip", "v4"), (AddressFamily.InterNetworkV6, "ip6", "v6") };

        // The receiving pod, for forwarded and node-originated packets: fail closed, host exemption, ingress dispatch.
        text.Append("\tchain to-pod {\n");
        foreach (var (family, keyword, suffix) in families)
        {
            if (node.FailsClosed(family))
            {
                text.Append("\t\t").Append(keyword).Append(" daddr ").Append(Inline(node.PodCidrsOf(family).Select(c => c.ToString()))).Append(' ')
                    .Append(keyword).Append(" daddr != @endpoints-").Append(suffix).Append(" counter drop\n");
            }
        }

        foreach (var (family, keyword, _) in families)
        {
            var hosts = node.HostAddressesOf(family);
            if (hosts.Count > 0)
            {
                text.Append("\t\t").Append(keyword).Append(" saddr ").Append(Inline(hosts.Select(a => a.ToString()))).Append(" return\n");
            }
        }

        text.Append("\t\tip daddr vmap @ingress-dispatch-v4\n");
        text.Append("\t\tip6 daddr vmap @ingress-dispatch-v6\n");
        text.Append("\t}\n");

        text.Append("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
        text.Append(established);
        text.Append(NeighbourDiscovery);
        foreach (var (family, keyword, suffix) in families)
        {
            if (node.FailsClosed(family))
            {
                text.Append("\t\t").Append(keyword).Append(" saddr ").Append(Inline(node.PodCidrsOf(family).Select(c => c.ToString()))).Append(' ')
                    .Append(keyword).Append(" saddr != @endpoints-").Append(suffix).Append(" counter drop\n");
            }
        }

        text.Append("\t\tip saddr vmap @egress-dispatch-v4\n");
        text.Append("\t\tip6 saddr vmap @egress-dispatch-v6\n");
        text.Append("\t\tjump to-pod\n");
        text.Append("\t}\n");

        text.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n");
        text.Append(established);
        text.Append(NeighbourDiscovery);
        text.Append("\t\tjump to-pod\n");
        text.Append("\t}\n}\n");
        return new NftablesRuleset { TableName = table, Text = text.ToString() };
    }

    private static void AppendSet(StringBuilder text, int id, string suffix, string type, List<AddressRange> ranges)
    {
        if (ranges.Count == 0)
        {
            return;
        }

        text.Append("\tset peers-").Append(id.ToString(CultureInfo.InvariantCulture)).Append('-').Append(suffix)
            .Append(" {\n\t\ttype ").Append(type).Append("\n\t\tflags interval\n");
        AppendElements(text, ranges.Select(r => r.ToString()));
        text.Append("\t}\n");
    }

    private static void AppendElements(StringBuilder text, IEnumerable<string> elements)
    {
        var first = true;
        foreach (var element in elements)
        {
            text.Append(first ? "\t\telements = {\n\t\t\t" : ",\n\t\t\t").Append(element);
            first = false;
        }

        if (!first)
        {
            text.Append(",\n\t\t}\n");
        }
    }

    private static string Inline(IEnumerable<string> elements) => "{ " + string.Join(", ", elements) + " }";

    private static string ProtocolName(TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => "tcp",
        TransportProtocol.Udp => "udp",
        TransportProtocol.Sctp => "sctp",
        _ => throw new NotSupportedException($"protocol {protocol} cannot be rendered"),
    };

    private static string ChainName(RuleSet ruleSet) =>
        (ruleSet.Direction == PolicyDirection.Ingress ? "rs-in-" : "rs-out-") + ruleSet.Id.ToString(CultureInfo.InvariantCulture);

    private static string PortText(PortMatch? port)
    {
        if (port is not PortMatch p)
        {
            return string.Empty;
        }

        var protocol = p.Protocol switch
        {
            TransportProtocol.Tcp => "tcp",
            TransportProtocol.Udp => "udp",
            TransportProtocol.Sctp => "sctp",
            _ => throw new NotSupportedException($"protocol {p.Protocol} cannot be rendered"),
        };
        if (p.IsAnyPort)
        {
            return "meta l4proto " + protocol;
        }

        return p.First == p.Last
            ? string.Create(CultureInfo.InvariantCulture, $"{protocol} dport {p.First}")
            : string.Create(CultureInfo.InvariantCulture, $"{protocol} dport {p.First}-{p.Last}");
    }

    private static void Validate(NftablesRenderOptions options)
    {
        if (options.TableName is null || !TableNamePattern().IsMatch(options.TableName))
        {
            throw new ArgumentException($"NftablesRenderOptions.TableName '{options.TableName}' is invalid: use 1-64 characters, a letter first, then letters, digits, '_' or '-'.", nameof(options));
        }

        if (options.LogPrefix is { } prefix && (prefix.Length > 100 || prefix.Any(c => c is '"' or '\\' || char.IsControl(c))))
        {
            throw new ArgumentException("NftablesRenderOptions.LogPrefix is invalid: use at most 100 characters without double quotes, backslashes or control characters.", nameof(options));
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex TableNamePattern();
}
