using System.Collections.Immutable;
using System.Net;

namespace NetPolicy.Compiler.Model;

/// <summary>An <c>ipBlock</c> peer: a CIDR minus the CIDRs in <see cref="Except"/>.</summary>
public sealed class IPBlock : IEquatable<IPBlock>
{
    /// <summary>Initializes an ipBlock; networks are canonical (host bits cleared).</summary>
    /// <param name="cidr">The block.</param>
    /// <param name="except">Blocks inside <paramref name="cidr"/> that are excluded.</param>
    public IPBlock(IPNetwork cidr, IEnumerable<IPNetwork>? except = null)
    {
        Cidr = cidr;
        Except = except is null ? [] : [.. except.Distinct().OrderBy(n => n, IPNetworkComparer.Instance)];
        Key = Except.IsEmpty ? Cidr.ToString() : Cidr + " except " + string.Join(' ', Except);
    }

    /// <summary>Gets the block.</summary>
    public IPNetwork Cidr { get; }

    /// <summary>Gets the excluded blocks, sorted.</summary>
    public ImmutableArray<IPNetwork> Except { get; }

    /// <summary>Gets the canonical text, for example <c>198.18.0.0/16 except 198.18.1.0/24</c>.</summary>
    public string Key { get; }

    /// <summary>Returns whether the address is inside the block and outside every exception.</summary>
    /// <param name="address">The address.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != Cidr.BaseAddress.AddressFamily || !Cidr.Contains(address))
        {
            return false;
        }

        foreach (var except in Except)
        {
            if (except.Contains(address))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public bool Equals(IPBlock? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as IPBlock);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);

    /// <inheritdoc/>
    public override string ToString() => Key;
}
