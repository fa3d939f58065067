using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Compilation;

internal sealed partial class CompilationRun
{
    private Dictionary<int, uint[]> _classesByGroup = [];
    private ImmutableArray<AddressClass> _addressClasses = [];
    private uint _nextAddressClass;
    private ImmutableSortedDictionary<IPNetwork, IPCacheEntry> _ipCache = ImmutableSortedDictionary.Create<IPNetwork, IPCacheEntry>(IPNetworkComparer.Instance);

    // Classes of the prefixes that are not pod host prefixes, for looking up the class of a new pod IP.
    private readonly Dictionary<int, Dictionary<UInt128, uint>>[] _boundaryClasses = [[], []];
    private readonly HashSet<IPNetwork> _boundaryPrefixes = [];

    /// <summary>
    /// Partitions the address space by address-group membership. Every ipBlock CIDR, every except, every pod IP and the
    /// two default routes are prefixes of a tree; the addresses whose longest matching prefix is P all belong to the same
    /// groups: those of P's parent, plus groups whose CIDR is P, minus groups that except P, plus pod groups of P
    /// when P is a pod's host prefix. Each distinct membership is an address class; each prefix an ipcache entry.
    /// </summary>
    private void BuildAddressClasses()
    {
        var nodes = new Dictionary<IPNetwork, PrefixNode>();
        PrefixNode Node(IPNetwork prefix)
        {
            if (!nodes.TryGetValue(prefix, out var node))
            {
                node = new PrefixNode(prefix);
                nodes[prefix] = node;
            }

            return node;
        }

        Node(new IPNetwork(IPAddress.Any, 0));
        Node(new IPNetwork(IPAddress.IPv6Any, 0));
        for (var g = 0; g < _groupKeys.Count; g++)
        {
            if (_groupBlocks[g] is { } block)
            {
                Node(block.Cidr).Adds.Add(g);
                foreach (var except in block.Except)
                {
                    Node(except).Removes.Add(g);
                }
            }
            else if (_groupPods[g] is { } pod)
            {
                foreach (var address in pod.Addresses)
                {
                    Node(HostPrefix(address)).PodGroups.Add(g);
                }
            }
        }

        foreach (var info in _identities.Values)
        {
            foreach (var pod in info.Pods)
            {
                foreach (var address in pod.Addresses)
                {
                    Node(HostPrefix(address)).Identity = info.Id;
                }
            }
        }

        var ordered = nodes.Values.ToList();
        ordered.Sort(static (a, b) => IPNetworkComparer.Instance.Compare(a.Prefix, b.Prefix));

        var previousClasses = new Dictionary<string, uint>(StringComparer.Ordinal);
        if (_previous is not null)
        {
            foreach (var c in _previous.AddressClasses)
            {
                previousClasses[c.Key] = c.Id;
            }
        }

        var signatures = new Dictionary<string, Signature>(StringComparer.Ordinal);
        var classes = new Dictionary<string, AddressClass>(StringComparer.Ordinal);
        Signature Intern(SortedSet<int> groups)
        {
            var key = string.Join(',', groups);
            if (!signatures.TryGetValue(key, out var signature))
            {
                signature = new Signature([.. groups]);
                signatures[key] = signature;
            }

            return signature;
        }

        uint ClassOf(Signature signature)
        {
            if (signature.ClassId is uint id)
            {
                return id;
            }

            var groupKeys = signature.Groups.Select(g => _groupKeys[g]).ToList();
            var probe = new AddressClass(0, groupKeys);
            if (!classes.TryGetValue(probe.Key, out var addressClass))
            {
                var classId = previousClasses.TryGetValue(probe.Key, out var old) ? old : _nextAddressClass++;
                addressClass = new AddressClass(classId, groupKeys);
                classes[probe.Key] = addressClass;
            }

            signature.ClassId = addressClass.Id;
            return addressClass.Id;
        }

        var empty = Intern([]);
        var stack = new Stack<(IPNetwork Prefix, Signature Inherited)>();
        var ipCache = ImmutableSortedDictionary.CreateBuilder<IPNetwork, IPCacheEntry>(IPNetworkComparer.Instance);
        foreach (var node in ordered)
        {
            while (stack.Count > 0 && !Contains(stack.Peek().Prefix, node.Prefix))
            {
                stack.Pop();
            }

            var inherited = stack.Count > 0 ? stack.Peek().Inherited : empty;
            if (node.Adds.Count > 0 || node.Removes.Count > 0)
            {
                var set = new SortedSet<int>(inherited.Groups);
                set.UnionWith(node.Adds);
                set.ExceptWith(node.Removes);
                inherited = Intern(set);
            }

            var own = inherited;
            if (node.PodGroups.Count > 0)
            {
                var set = new SortedSet<int>(inherited.Groups);
                set.UnionWith(node.PodGroups);
                own = Intern(set);
            }

            stack.Push((node.Prefix, inherited));
            var classId = ClassOf(own);
            ipCache.Add(node.Prefix, new IPCacheEntry(node.Prefix, node.Identity ?? ReservedIdentities.World, classId));
            if (node.Adds.Count > 0 || node.Removes.Count > 0 || node.PodGroups.Count > 0 || node.Prefix.PrefixLength == 0)
            {
                // A boundary of the partition: every address below it (and below no deeper boundary) has its class.
                _boundaryPrefixes.Add(node.Prefix);
                var family = node.Prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 0 : 1;
                if (!_boundaryClasses[family].TryGetValue(node.Prefix.PrefixLength, out var byAddress))
                {
                    byAddress = [];
                    _boundaryClasses[family][node.Prefix.PrefixLength] = byAddress;
                }

                byAddress[IPAddressBits.ToUInt128(node.Prefix.BaseAddress)] = node.PodGroups.Count > 0 ? ClassOf(inherited) : classId;
            }
        }

        _ipCache = ipCache.ToImmutable();
        _addressClasses = [.. classes.Values.OrderBy(c => c.Id)];
        var byGroup = new Dictionary<int, List<uint>>();
        foreach (var signature in signatures.Values)
        {
            if (signature.ClassId is not uint classId)
            {
                continue;
            }

            foreach (var group in signature.Groups)
            {
                if (!byGroup.TryGetValue(group, out var list))
                {
                    list = [];
                    byGroup[group] = list;
                }

                list.Add(classId);
            }
        }

        _classesByGroup = byGroup.ToDictionary(p => p.Key, p => p.Value.Distinct().Order().ToArray());
    }

