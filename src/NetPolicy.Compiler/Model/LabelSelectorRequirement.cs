using System.Collections.Immutable;

namespace NetPolicy.Compiler.Model;

/// <summary>One <c>matchExpressions</c> entry of a label selector.</summary>
public sealed class LabelSelectorRequirement : IEquatable<LabelSelectorRequirement>
{
    /// <summary>Initializes a requirement; values are sorted and de-duplicated.</summary>
    /// <param name="key">The label key.</param>
    /// <param name="operator">The operator.</param>
    /// <param name="values">The values (only for <see cref="LabelSelectorOperator.In"/> and <see cref="LabelSelectorOperator.NotIn"/>).</param>
    public LabelSelectorRequirement(string key, LabelSelectorOperator @operator, IEnumerable<string>? values = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        Key = key;
        Operator = @operator;
        Values = values is null ? [] : [.. values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>Gets the label key.</summary>
    public string Key { get; }

    /// <summary>Gets the operator.</summary>
    public LabelSelectorOperator Operator { get; }

    /// <summary>Gets the values, sorted and distinct.</summary>
    public ImmutableArray<string> Values { get; }

    /// <summary>Returns whether the labels satisfy this requirement.</summary>
    /// <param name="labels">The labels.</param>
    /// <returns><see langword="true"/> when satisfied.</returns>
    public bool Matches(LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            LabelSelectorOperator.In => present && Contains(value!),
            LabelSelectorOperator.NotIn => !present || !Contains(value!),
            LabelSelectorOperator.Exists => present,
            LabelSelectorOperator.DoesNotExist => !present,
            _ => false,
        };
    }

    private bool Contains(string value) => Values.BinarySearch(value, StringComparer.Ordinal) >= 0;

    /// <inheritdoc/>
    public bool Equals(LabelSelectorRequirement? other) =>
        other is not null &&
        string.Equals(Key, other.Key, StringComparison.Ordinal) &&
        Operator == other.Operator &&
        Values.SequenceEqual(other.Values, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LabelSelectorRequirement);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Key, StringComparer.Ordinal);
        hash.Add(Operator);
        foreach (var v in Values)
        {
            hash.Add(v, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <summary>Formats the requirement as Kubernetes set-based selector text, for example <c>tier in (a,b)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Operator switch
    {
        LabelSelectorOperator.In => $"{Key} in ({string.Join(',', Values)})",
        LabelSelectorOperator.NotIn => $"{Key} notin ({string.Join(',', Values)})",
        LabelSelectorOperator.Exists => Key,
        LabelSelectorOperator.DoesNotExist => "!" + Key,
        _ => Key,
    };
}
