using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>The compiled allow-set of one direction, shared by every endpoint whose policy is identical.</summary>
/// <remarks>An isolated endpoint allows exactly what one of <see cref="Rules"/> matches; a rule set without rules denies
/// everything. <see cref="CompiledPolicySet.EntriesOf"/> flattens a rule set into policy-map entries.</remarks>
public sealed class RuleSet : IEquatable<RuleSet>
{
    internal RuleSet(int id, PolicyDirection direction, ImmutableArray<CompiledRule> rules, string memoKey)
    {
        Id = id;
        Direction = direction;
        Rules = rules;
        MemoKey = memoKey;
    }

    /// <summary>Gets the identifier, stable across compiles for the same combination of policies.</summary>
    public int Id { get; }

    /// <summary>Gets the direction.</summary>
    public PolicyDirection Direction { get; }

    /// <summary>Gets the rules, sorted by tier, priority and source.</summary>
    public ImmutableArray<CompiledRule> Rules { get; }

    /// <summary>Gets the key of what the rule set is composed of: direction, policies and, where named ports are involved, the pod's port names.</summary>
    internal string MemoKey { get; }

    /// <summary>Returns the first allow rule matching a remote peer, protocol and port.</summary>
    /// <param name="peerSets">The peer sets of the compile.</param>
    /// <param name="identity">The remote identity.</param>
    /// <param name="addressClass">The remote address class.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The destination port.</param>
    /// <returns>The rule, or <see langword="null"/>.</returns>
    public CompiledRule? Match(IReadOnlyDictionary<int, PeerSet> peerSets, uint identity, uint addressClass, TransportProtocol protocol, int port)
    {
        ArgumentNullException.ThrowIfNull(peerSets);
        foreach (var rule in Rules)
        {
            if (rule.Action == PolicyAction.Allow && rule.MatchesPort(protocol, port) && peerSets[rule.PeerSet].Matches(identity, addressClass))
            {
                return rule;
            }
        }

        return null;
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
