using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Netfilter;

/// <summary>One egress named port resolved to more than one port (a port per destination pod): its (address, protocol,
/// port) members per family, rendered as one <c>hash:ip,port</c> ipset or one concatenated nftables set instead of a
/// rule per port.</summary>
/// <param name="Key">The stable key of the policy part (policy, rule, peer and port index), from which the set name is made.</param>
/// <param name="Hash">The 8-hex-digit name of the set, unique within the render.</param>
/// <param name="Rules">The compiled rules the group replaces.</param>
/// <param name="IPv4">The IPv4 members, sorted.</param>
/// <param name="IPv6">The IPv6 members, sorted.</param>
internal sealed record NamedPortGroup(string Key, string Hash, IReadOnlyList<CompiledRule> Rules, IReadOnlyList<(IPAddress Address, TransportProtocol Protocol, int Port)> IPv4, IReadOnlyList<(IPAddress Address, TransportProtocol Protocol, int Port)> IPv6)
{
    public IReadOnlyList<(IPAddress Address, TransportProtocol Protocol, int Port)> Members(AddressFamily family) => family == AddressFamily.InterNetwork ? IPv4 : IPv6;
}

/// <summary>Finds the named-port groups of the egress rule sets of a render.</summary>
/// <remarks>The rules one egress policy part (one <see cref="RuleReference"/>) compiles to are a named port when they
/// carry single ports of one protocol and there are at least two distinct ports: the compiler resolved the name against
/// each destination pod, one peer set per port (or per pod). When every member of those peer sets is a single address,
/// the group becomes one set of (address, protocol, port); otherwise the rules are rendered one by one as before.</remarks>
internal sealed class NamedPortGroups
{
    private readonly Dictionary<RuleReference, NamedPortGroup?> _bySource = [];
    private readonly Dictionary<string, string> _keyByHash = new(StringComparer.Ordinal);
    private readonly CompiledPolicySet _policySet;
    private readonly Func<PeerSet, AddressFamily, List<IPAddress>?> _hosts;

    /// <param name="policySet">The compile.</param>
    /// <param name="hosts">The single addresses of a peer set in a family, or <see langword="null"/> when it holds wider ranges.</param>
    public NamedPortGroups(CompiledPolicySet policySet, Func<PeerSet, AddressFamily, List<IPAddress>?> hosts)
    {
        _policySet = policySet;
        _hosts = hosts;
    }

    /// <summary>Gets the groups used so far, by set name hash.</summary>
    public SortedDictionary<string, NamedPortGroup> Used { get; } = new(StringComparer.Ordinal);

    /// <summary>Returns the groups of a rule set (none for ingress), in source order.</summary>
    public List<NamedPortGroup> Of(RuleSet ruleSet)
    {
        var result = new List<NamedPortGroup>();
        if (ruleSet.Direction != PolicyDirection.Egress)
        {
            return result;
        }

        foreach (var group in ruleSet.Rules.Where(r => r.Action == PolicyAction.Allow).GroupBy(r => r.Source))
        {
            if (!_bySource.TryGetValue(group.Key, out var found))
            {
                found = Build(group.Key, [.. group]);
                _bySource[group.Key] = found;
            }

            if (found is not null)
            {
                Used[found.Hash] = found;
                result.Add(found);
            }
        }

        return result;
    }

    private NamedPortGroup? Build(RuleReference source, List<CompiledRule> rules)
    {
        if (rules.Count < 2 || rules.Exists(r => r.Port is not PortMatch p || p.First != p.Last || p.IsAnyPort || p.Protocol != rules[0].Port!.Value.Protocol) ||
            rules.Select(r => r.Port!.Value.First).Distinct().Count() < 2)
        {
            return null;
        }

        var members = new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 }.Select(_ => new SortedSet<(UInt128, IPAddress, TransportProtocol, int)>(Comparer<(UInt128 Value, IPAddress Address, TransportProtocol Protocol, int Port)>.Create((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Port.CompareTo(b.Port)))).ToArray();
        foreach (var rule in rules)
        {
            var peers = _policySet.PeerSets[rule.PeerSet];
            if (peers.IsAny)
            {
                return null;
            }

            for (var f = 0; f < 2; f++)
            {
                var hosts = _hosts(peers, f == 0 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6);
                if (hosts is null)
                {
                    return null;
                }

                foreach (var address in hosts)
                {
                    members[f].Add((IPAddressBits.ToUInt128(address), address, rule.Port!.Value.Protocol, rule.Port.Value.First));
                }
            }
        }

        var key = string.Create(CultureInfo.InvariantCulture, $"{source.Policy}|{source.Direction}|{source.RuleIndex}|{source.PeerIndex}|{source.PortIndex}");
        var hash = Hash(key);
        for (var n = 1; _keyByHash.TryGetValue(hash, out var owner) && owner != key; n++)
        {
            hash = Hash(key + "#" + n.ToString(CultureInfo.InvariantCulture));
        }

        _keyByHash[hash] = key;
        return new NamedPortGroup(key, hash, rules, [.. members[0].Select(m => (m.Item2, m.Item3, m.Item4))], [.. members[1].Select(m => (m.Item2, m.Item3, m.Item4))]);
    }

    /// <summary>FNV-1a, 32 bits, as 8 hex digits.</summary>
    internal static string Hash(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }
}
