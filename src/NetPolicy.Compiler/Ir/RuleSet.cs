using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>The compiled allow-set of one direction, shared by every endpoint whose policy is identical.</summary>
/// <remarks>An isolated endpoint allows exactly what one of <see cref="Rules"/> matches; an empty rule set denies everything.</remarks>
public sealed class RuleSet : IEquatable<RuleSet>
{
    private ImmutableArray<PolicyEntry> _entries;

    internal RuleSet(int id, PolicyDirection direction, ImmutableArray<CompiledRule> rules, string memoKey)
    {
        Id = id;
        Direction = direction;
        Rules = rules;
        MemoKey = memoKey;
    }

    /// <summary>Gets the identifier, stable across compiles for the same combination of policies (the content may change in place).</summary>
    public int Id { get; }

    /// <summary>Gets the direction.</summary>
    public PolicyDirection Direction { get; }

    /// <summary>Gets the rules, sorted by tier, priority and source.</summary>
    public ImmutableArray<CompiledRule> Rules { get; }

    /// <summary>Gets the key of what the rule set is composed of: direction, policies and, where named ports are involved, the pod's port names.</summary>
    internal string MemoKey { get; }

    /// <summary>Gets the flattened entries: one per (peer, port match, action), attributions merged, sorted by peer kind, peer, protocol and port.</summary>
    public ImmutableArray<PolicyEntry> Entries
    {
        get
        {
            if (_entries.IsDefault)
            {
                ImmutableInterlocked.InterlockedInitialize(ref _entries, Flatten(Rules));
            }

            return _entries;
        }
    }

    /// <summary>Returns whether the rule set allows a remote peer, protocol and port.</summary>
    /// <param name="identity">The remote identity.</param>
    /// <param name="addressClass">The remote address class.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns>The first matching rule, or <see langword="null"/>.</returns>
    public CompiledRule? Match(uint identity, uint addressClass, TransportProtocol protocol, int port)
    {
        foreach (var rule in Rules)
        {
            if (rule.Action == PolicyAction.Allow && rule.Matches(identity, addressClass, protocol, port))
            {
                return rule;
            }
        }

        return null;
    }

    private static ImmutableArray<PolicyEntry> Flatten(ImmutableArray<CompiledRule> rules)
    {
        var merged = new Dictionary<(PeerKind, uint, PortMatch?, PolicyAction, PolicyTier, int), SortedSet<RuleReference>>();
        void Add(PeerKind kind, uint peer, CompiledRule rule)
        {
            var key = (kind, peer, rule.Port, rule.Action, rule.Tier, rule.Priority);
            if (!merged.TryGetValue(key, out var refs))
            {
                refs = new SortedSet<RuleReference>(Comparer<RuleReference>.Create(static (a, b) => a.CompareTo(b)));
                merged[key] = refs;
            }

            refs.Add(rule.Source);
        }

        foreach (var rule in rules)
        {
            if (rule.Peers.IsAny)
            {
                Add(PeerKind.Any, 0, rule);
                continue;
            }

            foreach (var id in rule.Peers.Identities)
            {
                Add(PeerKind.Identity, id, rule);
            }

            foreach (var c in rule.Peers.AddressClasses)
            {
                Add(PeerKind.AddressClass, c, rule);
            }
        }

        return [.. merged
            .OrderBy(m => m.Key.Item5).ThenBy(m => m.Key.Item6).ThenBy(m => m.Key.Item1).ThenBy(m => m.Key.Item2)
            .ThenBy(m => m.Key.Item3?.Protocol ?? 0).ThenBy(m => m.Key.Item3?.First ?? -1).ThenBy(m => m.Key.Item3?.Last ?? -1).ThenBy(m => m.Key.Item4)
            .Select(m => new PolicyEntry
            {
                Kind = m.Key.Item1,
                Peer = m.Key.Item2,
                Port = m.Key.Item3,
                Action = m.Key.Item4,
                Tier = m.Key.Item5,
                Priority = m.Key.Item6,
                Attribution = [.. m.Value],
            })];
    }

    /// <inheritdoc/>
    public bool Equals(RuleSet? other) =>
        other is not null && (ReferenceEquals(this, other) || (Id == other.Id && Direction == other.Direction && Rules.SequenceEqual(other.Rules)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RuleSet);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, Direction, Rules.Length);

    /// <inheritdoc/>
    public override string ToString() => $"rule set {Id} ({Direction}, {Rules.Length} rules)";
}
