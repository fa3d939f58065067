using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Identities;

/// <summary>A numeric security identity and the label set it stands for.</summary>
public sealed class SecurityIdentity : IEquatable<SecurityIdentity>
{
    /// <summary>Initializes an identity.</summary>
    /// <param name="id">The number.</param>
    /// <param name="namespace">The namespace, or <see langword="null"/> for reserved identities.</param>
    /// <param name="namespaceLabels">The namespace labels.</param>
    /// <param name="podLabels">The pod labels.</param>
    /// <param name="reservedName">The reserved label, for reserved identities.</param>
    public SecurityIdentity(uint id, string? @namespace, LabelSet namespaceLabels, LabelSet podLabels, string? reservedName = null)
    {
        ArgumentNullException.ThrowIfNull(namespaceLabels);
        ArgumentNullException.ThrowIfNull(podLabels);
        Id = id;
        Namespace = @namespace;
        NamespaceLabels = namespaceLabels;
        PodLabels = podLabels;
        ReservedName = reservedName;
    }

    /// <summary>Gets the number.</summary>
    public uint Id { get; }

    /// <summary>Gets the namespace, or <see langword="null"/> for reserved identities.</summary>
    public string? Namespace { get; }

    /// <summary>Gets the namespace labels.</summary>
    public LabelSet NamespaceLabels { get; }

    /// <summary>Gets the pod labels.</summary>
    public LabelSet PodLabels { get; }

    /// <summary>Gets the reserved name (<c>host</c>, <c>world</c>), or <see langword="null"/> for pod identities.</summary>
    public string? ReservedName { get; }

    /// <summary>Gets a value indicating whether this is a reserved identity.</summary>
    public bool IsReserved => ReservedName is not null;

    /// <summary>Gets the full label set: source-qualified, sorted by source then key.</summary>
    public ImmutableArray<IdentityLabel> Labels
    {
        get
        {
            if (ReservedName is not null)
            {
                return [new IdentityLabel(IdentityLabelSource.Reserved, ReservedName, string.Empty)];
            }

            var builder = ImmutableArray.CreateBuilder<IdentityLabel>(1 + NamespaceLabels.Count + PodLabels.Count);
            builder.Add(new IdentityLabel(IdentityLabelSource.NamespaceName, "name", Namespace!));
            foreach (var label in NamespaceLabels)
            {
                builder.Add(new IdentityLabel(IdentityLabelSource.Namespace, label.Key, label.Value));
            }

            foreach (var label in PodLabels)
            {
                builder.Add(new IdentityLabel(IdentityLabelSource.Pod, label.Key, label.Value));
            }

            return builder.MoveToImmutable();
        }
    }

    /// <summary>Gets the canonical key of the label set: equal label sets, equal keys.</summary>
    public string LabelKey => ReservedName is not null ? "reserved:" + ReservedName : Namespace + "|" + NamespaceLabels + "|" + PodLabels;

    /// <inheritdoc/>
    public bool Equals(SecurityIdentity? other) =>
        other is not null && Id == other.Id && Namespace == other.Namespace && ReservedName == other.ReservedName &&
        NamespaceLabels.Equals(other.NamespaceLabels) && PodLabels.Equals(other.PodLabels);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SecurityIdentity);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, PodLabels);

    /// <summary>Formats the identity, for example <c>256 (ns:name=prod, pod:app=web)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Id} ({string.Join(", ", Labels)})";
}
