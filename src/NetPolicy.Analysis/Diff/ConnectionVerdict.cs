using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis;

/// <summary>One side's decision for a connection: whether it is allowed, and which rules allow it or which policies deny it.</summary>
public sealed record ConnectionVerdict
{
    /// <summary>Gets a value indicating whether the connection is allowed.</summary>
    public required bool Allowed { get; init; }

    /// <summary>Gets a value indicating whether the endpoints share no address family (the connection is then impossible).</summary>
    public bool NoCommonFamily { get; init; }

    /// <summary>Gets a value indicating whether the source is a pod, whose egress policies apply (<see langword="false"/> for an address outside the cluster).</summary>
    public bool EgressPoliced { get; init; } = true;

    /// <summary>Gets a value indicating whether the destination is a pod, whose ingress policies apply (<see langword="false"/> for an address outside the cluster).</summary>
    public bool IngressPoliced { get; init; } = true;

    /// <summary>Gets the policies isolating the source pod for egress, sorted (empty when not isolated or external).</summary>
    public ImmutableArray<string> EgressPolicies { get; init; } = [];

    /// <summary>Gets the policies isolating the destination pod for ingress, sorted (empty when not isolated or external).</summary>
    public ImmutableArray<string> IngressPolicies { get; init; } = [];

    /// <summary>Gets a value indicating whether the source's egress allows the connection.</summary>
    public bool EgressAllowed { get; init; } = true;

    /// <summary>Gets a value indicating whether the destination's ingress allows the connection.</summary>
    public bool IngressAllowed { get; init; } = true;

    /// <summary>Gets the first egress rule (in rule-set order) that allows the connection, or <see langword="null"/>.</summary>
    public RuleReference? EgressRule { get; init; }

    /// <summary>Gets the first ingress rule (in rule-set order) that allows the connection, or <see langword="null"/>.</summary>
    public RuleReference? IngressRule { get; init; }

    /// <summary>Gets the policies that deny the connection: the isolating policies of each direction that does not allow it.</summary>
    public ImmutableArray<string> DenyingPolicies =>
        [.. (EgressAllowed ? [] : EgressPolicies).Concat(IngressAllowed ? [] : IngressPolicies).Distinct(StringComparer.Ordinal)];

    /// <summary>Returns whether another verdict allows by the same rules (policy, direction and rule index; peer and port indexes aside).</summary>
    /// <param name="other">The other verdict.</param>
    /// <returns><see langword="true"/> when both allow, by the same rules.</returns>
    public bool SameRules(ConnectionVerdict other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return SameRule(EgressRule, other.EgressRule) && SameRule(IngressRule, other.IngressRule);
    }

    /// <summary>Explains the verdict in one line, for example <c>allowed by egress prod/a spec.egress[0]; ingress not isolated</c>.</summary>
    /// <returns>The text.</returns>
    public string Explain()
    {
        if (NoCommonFamily)
        {
            return "denied: the pods have no address of a common family";
        }

        if (Allowed)
        {
            return "allowed: egress " + Side(EgressRule, EgressPolicies, EgressPoliced) + "; ingress " + Side(IngressRule, IngressPolicies, IngressPoliced);
        }

        var parts = new List<string>(2);
        if (!EgressAllowed)
        {
            parts.Add("egress isolated by " + string.Join(", ", EgressPolicies));
        }

        if (!IngressAllowed)
        {
            parts.Add("ingress isolated by " + string.Join(", ", IngressPolicies));
        }

        return "denied: " + string.Join("; ", parts) + ", and no rule allows it";
    }

    /// <summary>Formats a rule reference briefly: <c>ns/policy spec.ingress[0]</c>.</summary>
    /// <param name="rule">The rule.</param>
    /// <returns>The text.</returns>
    public static string Describe(RuleReference rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Policy + " " + rule.RulePath;
    }

    /// <inheritdoc/>
    public bool Equals(ConnectionVerdict? other) =>
        other is not null && Allowed == other.Allowed && NoCommonFamily == other.NoCommonFamily &&
        EgressPoliced == other.EgressPoliced && IngressPoliced == other.IngressPoliced &&
        EgressAllowed == other.EgressAllowed && IngressAllowed == other.IngressAllowed &&
        EgressPolicies.SequenceEqual(other.EgressPolicies) && IngressPolicies.SequenceEqual(other.IngressPolicies) &&
        Equals(EgressRule, other.EgressRule) && Equals(IngressRule, other.IngressRule);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Allowed, EgressRule, IngressRule);

    private static string Side(RuleReference? rule, ImmutableArray<string> policies, bool policed) =>
        !policed ? "not policed (outside the cluster)" : rule is not null ? "by " + Describe(rule) : policies.IsEmpty ? "not isolated" : "isolated";

    private static bool SameRule(RuleReference? a, RuleReference? b) =>
        a is null ? b is null : b is not null && a.Policy == b.Policy && a.Direction == b.Direction && a.RuleIndex == b.RuleIndex;
}
