using System.Collections.Immutable;

namespace NetPolicy.Compiler.Identities;

/// <summary>An equivalence class of addresses: every address in it is matched by exactly the same address groups.</summary>
/// <remarks>
/// Address groups are the distinct ipBlocks of all policies (<c>cidr except ...</c>) and, where a named egress
/// port resolves differently between pods of one identity, single pods (<c>pod:namespace/name</c>). Partitioning
/// the address space by group membership turns "does this ipBlock match?" into one longest-prefix lookup
/// (see <see cref="IPCacheEntry"/>) and a set-membership test on the class, for pod IPs and external
/// addresses alike. The class with no groups covers every address no group matches.
/// </remarks>
public sealed class AddressClass : IEquatable<AddressClass>
{
    /// <summary>Initializes a class.</summary>
    /// <param name="id">The identifier, at least <see cref="ReservedIdentities.FirstAddressClass"/>.</param>
    /// <param name="groups">The groups every address of the class belongs to.</param>
    public AddressClass(uint id, IEnumerable<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Id = id;
        Groups = [.. groups.Order(StringComparer.Ordinal)];
        Key = string.Join(" + ", Groups);
    }

    /// <summary>Gets the identifier.</summary>
    public uint Id { get; }

    /// <summary>Gets the groups, sorted.</summary>
    public ImmutableArray<string> Groups { get; }

    /// <summary>Gets the canonical key (groups joined with <c> + </c>; empty for the class of unmatched addresses).</summary>
    public string Key { get; }

    /// <inheritdoc/>
    public bool Equals(AddressClass? other) => other is not null && Id == other.Id && Key == other.Key;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as AddressClass);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, Key);

    /// <inheritdoc/>
    public override string ToString() => $"{Id} [{Key}]";
}
