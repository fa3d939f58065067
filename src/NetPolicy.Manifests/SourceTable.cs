using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using NetPolicy.Compiler;

namespace NetPolicy.Manifests;

/// <summary>A field's location, kept compact: the path string is shared between objects, and no object is allocated per field.</summary>
internal readonly record struct FieldLocation(string Path, int Line, int Column);

/// <summary>An object's source, kept compact until someone asks for it.</summary>
internal sealed class CompactSource(string file, int line, int column, FieldLocation[] fields)
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public int Column { get; } = column;

    public FieldLocation[] Fields { get; } = fields;

    public SourceLocation Location => new(File, Line, Column);

    public ObjectSource ToObjectSource()
    {
        if (Fields.Length == 0)
        {
            return new ObjectSource { Location = Location };
        }

        return new ObjectSource { Location = Location, Fields = new FieldMap(File, Fields) };
    }

    /// <summary>Field locations looked up by a linear scan: they are read only when a diagnostic is reported, so building a
    /// dictionary per object (millions of entries for a large input) would be wasted work.</summary>
    private sealed class FieldMap(string file, FieldLocation[] fields) : IReadOnlyDictionary<string, SourceLocation>
    {
        public int Count => fields.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count();

        public IEnumerable<string> Keys => fields.Select(f => f.Path).Distinct(StringComparer.Ordinal);

        public IEnumerable<SourceLocation> Values => Keys.Select(k => this[k]);

        public SourceLocation this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out SourceLocation value)
        {
            // With a key repeated in the YAML, the last one wins, as it does for the value.
            for (var i = fields.Length - 1; i >= 0; i--)
            {
                if (string.Equals(fields[i].Path, key, StringComparison.Ordinal))
                {
                    value = new SourceLocation(file, fields[i].Line, fields[i].Column);
                    return true;
                }
            }

            value = null;
            return false;
        }

        public IEnumerator<KeyValuePair<string, SourceLocation>> GetEnumerator() =>
            Keys.Select(k => KeyValuePair.Create(k, this[k])).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>The sources of a <see cref="ManifestSet"/>, keyed by object reference. <see cref="ObjectSource"/> values are made when
/// looked up, so a set of 200,000 objects does not hold millions of field-location objects (and the garbage collector does not
/// have to trace them); the last lookup is cached because the snapshot asks for each object twice in a row.</summary>
internal sealed class SourceTable(Dictionary<object, CompactSource> sources) : IReadOnlyDictionary<object, ObjectSource>
{
    private sealed record Entry(object Key, ObjectSource Value);

    private readonly Dictionary<object, CompactSource> _sources = sources;
    private volatile Entry? _last;

    public int Count => _sources.Count;

    public IEnumerable<object> Keys => _sources.Keys;

    public IEnumerable<ObjectSource> Values => _sources.Values.Select(s => s.ToObjectSource());

    internal Dictionary<object, CompactSource> Compact => _sources;

    public ObjectSource this[object key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException("The object is not part of this manifest set.");

    public bool ContainsKey(object key) => _sources.ContainsKey(key);

    public bool TryGetValue(object key, [MaybeNullWhen(false)] out ObjectSource value)
    {
        var last = _last;
        if (last is not null && ReferenceEquals(last.Key, key))
        {
            value = last.Value;
            return true;
        }

        if (!_sources.TryGetValue(key, out var compact))
        {
            value = null;
            return false;
        }

        value = compact.ToObjectSource();
        _last = new Entry(key, value);
        return true;
    }

    public IEnumerator<KeyValuePair<object, ObjectSource>> GetEnumerator()
    {
        foreach (var pair in _sources)
        {
            yield return new(pair.Key, pair.Value.ToObjectSource());
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
