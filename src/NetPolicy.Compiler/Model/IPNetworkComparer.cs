using System.Net;

namespace NetPolicy.Compiler.Model;

/// <summary>Orders networks by family (IPv4 first), then base address bytes, then prefix length.</summary>
public sealed class IPNetworkComparer : IComparer<IPNetwork>
{
    /// <summary>Gets the shared instance.</summary>
    public static IPNetworkComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(IPNetwork x, IPNetwork y)
    {
        var c = IPAddressComparer.Instance.Compare(x.BaseAddress, y.BaseAddress);
        return c != 0 ? c : x.PrefixLength.CompareTo(y.PrefixLength);
    }
}
