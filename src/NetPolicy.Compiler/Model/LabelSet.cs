using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace NetPolicy.Compiler.Model;

/// <summary>An immutable set of Kubernetes labels, sorted by key (ordinal), with value equality.</summary>
public sealed class LabelSet : IEquatable<LabelSet>, IReadOnlyCollection<KeyValuePair<string, string>>
{
    private readonly ImmutableArray<KeyValuePair<string, string>> _items;
    private readonly int _hashCode;
    private string? _text;

    /// <summary>Gets the empty label set.</summary>
    public static LabelSet Empty { get; } = new([]);

    private LabelSet(ImmutableArray<KeyValuePair<string, string>> sortedItems)
    {
        _items = sortedItems;
        var hash = new HashCode();
        foreach (var item in sortedItems)
        {
            hash.Add(item.Key, StringComparer.Ordinal);
            hash.Add(item.Value, StringComparer.Ordinal);
        }

        _hashCode = hash.ToHashCode();
    }

    /// <summary>Creates a label set; a <see langword="null"/> dictionary gives the empty set.</summary>
    /// <param name="labels">The labels, or <see langword="null"/>.</param>
    /// <returns>The label set.</returns>
    public static LabelSet Create(IEnumerable<KeyValuePair<string, string>>? labels)
    {
        if (labels is null)
        {
            return Empty;
        }

        var builder = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var pair in labels)
        {
            ArgumentNullException.ThrowIfNull(pair.Key, nameof(labels));
            builder.Add(new KeyValuePair<string, string>(pair.Key, pair.Value ?? string.Empty));
        }

        if (builder.Count == 0)
        {
            return Empty;
        }

        builder.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        for (var i = 1; i < builder.Count; i++)
        {
            if (string.Equals(builder[i - 1].Key, builder[i].Key, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Duplicate label key '{builder[i].Key}'.", nameof(labels));
            }
        }

        return new LabelSet(builder.ToImmutable());
    }

    /// <summary>Creates a label set from alternating keys and values: <c>LabelSet.Of("app", "web")</c>.</summary>
    /// <param name="keysAndValues">Keys and values, alternating.</param>
    /// <returns>The label set.</returns>
    public static LabelSet Of(params string[] keysAndValues)
    {
        ArgumentNullException.ThrowIfNull(keysAndValues);
        if (keysAndValues.Length % 2 != 0)
        {
            throw new ArgumentException("Expected key/value pairs.", nameof(keysAndValues));
        }

        var pairs = new List<KeyValuePair<string, string>>(keysAndValues.Length / 2);
        for (var i = 0; i < keysAndValues.Length; i += 2)
        {
            pairs.Add(new KeyValuePair<string, string>(keysAndValues[i], keysAndValues[i + 1]));
        }

        return Create(pairs);
    }

    /// <summary>Gets the number of labels.</summary>
    public int Count => _items.Length;

    /// <summary>Gets the labels sorted by key.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Items => _items;

    /// <summary>Looks up a label value.</summary>
    /// <param name="key">The label key.</param>
    /// <param name="value">The value when present.</param>
    /// <returns><see langword="true"/> when the key is present.</returns>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        int lo = 0, hi = _items.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var cmp = string.CompareOrdinal(_items[mid].Key, key);
            if (cmp == 0)
            {
                value = _items[mid].Value;
                return true;
            }

            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Returns whether the key is present.</summary>
    /// <param name="key">The label key.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>Returns a copy with one label set to a value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>The new label set.</returns>
    public LabelSet With(string key, string value)
    {
        var dict = _items.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        dict[key] = value;
        return Create(dict);
    }

    /// <inheritdoc/>
    public bool Equals(LabelSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._hashCode != _hashCode || other._items.Length != _items.Length)
        {
            return false;
        }

        for (var i = 0; i < _items.Length; i++)
        {
            if (!string.Equals(_items[i].Key, other._items[i].Key, StringComparison.Ordinal) ||
                !string.Equals(_items[i].Value, other._items[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    /// <inheritdoc/>
    public override int GetHashCode() => _hashCode;

    /// <summary>Formats the labels as <c>k1=v1,k2=v2</c>, sorted by key.</summary>
    /// <returns>The canonical text.</returns>
    public override string ToString() => _text ??= Format();

    private string Format()
    {
        var sb = new StringBuilder();
        foreach (var item in _items)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(item.Key).Append('=').Append(item.Value);
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
