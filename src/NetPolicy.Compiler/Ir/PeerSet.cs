using System.Collections.Immutable;
using System.Text;

namespace NetPolicy.Compiler.Ir;

/// <summary>The peers a rule matches: any peer, or a set of identities and address classes.</summary>
/// <remarks>A flow's remote side matches when its identity is in <see cref="Identities"/> or its address class is in
/// <see cref="AddressClasses"/> (both come from one ipcache lookup). Peer sets are shared between rules and rule sets.</remarks>
public sealed class PeerSet : IEquatable<PeerSet>
{
    /// <summary>Initializes a peer set; the sequences are sorted and de-duplicated.</summary>
    /// <param name="id">The identifier within the compile.</param>
    /// <param name="isAny">Whether every peer matches.</param>
    /// <param name="identities">Identities.</param>
    /// <param name="addressClasses">Address classes.</param>
    public PeerSet(int id, bool isAny, IEnumerable<uint> identities, IEnumerable<uint> addressClasses)
    {
        Id = id;
        IsAny = isAny;
        Identities = isAny ? [] : [.. identities.Distinct().Order()];
        AddressClasses = isAny ? [] : [.. addressClasses.Distinct().Order()];
        ContentKey = BuildKey(IsAny, Identities, AddressClasses);
    }

    /// <summary>Gets the identifier within the compile.</summary>
    public int Id { get; }

    /// <summary>Gets a value indicating whether every peer matches (a rule without <c>from</c>/<c>to</c>).</summary>
    public bool IsAny { get; }

    /// <summary>Gets the identities, sorted.</summary>
    public ImmutableArray<uint> Identities { get; }

    /// <summary>Gets the address classes, sorted.</summary>
    public ImmutableArray<uint> AddressClasses { get; }

    /// <summary>Gets a value indicating whether the set matches nothing.</summary>
    public bool IsEmpty => !IsAny && Identities.IsEmpty && AddressClasses.IsEmpty;

    internal string ContentKey { get; }

    /// <summary>Returns whether a remote identity or address class matches.</summary>
    /// <param name="identity">The remote identity.</param>
    /// <param name="addressClass">The remote address class.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(uint identity, uint addressClass) =>
        IsAny || Identities.BinarySearch(identity) >= 0 || AddressClasses.BinarySearch(addressClass) >= 0;

    internal static string BuildKey(bool isAny, ImmutableArray<uint> identities, ImmutableArray<uint> classes)
    {
        if (isAny)
        {
            return "*";
        }

        var sb = new StringBuilder(identities.Length * 6 + classes.Length * 9 + 2);
        foreach (var id in identities)
        {
            sb.Append(id).Append(',');
        }

        sb.Append('|');
        foreach (var c in classes)
        {
            sb.Append(c).Append(',');
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public bool Equals(PeerSet? other) => other is not null && Id == other.Id && ContentKey == other.ContentKey;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PeerSet);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, ContentKey);

    /// <inheritdoc/>
    public override string ToString() => IsAny ? $"#{Id} any" : $"#{Id} identities [{string.Join(',', Identities)}] classes [{string.Join(',', AddressClasses)}]";
}
