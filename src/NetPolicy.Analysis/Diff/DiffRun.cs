using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis.Diff;

/// <summary>One comparison of two compiled policy sets.</summary>
internal sealed class DiffRun(ClusterSnapshot before, CompiledPolicySet beforeIr, ClusterSnapshot after, CompiledPolicySet afterIr, ConnectionDiffOptions options)
{
    private const int MaxCidrsInName = 3;
    private static readonly TransportProtocol[] s_protocols = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp];
    private readonly List<ConnectionChange> _changes = [];

    public ConnectionDiff Run()
    {
        var common = before.Pods.Keys.Where(after.Pods.ContainsKey).ToList();
        var added = after.Pods.Keys.Where(k => !before.Pods.ContainsKey(k)).ToImmutableArray();
        var removed = before.Pods.Keys.Where(k => !after.Pods.ContainsKey(k)).ToImmutableArray();
        var ports = PortClasses();

        foreach (var src in common)
        {
            var source = ConnectionEndpoint.ForPod(src);
            foreach (var dst in common)
            {
                if (src == dst)
                {
                    continue; // A pod's traffic to itself is not policed.
                }

                var destination = ConnectionEndpoint.ForPod(dst);
                var b = PodPair(before, beforeIr, src, dst);
                var a = PodPair(after, afterIr, src, dst);
                foreach (var port in ports)
                {
                    Compare(source, destination, port, b(port), a(port));
                }
            }
        }

        var ranges = options.IncludeExternal ? Ranges() : [];
        foreach (var range in ranges)
        {
            var family = range.RepresentativeAddress!.AddressFamily;
            foreach (var key in common)
            {
                var pod = ConnectionEndpoint.ForPod(key);
                foreach (var port in ports)
                {
                    Compare(pod, range, port, Egress(before, beforeIr, key, range, family, port), Egress(after, afterIr, key, range, family, port));
                    Compare(range, pod, port, Ingress(before, beforeIr, key, range, family, port), Ingress(after, afterIr, key, range, family, port));
                }
            }
        }

        _changes.Sort(CompareChanges);
        return new ConnectionDiff([.. _changes], added, removed, [.. ports], [.. ranges]);
    }

    private void Compare(ConnectionEndpoint source, ConnectionEndpoint destination, PortClass port, ConnectionVerdict b, ConnectionVerdict a)
    {
        ConnectionChangeKind kind;
        if (!b.Allowed && a.Allowed)
        {
            kind = ConnectionChangeKind.Opened;
        }
        else if (b.Allowed && !a.Allowed)
        {
            kind = ConnectionChangeKind.Closed;
        }
        else if (b.Allowed && a.Allowed && !b.SameRules(a))
        {
            kind = ConnectionChangeKind.Changed;
        }
        else
        {
            return;
        }

        _changes.Add(new ConnectionChange { Kind = kind, Source = source, Destination = destination, Ports = port, Before = b, After = a });
    }

    /// <summary>The verdicts of one side for a pod pair, per port class.</summary>
    private static Func<PortClass, ConnectionVerdict> PodPair(ClusterSnapshot snapshot, CompiledPolicySet ir, string src, string dst)
    {
        var srcPod = snapshot.Pods[src];
        var dstPod = snapshot.Pods[dst];
        AddressFamily? family = null;
        foreach (var f in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if (srcPod.AddressOf(f) is not null && dstPod.AddressOf(f) is not null)
            {
                family = f;
                break;
            }
        }

        if (family is not { } chosen)
        {
            var none = new ConnectionVerdict { Allowed = false, NoCommonFamily = true };
            return _ => none;
        }

        var srcEndpoint = ir.Endpoints[src];
        var dstEndpoint = ir.Endpoints[dst];
        var srcAddress = srcPod.AddressOf(chosen)!;
        var dstAddress = dstPod.AddressOf(chosen)!;
        return port => Decide(ir, srcEndpoint, srcAddress, dstEndpoint, dstAddress, port);
    }

    private static ConnectionVerdict Egress(ClusterSnapshot snapshot, CompiledPolicySet ir, string pod, ConnectionEndpoint range, AddressFamily family, PortClass port) =>
        snapshot.Pods[pod].AddressOf(family) is { } address
            ? Decide(ir, ir.Endpoints[pod], address, null, range.RepresentativeAddress!, port)
            : new ConnectionVerdict { Allowed = false, NoCommonFamily = true };

    private static ConnectionVerdict Ingress(ClusterSnapshot snapshot, CompiledPolicySet ir, string pod, ConnectionEndpoint range, AddressFamily family, PortClass port) =>
        snapshot.Pods[pod].AddressOf(family) is { } address
            ? Decide(ir, null, range.RepresentativeAddress!, ir.Endpoints[pod], address, port)
            : new ConnectionVerdict { Allowed = false, NoCommonFamily = true };

    /// <summary>Decides a flow from the IR as <see cref="CompiledPolicySet.Decide"/> does, keeping the rules that allow it.</summary>
    private static ConnectionVerdict Decide(CompiledPolicySet ir, EndpointPolicy? src, IPAddress srcAddress, EndpointPolicy? dst, IPAddress dstAddress, PortClass port)
    {
        CompiledRule? egress = null;
        CompiledRule? ingress = null;
        var egressAllowed = true;
        var ingressAllowed = true;
        if (src?.EgressRuleSet is int e)
        {
            var entry = ir.Lookup(dstAddress);
            egress = ir.RuleSets[e].Match(ir.PeerSets, entry.Identity, entry.AddressClass, port.Protocol, port.RepresentativePort);
            egressAllowed = egress is not null;
        }

        if (dst?.IngressRuleSet is int i)
        {
            var entry = ir.Lookup(srcAddress);
            ingress = ir.RuleSets[i].Match(ir.PeerSets, entry.Identity, entry.AddressClass, port.Protocol, port.RepresentativePort);
            ingressAllowed = ingress is not null;
        }

        return new ConnectionVerdict
        {
            Allowed = egressAllowed && ingressAllowed,
            EgressPoliced = src is not null,
            IngressPoliced = dst is not null,
            EgressAllowed = egressAllowed,
            IngressAllowed = ingressAllowed,
            EgressPolicies = src?.EgressPolicies ?? [],
            IngressPolicies = dst?.IngressPolicies ?? [],
            EgressRule = egress?.Source,
            IngressRule = ingress?.Source,
        };
    }

    /// <summary>Splits each protocol's ports at every boundary of a port match of either set; ports no match names form one class.</summary>
    private List<PortClass> PortClasses()
    {
        var result = new List<PortClass>();
        var matches = new[] { beforeIr, afterIr }
            .SelectMany(ir => ir.RuleSets.Values.SelectMany(r => r.Rules))
            .Select(r => r.Port)
            .OfType<PortMatch>()
            .Where(p => !p.IsAnyPort)
            .Distinct()
            .ToList();
        foreach (var protocol in s_protocols)
        {
            var own = matches.Where(m => m.Protocol == protocol).ToList();
            var bounds = new SortedSet<int> { 1, 65536 };
            foreach (var m in own)
            {
                bounds.Add(Math.Max(1, m.First));
                bounds.Add(Math.Min(65535, m.Last) + 1);
            }

            var edges = bounds.ToList();
            var otherFirst = -1;
            var otherLast = -1;
            for (var k = 0; k + 1 < edges.Count; k++)
            {
                var first = edges[k];
                var last = edges[k + 1] - 1;
                if (own.Any(m => m.First <= first && last <= m.Last))
                {
                    result.Add(new PortClass(protocol, first, last, IsOther: false));
                }
                else
                {
                    otherFirst = otherFirst < 0 ? first : otherFirst;
                    otherLast = last;
                }
            }

            if (otherFirst > 0)
            {
                result.Add(new PortClass(protocol, otherFirst, otherLast, IsOther: true) { IsAllPorts = own.Count == 0 });
            }
        }

        return result;
    }

    /// <summary>The cells of the address space partitioned by every ipBlock of both sets, per family in use.</summary>
    private List<ConnectionEndpoint> Ranges()
    {
        var blocks = new[] { before, after }
            .SelectMany(s => s.Policies.Values)
            .SelectMany(p => p.Ingress.Concat(p.Egress))
            .SelectMany(r => r.Peers)
            .Select(p => p.IPBlock)
            .OfType<IPBlock>()
            .Distinct()
            .OrderBy(b => b.Key, StringComparer.Ordinal)
            .ToList();
        var pods = new[] { before, after }.SelectMany(s => s.Pods.Values).ToList();
        var families = pods.SelectMany(p => p.Addresses).Select(a => a.AddressFamily)
            .Concat(blocks.Select(b => b.Cidr.BaseAddress.AddressFamily))
            .Distinct()
            .OrderBy(f => f == AddressFamily.InterNetwork ? 0 : 1)
            .ToList();
        var result = new List<ConnectionEndpoint>();
        foreach (var family in families)
        {
            var own = blocks.Where(b => b.Cidr.BaseAddress.AddressFamily == family).ToList();
            var podAddresses = pods.SelectMany(p => p.Addresses).Where(a => a.AddressFamily == family).Select(AddressMath.ToNumber).ToHashSet();
            var max = AddressMath.Max(family);
            var starts = new SortedSet<UInt128> { 0 };
            foreach (var network in own.SelectMany(b => b.Except.Prepend(b.Cidr)))
            {
                var (start, last) = AddressMath.Range(network);
                starts.Add(start);
                if (last < max)
                {
                    starts.Add(last + 1);
                }
            }

            var edges = starts.ToList();
            var cells = new Dictionary<string, List<(UInt128 Start, UInt128 Last)>>(StringComparer.Ordinal);
            var order = new List<string>();
            for (var k = 0; k < edges.Count; k++)
            {
                var first = AddressMath.FromNumber(edges[k], family);
                var key = string.Join(",", own.Select((b, i) => b.Contains(first) ? i : -1).Where(i => i >= 0));
                if (!cells.TryGetValue(key, out var intervals))
                {
                    intervals = [];
                    cells[key] = intervals;
                    order.Add(key);
                }

                intervals.Add((edges[k], k + 1 < edges.Count ? edges[k + 1] - 1 : max));
            }

            foreach (var key in order)
            {
                var intervals = cells[key];
                UInt128? representative = null;
                foreach (var (start, last) in intervals)
                {
                    var x = start;
                    while (x < last && podAddresses.Contains(x))
                    {
                        x++;
                    }

                    if (!podAddresses.Contains(x))
                    {
                        representative = x;
                        break;
                    }
                }

                if (representative is not { } rep)
                {
                    continue; // Only pod IPs: covered by pod-to-pod connections.
                }

                var cidrs = intervals.SelectMany(i => AddressMath.ToCidrs(i.Start, i.Last, family)).ToList();
                var members = key.Length == 0 ? [] : key.Split(',').Select(i => own[int.Parse(i, System.Globalization.CultureInfo.InvariantCulture)].Key).ToList();
                string name;
                if (cidrs.Count <= MaxCidrsInName)
                {
                    name = string.Join(", ", cidrs);
                }
                else if (members.Count == 0)
                {
                    name = family == AddressFamily.InterNetwork ? "IPv4 addresses outside every ipBlock" : "IPv6 addresses outside every ipBlock";
                }
                else
                {
                    name = "addresses in " + string.Join(" and ", members) + (members.Count < own.Count ? " only" : string.Empty);
                }

                result.Add(ConnectionEndpoint.ForRange(cidrs, AddressMath.FromNumber(rep, family), name));
            }
        }

        return result;
    }

    private static int CompareChanges(ConnectionChange x, ConnectionChange y)
    {
        var c = x.Kind.CompareTo(y.Kind);
        if (c == 0) { c = CompareEndpoints(x.Source, y.Source); }
        if (c == 0) { c = CompareEndpoints(x.Destination, y.Destination); }
        if (c == 0) { c = ProtocolOrder(x.Ports.Protocol).CompareTo(ProtocolOrder(y.Ports.Protocol)); }
        if (c == 0) { c = x.Ports.IsOther.CompareTo(y.Ports.IsOther); }
        if (c == 0) { c = x.Ports.First.CompareTo(y.Ports.First); }
        return c;
    }

    private static int ProtocolOrder(TransportProtocol protocol) => Array.IndexOf(s_protocols, protocol);

    private static int CompareEndpoints(ConnectionEndpoint x, ConnectionEndpoint y)
    {
        if (x.Pod is not null || y.Pod is not null)
        {
            return x.Pod is null ? 1 : y.Pod is null ? -1 : ObjectKeyComparer.Instance.Compare(x.Pod, y.Pod);
        }

        var fx = x.RepresentativeAddress!.AddressFamily == AddressFamily.InterNetwork ? 0 : 1;
        var fy = y.RepresentativeAddress!.AddressFamily == AddressFamily.InterNetwork ? 0 : 1;
        return fx != fy ? fx.CompareTo(fy) : AddressMath.ToNumber(x.RepresentativeAddress).CompareTo(AddressMath.ToNumber(y.RepresentativeAddress));
    }
}
