using System.Collections.Immutable;

namespace NetPolicy.Compiler.Model;

/// <summary>A validated, defaulted Kubernetes NetworkPolicy (networking.k8s.io/v1).</summary>
public sealed record NetworkPolicyDefinition
{
    /// <summary>Gets the policy namespace; the policy selects pods of this namespace only.</summary>
    public required string Namespace { get; init; }

    /// <summary>Gets the policy name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the selector of the pods the policy applies to (<c>{}</c>: every pod of the namespace).</summary>
    public required LabelSelector PodSelector { get; init; }

    /// <summary>Gets a value indicating whether the policy isolates the selected pods for ingress.</summary>
    public bool AffectsIngress { get; init; }

    /// <summary>Gets a value indicating whether the policy isolates the selected pods for egress.</summary>
    public bool AffectsEgress { get; init; }

    /// <summary>Gets the ingress rules; empty with <see cref="AffectsIngress"/> means deny all ingress.</summary>
    public ImmutableArray<NetworkPolicyRule> Ingress { get; init; } = [];

    /// <summary>Gets the egress rules; empty with <see cref="AffectsEgress"/> means deny all egress.</summary>
    public ImmutableArray<NetworkPolicyRule> Egress { get; init; } = [];

    /// <summary>Gets the policy's key, <c>namespace/name</c>.</summary>
    public string Key => Namespace + "/" + Name;

    /// <summary>Returns whether the policy affects the direction.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns><see langword="true"/> when the policy's <c>policyTypes</c> include it.</returns>
    public bool Affects(PolicyDirection direction) => direction == PolicyDirection.Ingress ? AffectsIngress : AffectsEgress;

    /// <summary>Returns the rules of a direction.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The rules.</returns>
    public ImmutableArray<NetworkPolicyRule> RulesFor(PolicyDirection direction) => direction == PolicyDirection.Ingress ? Ingress : Egress;

    /// <inheritdoc/>
    public bool Equals(NetworkPolicyDefinition? other) =>
        other is not null &&
        string.Equals(Namespace, other.Namespace, StringComparison.Ordinal) &&
        string.Equals(Name, other.Name, StringComparison.Ordinal) &&
        PodSelector.Equals(other.PodSelector) &&
        AffectsIngress == other.AffectsIngress && AffectsEgress == other.AffectsEgress &&
        Ingress.SequenceEqual(other.Ingress) && Egress.SequenceEqual(other.Egress);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Namespace, Name, PodSelector);
}
