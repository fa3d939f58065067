using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Netfilter;

namespace NetPolicy.Compiler.Iptables;

/// <summary>Renders a <see cref="CompiledPolicySet"/> into ipset and iptables-restore files.</summary>
/// <remarks>
/// <para>The semantics are those of <see cref="CompiledPolicySet.Decide"/> and the BPF datapath: a forwarded flow passes
/// when the source endpoint's egress rule set (if it is egress-isolated) and the destination endpoint's ingress rule set
/// (if it is ingress-isolated) both allow it. <c>NP-FORWARD</c> accepts tracked connections early, drops an unprogrammed
/// source (below), sends a packet from an egress-isolated pod address through <c>NP-EG-&lt;rule set&gt;</c>, then jumps
/// to <c>NP-TO-POD</c>, which drops an unprogrammed destination, returns for the node's own addresses and sends a packet
/// to an ingress-isolated pod address through <c>NP-IN-&lt;rule set&gt;</c>; those chains <c>RETURN</c> on an allow rule
/// and <c>DROP</c> at their end. <c>NP-OUTPUT</c> (hooked from <c>OUTPUT</c>) sends what the node itself sends through
/// <c>NP-TO-POD</c> too (after established connections and, for IPv6, neighbour discovery). A packet that returns
/// continues in <c>FORWARD</c> or <c>OUTPUT</c>, so the host's own rules still apply.</para>
/// <para>The node, with the same meaning as the BPF datapath: an address inside
/// <see cref="IptablesRenderOptions.PodCidrs"/> that no endpoint of the IR has (a pod not programmed yet) is dropped as
/// source and destination (<c>-m set ! --match-set NP-EP-v4-ip</c>) unless <see cref="IptablesRenderOptions.FailOpen"/>
/// is set; traffic from <see cref="IptablesRenderOptions.HostAddresses"/> skips the destination pod's ingress policy.</para>
/// <para>Each peer set has one ipset per address family, holding exactly the addresses the ipcache's longest prefix match
/// maps to one of its identities or address classes (an ipBlock's except and pod IPs inside it are holes): <c>hash:ip</c>
/// when all are single addresses, <c>hash:net</c> otherwise; the type is part of the name, so a changed type is a new set.
/// An egress named port that resolves to more than one port (a port per destination pod) is one <c>hash:ip,port</c> set
/// (<c>NP-NP&lt;hash&gt;-v4-ipport</c>, members like <c>198.18.1.5,tcp:8080</c>) matched with <c>dst,dst</c> instead of a rule per port.</para>
/// <para><see cref="IptablesRuleset.DiffFrom"/> turns the files of the previous render into a delta.</para>
/// </remarks>
public static class IptablesRenderer
{
    // One fixed limit for every set: `create NAME ... -exist` only succeeds when the existing set was made with the same
    // maxelem, and memory grows with the members, not with the limit.
    private const int MaxElements = 1048576;

    /// <summary>Renders the ipset and iptables-restore files of a compiled policy set; the same input gives byte-identical files.</summary>
    /// <param name="policySet">The compiled policy set.</param>
    /// <param name="options">Render settings, or <see langword="null"/> for the defaults.</param>
    /// <returns>The three files.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="policySet"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> holds an undefined mode.</exception>
    /// <example><code>
    /// var rules = IptablesRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors());
    /// File.WriteAllText("ipsets.restore", rules.IpsetRestore);
    /// File.WriteAllText("iptables.rules", rules.IPv4Rules);
    /// </code></example>
    public static IptablesRuleset Render(CompiledPolicySet policySet, IptablesRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policySet);
        options ??= new IptablesRenderOptions();
        var node = options.Validate();

        var usedRuleSets = new SortedSet<int>();
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            if (endpoint.IngressRuleSet is int ingress)
            {
                usedRuleSets.Add(ingress);
            }

