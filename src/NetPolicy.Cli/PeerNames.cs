using System.Collections.Frozen;
using System.Globalization;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Cli;

/// <summary>Turns identity and address-class numbers into short readable names for the text report.</summary>
internal sealed class PeerNames
{
    private const int MaxNames = 4;
    private const int MaxLength = 100;

    private readonly CompiledPolicySet _policySet;
    private readonly FrozenDictionary<uint, string[]> _podsByIdentity;
    private readonly FrozenDictionary<uint, AddressClass> _classes;

    /// <summary>Initializes the names of a compile.</summary>
    /// <param name="policySet">The compiled policy set.</param>
    public PeerNames(CompiledPolicySet policySet)
    {
        _policySet = policySet;
        _podsByIdentity = policySet.Endpoints.Values.GroupBy(e => e.Identity).ToFrozenDictionary(g => g.Key, g => g.Select(e => e.Pod).ToArray());
        _classes = policySet.AddressClasses.ToFrozenDictionary(c => c.Id);
    }

    /// <summary>Gets the pods that have an identity.</summary>
    /// <param name="identity">The identity.</param>
    /// <returns>The pod keys.</returns>
    public IReadOnlyList<string> PodsOf(uint identity) => _podsByIdentity.TryGetValue(identity, out var pods) ? pods : [];

    /// <summary>Names an identity: the pod when one pod has it, else the namespace and labels.</summary>
    /// <param name="id">The identity.</param>
    /// <returns>The name.</returns>
    public string Identity(uint id)
    {
        if (!_policySet.Identities.TryGet(id, out var identity))
        {
            return "identity " + id.ToString(CultureInfo.InvariantCulture);
        }

        if (identity.ReservedName is { } reserved)
        {
            return reserved;
        }

        var pods = PodsOf(id);
        return pods.Count == 1
            ? pods[0]
            : $"{identity.Namespace}[{Labels(identity)}] ({pods.Count} pods)";
    }

    /// <summary>Names an address class by its ipBlock groups.</summary>
    /// <param name="id">The class.</param>
    /// <returns>The name.</returns>
    public string AddressClass(uint id) =>
        _classes.TryGetValue(id, out var addressClass) && addressClass.Groups.Length > 0
            ? "ipBlock " + string.Join(" + ", addressClass.Groups)
            : "addresses outside every ipBlock";

    /// <summary>Names the peers of a rule, falling back to numbers when the names get long.</summary>
    /// <param name="peers">The peer set.</param>
    /// <returns>The text.</returns>
    public string PeerSet(PeerSet peers)
    {
        if (peers.IsAny)
        {
            return "any peer";
        }

        if (peers.IsEmpty)
        {
            return "no peer";
        }

        var names = peers.Identities.Select(Identity).Concat(peers.AddressClasses.Select(AddressClass)).ToList();
        var text = string.Join(", ", names.Take(MaxNames));
        if (names.Count <= MaxNames && text.Length <= MaxLength)
        {
            return text;
        }

        var parts = new List<string>(2);
        if (!peers.Identities.IsEmpty)
        {
            parts.Add($"{peers.Identities.Length} identities ({Numbers(peers.Identities)})");
        }

        if (!peers.AddressClasses.IsEmpty)
        {
            parts.Add($"{peers.AddressClasses.Length} address classes ({Numbers(peers.AddressClasses)})");
        }

        return string.Join(", ", parts);
    }

    /// <summary>Formats the pod labels of an identity, <c>k=v,k=v</c>.</summary>
    /// <param name="identity">The identity.</param>
    /// <returns>The text, empty when the pods have no labels.</returns>
    public static string Labels(SecurityIdentity identity) =>
        identity.ReservedName is { } reserved ? "reserved:" + reserved : string.Join(",", identity.PodLabels.Select(l => l.Key + "=" + l.Value));

    private static string Numbers(IReadOnlyList<uint> ids)
    {
        var shown = string.Join(",", ids.Take(8).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return ids.Count > 8 ? shown + ",…" : shown;
    }
}
