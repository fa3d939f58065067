namespace NetPolicy.Compiler.Tests.Compilation;

/// <summary><see cref="ObjectKeyComparer"/> orders by namespace, then name; its first-difference fast path must agree with
/// that definition on every pair, including keys that are prefixes of each other and keys without a slash.</summary>
public sealed class ObjectKeyComparerTests
{
    [Theory]
    [InlineData("a/x", "a-b/x", -1)]
    [InlineData("a/x", "a/x", 0)]
    [InlineData("a/xy", "a/x", 1)]
    [InlineData("ab/x", "a/zzz", 1)]
    [InlineData("a", "a/x", -1)]
    [InlineData("a", "ab", -1)]
    [InlineData("b", "a/x", 1)]
    [InlineData("a/x/y", "a/x-y", 1)] // within the name, plain ordinal: '/' (0x2F) after '-' (0x2D)
    public void Compare_Examples(string x, string y, int expected)
    {
        Assert.Equal(expected, Math.Sign(ObjectKeyComparer.Instance.Compare(x, y)));
        Assert.Equal(-expected, Math.Sign(ObjectKeyComparer.Instance.Compare(y, x)));
    }

    [Fact]
    public void Compare_RandomKeys_AgreesWithNamespaceThenNameOrdinal()
    {
        var random = new Random(7);
        const string alphabet = "ab-/.0";
        var keys = Enumerable.Range(0, 600).Select(_ =>
            new string([.. Enumerable.Range(0, random.Next(0, 7)).Select(_ => alphabet[random.Next(alphabet.Length)])])).ToList();
        foreach (var x in keys)
        {
            foreach (var y in keys.Take(120))
            {
                Assert.True(Math.Sign(Reference(x, y)) == Math.Sign(ObjectKeyComparer.Instance.Compare(x, y)), $"'{x}' vs '{y}'");
            }
        }
    }

    private static int Reference(string x, string y)
    {
        static (string Namespace, string Name) Split(string key)
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            return slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
        }

        var (nx, ax) = Split(x);
        var (ny, ay) = Split(y);
        var c = string.CompareOrdinal(nx, ny);
        return c != 0 ? c : string.CompareOrdinal(ax, ay);
    }
}
