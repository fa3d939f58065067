using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Identities;

/// <summary>The numeric security identities of a compile and the allocation watermark.</summary>
/// <remarks>
/// Allocation rule: a label set keeps the number it had in the previous table. Label sets that are new get numbers
/// from <see cref="NextIdentity"/> upwards, in the order of their canonical label key, so a cold compile of the same
/// input always gives the same numbers. Numbers of label sets that disappeared are not reused (the watermark only
/// grows), so a stale number in a datapath cache can never name a different pod.
/// </remarks>
public sealed class IdentityTable : IEquatable<IdentityTable>
{
    internal IdentityTable(ImmutableSortedDictionary<uint, SecurityIdentity> byId, ImmutableDictionary<IdentityKey, uint> byKey, uint nextIdentity)
    {
        ById = byId;
        ByKey = byKey;
        NextIdentity = nextIdentity;
    }

    /// <summary>Gets a table holding only the reserved identities.</summary>
    public static IdentityTable Reserved { get; } = new(
        ImmutableSortedDictionary.CreateRange(new[]
        {
            KeyValuePair.Create(ReservedIdentities.Host, new SecurityIdentity(ReservedIdentities.Host, null, LabelSet.Empty, LabelSet.Empty, "host")),
            KeyValuePair.Create(ReservedIdentities.World, new SecurityIdentity(ReservedIdentities.World, null, LabelSet.Empty, LabelSet.Empty, "world")),
        }),
        ImmutableDictionary<IdentityKey, uint>.Empty,
        ReservedIdentities.FirstPodIdentity);

    internal ImmutableSortedDictionary<uint, SecurityIdentity> ById { get; }

    internal ImmutableDictionary<IdentityKey, uint> ByKey { get; }

    /// <summary>Gets the number the next new label set receives.</summary>
    public uint NextIdentity { get; }

    /// <summary>Gets the number of identities, reserved ones included.</summary>
    public int Count => ById.Count;

    /// <summary>Gets every identity, sorted by number.</summary>
    public IEnumerable<SecurityIdentity> Identities => ById.Values;

    /// <summary>Looks an identity up by number.</summary>
    /// <param name="id">The number.</param>
    /// <param name="identity">The identity.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public bool TryGet(uint id, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SecurityIdentity identity) => ById.TryGetValue(id, out identity);

    /// <summary>Finds the identity of a pod's label set.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="namespaceLabels">The namespace labels.</param>
    /// <param name="podLabels">The pod labels.</param>
    /// <returns>The number, or <see langword="null"/>.</returns>
    public uint? Find(string @namespace, LabelSet namespaceLabels, LabelSet podLabels) =>
        ByKey.TryGetValue(new IdentityKey(@namespace, namespaceLabels, podLabels), out var id) ? id : null;

    /// <inheritdoc/>
    public bool Equals(IdentityTable? other) =>
        other is not null && NextIdentity == other.NextIdentity && ById.Count == other.ById.Count &&
        ById.Values.SequenceEqual(other.ById.Values);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as IdentityTable);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(NextIdentity, ById.Count);
}