            if (endpoint.EgressRuleSet is int egress)
            {
                usedRuleSets.Add(egress);
            }
        }

        var families = new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 };
        var partitions = families.ToDictionary(f => f, f => IptablesAddressRanges.Partition(policySet, f));
        var indexes = families.ToDictionary(f => f, f => new IptablesAddressRanges.Index(partitions[f]));
        var namedPorts = new NamedPortGroups(policySet, (peers, family) =>
        {
            var intervals = indexes[family].Matching(peers).ConvertAll(i => partitions[family][i]);
            return intervals.TrueForAll(i => i.First == i.Last) ? intervals.ConvertAll(i => IPAddressBits.FromUInt128(i.First, family)) : null;
        });
        var groupsByRuleSet = usedRuleSets.ToDictionary(id => id, id => namedPorts.Of(policySet.RuleSets[id]));

        var usedPeerSets = new SortedSet<int>();
        foreach (var id in usedRuleSets)
        {
            var grouped = groupsByRuleSet[id].SelectMany(g => g.Rules).ToHashSet();
            foreach (var rule in policySet.RuleSets[id].Rules)
            {
                if (rule.Action == PolicyAction.Allow && !grouped.Contains(rule) && policySet.PeerSets[rule.PeerSet] is { IsAny: false, IsEmpty: false })
                {
                    usedPeerSets.Add(rule.PeerSet);
                }
            }
        }

        var ipset = new StringBuilder();
        var setNames = new Dictionary<(int PeerSet, AddressFamily Family), string>();
        foreach (var family in families)
        {
            var partition = partitions[family];
            foreach (var id in usedPeerSets)
            {
                var positions = indexes[family].Matching(policySet.PeerSets[id]);
                if (positions.Count == 0)
                {
                    continue;
                }

                // Pod IPs (single addresses, each its own interval) go into a hash:ip set one by one; anything wider
                // makes the set a hash:net of the merged ranges.
                var bits = family == AddressFamily.InterNetwork ? 32 : 128;
                var hosts = positions.TrueForAll(i => partition[i].First == partition[i].Last);
                var cidrs = hosts
                    ? positions.ConvertAll(i => new IPNetwork(IPAddressBits.FromUInt128(partition[i].First, family), bits))
                    : IptablesAddressRanges.Select(partition, family, positions);
                var name = SetName(id, family, hosts);
                setNames[(id, family)] = name;
                WriteSet(ipset, name, family, hosts ? "hash:ip" : "hash:net", cidrs.Select(c => MemberText(c, hosts)).SelectMany(m => m));
            }

            foreach (var group in namedPorts.Used.Values)
            {
                var members = group.Members(family);
                if (members.Count > 0)
                {
                    WriteSet(ipset, NamedPortSetName(group, family), family, "hash:ip,port", members.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Address},{ProtocolName(m.Protocol)}:{m.Port}")));
                }
            }

            if (node.FailsClosed(family))
            {
                WriteSet(ipset, EndpointSetName(family), family, "hash:ip", node.ProgrammedAddresses(policySet, family).Select(a => a.ToString()));
            }
        }

        return new IptablesRuleset(
            ipset.ToString(),
            RenderRules(policySet, usedRuleSets, setNames, groupsByRuleSet, node, AddressFamily.InterNetwork, options.ConntrackMode),
            RenderRules(policySet, usedRuleSets, setNames, groupsByRuleSet, node, AddressFamily.InterNetworkV6, options.ConntrackMode));
    }

    internal static string SetName(int peerSet, AddressFamily family, bool hosts) =>
        string.Create(CultureInfo.InvariantCulture, $"NP-PS{peerSet}-{(family == AddressFamily.InterNetwork ? "v4" : "v6")}-{(hosts ? "ip" : "net")}");

    internal static string NamedPortSetName(NamedPortGroup group, AddressFamily family) =>
        "NP-NP" + group.Hash + (family == AddressFamily.InterNetwork ? "-v4" : "-v6") + "-ipport";

    internal static string EndpointSetName(AddressFamily family) => family == AddressFamily.InterNetwork ? "NP-EP-v4-ip" : "NP-EP-v6-ip";

    internal static string ChainName(RuleSet ruleSet) =>
        string.Create(CultureInfo.InvariantCulture, $"NP-{(ruleSet.Direction == PolicyDirection.Ingress ? "IN" : "EG")}-{ruleSet.Id}");

    /// <summary>A short content hash (FNV-1a, 32 bits) of a rule, stamped into its comment.</summary>
    internal static string Hash(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string> MemberText(IPNetwork cidr, bool hosts)
    {
        var v4 = cidr.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
        if (cidr.PrefixLength == 0)
        {
            // hash:net cannot hold a /0: the whole space is its two halves.
            yield return v4 ? "0.0.0.0/1" : "::/1";
            yield return v4 ? "128.0.0.0/1" : "8000::/1";
        }
        else
        {
            yield return hosts ? cidr.BaseAddress.ToString() : cidr.ToString();
        }
    }

    private static void WriteSet(StringBuilder text, string name, AddressFamily family, string type, IEnumerable<string> members)
    {
        var temporary = name + "-tmp";
        var create = string.Create(
            CultureInfo.InvariantCulture,
            $"{type} family {(family == AddressFamily.InterNetwork ? "inet" : "inet6")} hashsize 1024 maxelem {MaxElements}");
        text.Append("create ").Append(name).Append(' ').Append(create).Append(" -exist\n");
        text.Append("create ").Append(temporary).Append(' ').Append(create).Append(" -exist\n");
        text.Append("flush ").Append(temporary).Append('\n');
        foreach (var member in members)
        {
            text.Append("add ").Append(temporary).Append(' ').Append(member).Append('\n');
        }

        text.Append("swap ").Append(temporary).Append(' ').Append(name).Append('\n');
        text.Append("destroy ").Append(temporary).Append('\n');
    }

    private static string ProtocolName(TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => "tcp",
        TransportProtocol.Udp => "udp",
        TransportProtocol.Sctp => "sctp",
        _ => throw new InvalidOperationException($"protocol {protocol} has no iptables match"),
    };

    private static string RenderRules(
        CompiledPolicySet policySet,
        SortedSet<int> usedRuleSets,
        Dictionary<(int, AddressFamily), string> setNames,
        Dictionary<int, List<NamedPortGroup>> groupsByRuleSet,
        NodeAddressing node,
        AddressFamily family,
        IptablesConntrackMode mode)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var chains = usedRuleSets.Select(id => policySet.RuleSets[id]).OrderBy(r => r.Direction == PolicyDirection.Ingress ? 1 : 0).ThenBy(r => r.Id).ToList();
        var text = new StringBuilder();
        text.Append("*filter\n");
        text.Append(':').Append(IptablesRuleset.ForwardChain).Append(" - [0:0]\n");
        text.Append(':').Append(IptablesRuleset.OutputChain).Append(" - [0:0]\n");
        text.Append(':').Append(IptablesRuleset.ToPodChain).Append(" - [0:0]\n");
        var egressShards = Shards(policySet, family, PolicyDirection.Egress);
        var ingressShards = Shards(policySet, family, PolicyDirection.Ingress);
        foreach (var chain in egressShards.Chains.Keys.Concat(ingressShards.Chains.Keys))
        {
            text.Append(':').Append(chain).Append(" - [0:0]\n");
        }

        foreach (var ruleSet in chains)
        {
            text.Append(':').Append(ChainName(ruleSet)).Append(" - [0:0]\n");
        }

        void Rule(string chain, string match, string target)
        {
            var body = match.Length == 0 ? $"-A {chain}" : $"-A {chain} {match}";
            text.Append(body).Append(" -m comment --comment np:").Append(Hash(body + " -j " + target)).Append(" -j ").Append(target).Append('\n');
        }

        var established = mode == IptablesConntrackMode.Strict ? "-m conntrack --ctstate RELATED,ESTABLISHED --ctdir REPLY" : "-m conntrack --ctstate RELATED,ESTABLISHED";
        var failsClosed = node.FailsClosed(family);
        var podCidrs = node.PodCidrsOf(family);
        var endpointSet = EndpointSetName(family);

        // NP-FORWARD: packets routed through the node. Established flows, then the sender: an unprogrammed pod address
        // is dropped (fail closed), an egress-isolated pod goes through its egress chain; then the receiver (NP-TO-POD).
        Rule(IptablesRuleset.ForwardChain, established, "ACCEPT");
        if (failsClosed)
        {
            foreach (var cidr in podCidrs)
            {
                Rule(IptablesRuleset.ForwardChain, $"-s {cidr} -m set ! --match-set {endpointSet} src", "DROP");
            }
        }

        foreach (var (prefix, chain) in egressShards.Prefixes)
        {
            Rule(IptablesRuleset.ForwardChain, $"-s {prefix}", chain);
        }

        Rule(IptablesRuleset.ForwardChain, string.Empty, IptablesRuleset.ToPodChain);

        // NP-OUTPUT: packets the node itself sends (kubelet probes); only the receiving pod's ingress policy applies.
        Rule(IptablesRuleset.OutputChain, established, "ACCEPT");
        if (family == AddressFamily.InterNetworkV6)
        {
            foreach (var type in new[] { "router-solicitation", "router-advertisement", "neighbour-solicitation", "neighbour-advertisement", "redirect" })
            {
                Rule(IptablesRuleset.OutputChain, "-p ipv6-icmp -m icmp6 --icmpv6-type " + type, "RETURN");
            }
        }

        Rule(IptablesRuleset.OutputChain, string.Empty, IptablesRuleset.ToPodChain);

        // NP-TO-POD: the receiving side. An unprogrammed pod address is dropped (fail closed); the node's own addresses
        // skip the ingress policy; an ingress-isolated pod goes through its ingress chain.
        if (failsClosed)
        {
            foreach (var cidr in podCidrs)
            {
                Rule(IptablesRuleset.ToPodChain, $"-d {cidr} -m set ! --match-set {endpointSet} dst", "DROP");
            }
        }

        foreach (var host in node.HostAddressesOf(family))
        {
            Rule(IptablesRuleset.ToPodChain, string.Create(CultureInfo.InvariantCulture, $"-s {host}/{bits}"), "RETURN");
        }

        foreach (var (prefix, chain) in ingressShards.Prefixes)
        {
            Rule(IptablesRuleset.ToPodChain, $"-d {prefix}", chain);
        }

        // The dispatch shards: one chain per /24 (IPv6: /120) of pod addresses, so a pod that changes rule set rewrites
        // one short chain, and a packet passes a few hundred prefix matches instead of one rule per pod.
        foreach (var (shards, match) in new[] { (egressShards, "-s"), (ingressShards, "-d") })
        {
            foreach (var (chain, entries) in shards.Chains)
            {
                foreach (var (address, target) in entries)
                {
                    Rule(chain, string.Create(CultureInfo.InvariantCulture, $"{match} {address}/{bits}"), target);
                }
            }
        }

        foreach (var ruleSet in chains)
        {
            var chain = ChainName(ruleSet);
            var remote = ruleSet.Direction == PolicyDirection.Ingress ? "src" : "dst";
            var groups = groupsByRuleSet[ruleSet.Id];
            var grouped = groups.SelectMany(g => g.Rules).ToHashSet();
            var byPeerSet = ruleSet.Rules.Where(r => r.Action == PolicyAction.Allow && !grouped.Contains(r)).GroupBy(r => r.PeerSet).OrderBy(g => g.Key);
            foreach (var group in byPeerSet)
            {
                var peers = policySet.PeerSets[group.Key];
                string peerMatch;
                if (peers.IsAny)
                {
                    peerMatch = string.Empty;
                }
                else if (setNames.TryGetValue((group.Key, family), out var set))
                {
                    peerMatch = $"-m set --match-set {set} {remote}";
                }
                else
                {
                    continue;
                }

                foreach (var portMatch in PortMatches(group.Select(r => r.Port)))
                {
                    Rule(chain, string.Join(' ', new[] { peerMatch, portMatch }.Where(s => s.Length > 0)), "RETURN");
                }
            }

            // Egress named ports resolved per destination pod: one hash:ip,port set matches address, protocol and port.
            foreach (var group in groups.OrderBy(g => g.Hash, StringComparer.Ordinal))
            {
                if (group.Members(family).Count > 0)
                {
                    Rule(chain, $"-m set --match-set {NamedPortSetName(group, family)} dst,dst", "RETURN");
                }
            }

            Rule(chain, string.Empty, "DROP");
        }

        text.Append("COMMIT\n");
        return text.ToString();
    }

    /// <summary>The prefix length of one dispatch shard chain: a /24 of IPv4 pod addresses, a /120 of IPv6 ones.</summary>
    internal static int ShardPrefixLength(AddressFamily family) => family == AddressFamily.InterNetwork ? 24 : 120;

    /// <summary>Groups the isolated pod addresses of one direction by shard prefix: the prefixes in ascending order with
    /// their chain (<c>NP-FE-&lt;hash&gt;</c> for egress, <c>NP-TP-&lt;hash&gt;</c> for ingress; the hash is of the prefix,
    /// so a chain keeps its name across renders), and every chain's (address, rule-set chain) entries in endpoint order.</summary>
    private static (List<(IPNetwork Prefix, string Chain)> Prefixes, SortedDictionary<string, List<(IPAddress Address, string Target)>> Chains) Shards(
        CompiledPolicySet policySet, AddressFamily family, PolicyDirection direction)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var length = ShardPrefixLength(family);
        var prefixes = new SortedDictionary<UInt128, (IPNetwork Prefix, string Chain)>();
        var chains = new SortedDictionary<string, List<(IPAddress, string)>>(StringComparer.Ordinal);
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            if (endpoint.RuleSetFor(direction) is not int id)
            {
                continue;
            }

            foreach (var address in endpoint.Addresses.Where(a => a.AddressFamily == family))
            {
                var value = IPAddressBits.Mask(IPAddressBits.ToUInt128(address), length, bits);
                if (!prefixes.TryGetValue(value, out var shard))
                {
                    var prefix = new IPNetwork(IPAddressBits.FromUInt128(value, family), length);
                    shard = (prefix, (direction == PolicyDirection.Egress ? "NP-FE-" : "NP-TP-") + Hash(prefix.ToString()));
                    prefixes[value] = shard;
                }

                if (!chains.TryGetValue(shard.Chain, out var entries))
                {
                    chains[shard.Chain] = entries = [];
                }

                entries.Add((address, ChainName(policySet.RuleSets[id])));
            }
        }

        return ([.. prefixes.Values], chains);
    }

    /// <summary>The protocol and port matches of a peer's rules: one empty match when a rule allows every protocol,
    /// otherwise per protocol <c>-p P</c> (all ports), <c>--dport</c> or <c>-m multiport --dports</c> of at most 15 slots.</summary>
    internal static List<string> PortMatches(IEnumerable<PortMatch?> ports)
    {
        var list = ports.ToList();
        if (list.Any(p => p is null))
        {
            return [string.Empty];
        }

        var result = new List<string>();
        foreach (var protocolGroup in list.Select(p => p!.Value).GroupBy(p => p.Protocol).OrderBy(g => g.Key))
        {
            var protocol = protocolGroup.Key switch
            {
                TransportProtocol.Tcp => "tcp",
                TransportProtocol.Udp => "udp",
                TransportProtocol.Sctp => "sctp",
                _ => throw new InvalidOperationException($"protocol {protocolGroup.Key} has no iptables match"),
            };
            if (protocolGroup.Any(p => p.IsAnyPort))
            {
                result.Add($"-p {protocol}");
                continue;
            }

            var merged = new List<(int First, int Last)>();
            foreach (var (first, last) in protocolGroup.Select(p => (p.First, p.Last)).Order())
            {
                if (merged.Count > 0 && first <= merged[^1].Last + 1)
                {
                    merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, last));
                }
                else
                {
                    merged.Add((first, last));
                }
            }

            static string Port((int First, int Last) range) =>
                range.First == range.Last ? range.First.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{range.First}:{range.Last}");

            var chunk = new List<(int, int)>();
            var slots = 0;
            void Flush()
            {
                result.Add(chunk.Count == 1
                    ? $"-p {protocol} -m {protocol} --dport {Port(chunk[0])}"
                    : $"-p {protocol} -m multiport --dports {string.Join(',', chunk.Select(Port))}");
                chunk.Clear();
                slots = 0;
            }

            foreach (var range in merged)
            {
                var cost = range.First == range.Last ? 1 : 2;
                if (slots + cost > IptablesRuleset.MaxMultiportSlots)
                {
                    Flush();
                }

                chunk.Add(range);
                slots += cost;
            }

            Flush();
        }

        return result;
    }
}
