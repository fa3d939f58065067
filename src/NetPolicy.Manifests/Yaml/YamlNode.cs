namespace NetPolicy.Manifests.Yaml;

/// <summary>A node of one document's light-weight tree: just the value and where it starts (1-based).</summary>
internal abstract class YamlNode(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    /// <summary>Gets or sets the number of nodes the subtree stands for once aliases are expanded.</summary>
    public long Weight { get; set; } = 1;

    /// <summary>Gets the node kind as a user reads it in a message: a string, a map, a list.</summary>
    public abstract string Description { get; }
}

/// <summary>A scalar. <see cref="IsPlain"/> is true for unquoted scalars without an explicit tag, the only ones that can be numbers, booleans or null.</summary>
internal sealed class YamlScalar(string value, bool isPlain, bool isTaggedNull, int line, int column) : YamlNode(line, column)
{
    public string Value { get; } = value;

    public bool IsPlain { get; } = isPlain;

    /// <summary>Gets a value indicating whether the scalar is YAML's null (<c>~</c>, <c>null</c>, empty, or tagged <c>!!null</c>).</summary>
    public bool IsNull => isTaggedNull || (IsPlain && Value is "" or "~" or "null" or "Null" or "NULL");

    public override string Description => IsNull ? "null" : IsPlain ? $"'{Value}'" : $"the string '{Value}'";
}

/// <summary>A mapping, with its entries in document order.</summary>
internal sealed class YamlMapping(int line, int column) : YamlNode(line, column)
{
    public List<KeyValuePair<YamlNode, YamlNode>> Entries { get; } = [];

    public override string Description => "a map";

    /// <summary>Finds the value of the first entry with a scalar key equal to <paramref name="key"/>.</summary>
    public YamlNode? Get(string key)
    {
        foreach (var entry in Entries)
        {
            if (entry.Key is YamlScalar scalar && string.Equals(scalar.Value, key, StringComparison.Ordinal))
            {
                return entry.Value;
            }
        }

        return null;
    }
}

/// <summary>A sequence.</summary>
internal sealed class YamlSequence(int line, int column) : YamlNode(line, column)
{
    public List<YamlNode> Items { get; } = [];

    public override string Description => "a list";
}
