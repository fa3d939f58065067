using System.Net;
using System.Net.Sockets;

namespace NetPolicy.Compiler.Model;

/// <summary>Orders addresses by family (IPv4 first), then by their bytes.</summary>
public sealed class IPAddressComparer : IComparer<IPAddress>
{
    /// <summary>Gets the shared instance.</summary>
    public static IPAddressComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(IPAddress? x, IPAddress? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        if (x.AddressFamily != y.AddressFamily)
        {
            return x.AddressFamily == AddressFamily.InterNetwork ? -1 : 1;
        }

        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        x.TryWriteBytes(a, out var la);
        y.TryWriteBytes(b, out var lb);
        return a[..la].SequenceCompareTo(b[..lb]);
    }
}
