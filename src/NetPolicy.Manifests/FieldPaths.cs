using System.Globalization;

namespace NetPolicy.Manifests;

/// <summary>Builds field paths (<c>spec.ingress[0].from[1].ipBlock.cidr</c>) and shares each distinct path string
/// between objects, so a hundred thousand pods hold one <c>spec.containers[0].ports[0].name</c> between them.</summary>
internal sealed class FieldPaths
{
    /// <summary>Stops caching beyond this many paths, so hostile input (millions of distinct label keys) cannot grow the cache without bound.</summary>
    private const int MaxCached = 200_000;

    private readonly Dictionary<(string Parent, string Name), string> _children = [];
    private readonly Dictionary<(string Parent, int Index), string> _items = [];

    public string Child(string parent, string name)
    {
        if (_children.TryGetValue((parent, name), out var path))
        {
            return path;
        }

        path = parent.Length == 0 ? name : string.Concat(parent, ".", name);
        if (_children.Count < MaxCached)
        {
            _children.Add((parent, name), path);
        }

        return path;
    }

    public string Item(string parent, int index)
    {
        if (_items.TryGetValue((parent, index), out var path))
        {
            return path;
        }

        path = string.Concat(parent, "[", index.ToString(CultureInfo.InvariantCulture), "]");
        if (_items.Count < MaxCached)
        {
            _items.Add((parent, index), path);
        }

        return path;
    }
}