    /// <summary>The class of an address that is not a boundary itself: the class of its longest boundary prefix.</summary>
    private uint BoundaryClassOf(IPAddress address)
    {
        var v4 = address.AddressFamily == AddressFamily.InterNetwork;
        var bits = v4 ? 32 : 128;
        var value = IPAddressBits.ToUInt128(address);
        var table = _boundaryClasses[v4 ? 0 : 1];
        for (var length = bits; length >= 0; length--)
        {
            if (table.TryGetValue(length, out var byAddress))
            {
                if (byAddress.TryGetValue(IPAddressBits.Mask(value, length, bits), out var classId))
                {
                    return classId;
                }
            }
        }

        throw new InvalidOperationException("The default route is missing from the address partition.");
    }

    private static IPNetwork HostPrefix(IPAddress address) =>
        new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    private static bool Contains(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily &&
        outer.PrefixLength <= inner.PrefixLength &&
        outer.Contains(inner.BaseAddress);

    private sealed class PrefixNode(IPNetwork prefix)
    {
        public IPNetwork Prefix { get; } = prefix;

        public List<int> Adds { get; } = [];

        public List<int> Removes { get; } = [];

        public List<int> PodGroups { get; } = [];

        public uint? Identity { get; set; }
    }

    private sealed class Signature(int[] groups)
    {
        public int[] Groups { get; } = groups;

        public uint? ClassId { get; set; }
    }
}
