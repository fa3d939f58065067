using System.Collections.Immutable;

namespace NetPolicy.Compiler.Ir;

/// <summary>The peers a rule matches: any peer, or a set of identities and address classes.</summary>
/// <remarks>A flow's remote side matches when its identity is in <see cref="Identities"/> or its address class is in
/// <see cref="AddressClasses"/> (both come from one ipcache lookup). A peer set stands for one peer of one or more
/// policies (a selector, an ipBlock, "any"); its identifier stays the same while its members change, so a datapath
/// can update one set in place when a pod joins or leaves it.</remarks>
public sealed class PeerSet : IEquatable<PeerSet>
{
    /// <summary>Initializes a peer set; the sequences are sorted and de-duplicated.</summary>
    /// <param name="id">The identifier within the compile.</param>
    /// <param name="isAny">Whether every peer matches.</param>
    /// <param name="identities">Identities.</param>
    /// <param name="addressClasses">Address classes.</param>
    public PeerSet(int id, bool isAny, IEnumerable<uint> identities, IEnumerable<uint> addressClasses)
        : this(id, isAny, isAny ? [] : [.. identities.Distinct().Order()], isAny ? [] : [.. addressClasses.Distinct().Order()], string.Empty)
    {
    }

    internal PeerSet(int id, bool isAny, ImmutableArray<uint> sortedIdentities, ImmutableArray<uint> sortedClasses, string specKey)
    {
        Id = id;
        IsAny = isAny;
        Identities = sortedIdentities;
        AddressClasses = sortedClasses;
        SpecKey = specKey;
    }

    /// <summary>Gets the identifier within the compile, stable across compiles for the same peer.</summary>
    public int Id { get; }

    /// <summary>Gets a value indicating whether every peer matches (a rule without <c>from</c>/<c>to</c>).</summary>
    public bool IsAny { get; }

    /// <summary>Gets the identities, sorted.</summary>
    public ImmutableArray<uint> Identities { get; }

    /// <summary>Gets the address classes, sorted.</summary>
    public ImmutableArray<uint> AddressClasses { get; }

    /// <summary>Gets a value indicating whether the set matches nothing.</summary>
    public bool IsEmpty => !IsAny && Identities.IsEmpty && AddressClasses.IsEmpty;

    /// <summary>Gets the key of the peer specification this set was compiled from (stable across compiles).</summary>
    internal string SpecKey { get; }

    /// <summary>Returns whether a remote identity or address class matches.</summary>
    /// <param name="identity">The remote identity.</param>
    /// <param name="addressClass">The remote address class.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(uint identity, uint addressClass) =>
        IsAny || Identities.BinarySearch(identity) >= 0 || AddressClasses.BinarySearch(addressClass) >= 0;

    /// <inheritdoc/>
    public bool Equals(PeerSet? other) =>
        other is not null && (ReferenceEquals(this, other) ||
        (Id == other.Id && IsAny == other.IsAny && Identities.AsSpan().SequenceEqual(other.Identities.AsSpan()) && AddressClasses.AsSpan().SequenceEqual(other.AddressClasses.AsSpan())));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PeerSet);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, IsAny, Identities.Length, AddressClasses.Length);

    /// <inheritdoc/>
    public override string ToString() => IsAny ? $"#{Id} any" : $"#{Id} identities [{string.Join(',', Identities)}] classes [{string.Join(',', AddressClasses)}]";
}
