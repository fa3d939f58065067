using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Ir;

/// <summary>The compiled policy of one endpoint (pod): its identity, and per direction whether it is isolated and by which rule set.</summary>
public sealed record EndpointPolicy
{
    /// <summary>Gets the pod key, <c>namespace/name</c>.</summary>
    public required string Pod { get; init; }

    /// <summary>Gets the pod's security identity.</summary>
    public required uint Identity { get; init; }

    /// <summary>Gets the pod IPs.</summary>
    public ImmutableArray<IPAddress> Addresses { get; init; } = [];

    /// <summary>Gets the ingress rule set, or <see langword="null"/> when the pod is not isolated for ingress (everything allowed).</summary>
    public int? IngressRuleSet { get; init; }

    /// <summary>Gets the egress rule set, or <see langword="null"/> when the pod is not isolated for egress (everything allowed).</summary>
    public int? EgressRuleSet { get; init; }

    /// <summary>Gets the policies isolating the pod for ingress, sorted.</summary>
    public ImmutableArray<string> IngressPolicies { get; init; } = [];

    /// <summary>Gets the policies isolating the pod for egress, sorted.</summary>
    public ImmutableArray<string> EgressPolicies { get; init; } = [];

    /// <summary>Gets a value indicating whether the pod is isolated for ingress.</summary>
    public bool IngressIsolated => IngressRuleSet is not null;

    /// <summary>Gets a value indicating whether the pod is isolated for egress.</summary>
    public bool EgressIsolated => EgressRuleSet is not null;

    /// <summary>Gets the rule set of a direction.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The rule set identifier, or <see langword="null"/> when not isolated.</returns>
    public int? RuleSetFor(PolicyDirection direction) => direction == PolicyDirection.Ingress ? IngressRuleSet : EgressRuleSet;

    /// <inheritdoc/>
    public bool Equals(EndpointPolicy? other) =>
        other is not null && Pod == other.Pod && Identity == other.Identity && Addresses.SequenceEqual(other.Addresses) &&
        IngressRuleSet == other.IngressRuleSet && EgressRuleSet == other.EgressRuleSet &&
        IngressPolicies.SequenceEqual(other.IngressPolicies) && EgressPolicies.SequenceEqual(other.EgressPolicies);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Pod, Identity, IngressRuleSet, EgressRuleSet);
}
