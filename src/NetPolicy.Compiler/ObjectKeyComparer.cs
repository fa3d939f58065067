namespace NetPolicy.Compiler;

/// <summary>Orders <c>namespace/name</c> keys by namespace, then by name (ordinal), so <c>a/x</c> sorts before <c>a-b/x</c>.</summary>
public sealed class ObjectKeyComparer : IComparer<string>
{
    /// <summary>Gets the shared instance.</summary>
    public static ObjectKeyComparer Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return string.CompareOrdinal(x, y);
        }

        // Fast path: the first differing character decides, unless one key is a prefix of the other.
        var p = x.AsSpan().CommonPrefixLength(y);
        if (p < x.Length && p < y.Length)
        {
            if (x.AsSpan(0, p).Contains('/'))
            {
                return x[p] < y[p] ? -1 : 1; // same namespace: the names differ here
            }

            var cx = x[p];
            var cy = y[p];
            return cx == '/' ? -1 // x's namespace ends here, y's goes on
                : cy == '/' ? 1
                : cx < cy ? -1 : 1;
        }

        var sx = x.IndexOf('/', StringComparison.Ordinal);
        var sy = y.IndexOf('/', StringComparison.Ordinal);
        var nx = sx < 0 ? x.AsSpan() : x.AsSpan(0, sx);
        var ny = sy < 0 ? y.AsSpan() : y.AsSpan(0, sy);
        var c = nx.CompareTo(ny, StringComparison.Ordinal);
        if (c != 0)
        {
            return c;
        }

        return (sx < 0 ? [] : x.AsSpan(sx + 1)).CompareTo(sy < 0 ? [] : y.AsSpan(sy + 1), StringComparison.Ordinal);
    }
}
