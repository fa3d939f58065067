using System.Collections.Immutable;

namespace NetPolicy.Compiler.Model;

/// <summary>An immutable Kubernetes label selector: <c>matchLabels</c> and <c>matchExpressions</c>, ANDed.</summary>
/// <remarks>An empty selector (<c>{}</c>) matches every label set. A missing selector is represented by
/// <see langword="null"/> where the API distinguishes the two.</remarks>
public sealed class LabelSelector : IEquatable<LabelSelector>
{
    /// <summary>Gets the selector that matches everything (<c>{}</c>).</summary>
    public static LabelSelector Everything { get; } = new(LabelSet.Empty, []);

    /// <summary>Initializes a selector.</summary>
    /// <param name="matchLabels">Labels that must all be present with these values.</param>
    /// <param name="matchExpressions">Requirements that must all hold.</param>
    public LabelSelector(LabelSet matchLabels, IEnumerable<LabelSelectorRequirement>? matchExpressions = null)
    {
        ArgumentNullException.ThrowIfNull(matchLabels);
        MatchLabels = matchLabels;
        MatchExpressions = matchExpressions is null ? [] : [.. matchExpressions];
        _text = BuildText();
    }

    private readonly string _text;

    /// <summary>Gets the labels that must all be present with these values.</summary>
    public LabelSet MatchLabels { get; }

    /// <summary>Gets the requirements that must all hold, in declaration order.</summary>
    public ImmutableArray<LabelSelectorRequirement> MatchExpressions { get; }

    /// <summary>Gets a value indicating whether the selector is empty and so matches everything.</summary>
    public bool IsEmpty => MatchLabels.Count == 0 && MatchExpressions.IsEmpty;

    /// <summary>Creates a selector from <c>matchLabels</c> alone.</summary>
    /// <param name="keysAndValues">Keys and values, alternating.</param>
    /// <returns>The selector.</returns>
    public static LabelSelector ForLabels(params string[] keysAndValues) => new(LabelSet.Of(keysAndValues));

    /// <summary>Returns whether the labels satisfy every term of the selector.</summary>
    /// <param name="labels">The labels.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        foreach (var pair in MatchLabels.Items)
        {
            if (!labels.TryGetValue(pair.Key, out var value) || !string.Equals(value, pair.Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var requirement in MatchExpressions)
        {
            if (!requirement.Matches(labels))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public bool Equals(LabelSelector? other) => other is not null && string.Equals(_text, other._text, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LabelSelector);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text);

    /// <summary>Formats the selector in canonical Kubernetes selector syntax (<c>app=web,tier in (a,b)</c>; <c>{}</c> when empty).</summary>
    /// <returns>The canonical text; equal selectors give equal text.</returns>
    public override string ToString() => _text;

    private string BuildText()
    {
        if (IsEmpty)
        {
            return "{}";
        }

        var parts = new List<string>();
        foreach (var pair in MatchLabels.Items)
        {
            parts.Add(pair.Key + "=" + pair.Value);
        }

        parts.AddRange(MatchExpressions.Select(e => e.ToString()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return string.Join(',', parts);
    }
}
