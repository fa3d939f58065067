using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Evaluation;

/// <summary>The verdict of one pod's policies for one direction of a flow, with its explanation.</summary>
public sealed record DirectionVerdict
{
    /// <summary>Gets the direction (egress for the source pod, ingress for the destination pod).</summary>
    public required PolicyDirection Direction { get; init; }

    /// <summary>Gets the pod whose policies decided, <c>namespace/name</c>.</summary>
    public required string Pod { get; init; }

    /// <summary>Gets a value indicating whether any policy of the pod's namespace selects the pod for this direction.</summary>
    public bool Isolated => !IsolatingPolicies.IsEmpty;

    /// <summary>Gets the policies that isolate the pod for this direction, sorted.</summary>
    public ImmutableArray<string> IsolatingPolicies { get; init; } = [];

    /// <summary>Gets a value indicating whether this direction allows the flow.</summary>
    public required bool Allowed { get; init; }

    /// <summary>Gets every rule that allows the flow (empty when not isolated or denied).</summary>
    public ImmutableArray<RuleReference> AllowedBy { get; init; } = [];

    /// <summary>Gets, when denied, why each rule of each isolating policy did not match.</summary>
    public ImmutableArray<string> Reasons { get; init; } = [];

    /// <inheritdoc/>
    public bool Equals(DirectionVerdict? other) =>
        other is not null && Direction == other.Direction && Pod == other.Pod && Allowed == other.Allowed &&
        IsolatingPolicies.SequenceEqual(other.IsolatingPolicies) && AllowedBy.SequenceEqual(other.AllowedBy) && Reasons.SequenceEqual(other.Reasons);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Direction, Pod, Allowed);
}
