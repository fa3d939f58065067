using System.Collections.Immutable;

namespace NetPolicy.Compiler;

/// <summary>Where an input object came from: its document's location and, optionally, the location of each field.</summary>
/// <remarks>Manifest readers fill <see cref="Fields"/> with paths in the form diagnostics use
/// (<c>spec.ingress[0].from[1].ipBlock.cidr</c>), so a diagnostic can point at the offending line.</remarks>
public sealed record ObjectSource
{
    /// <summary>Gets the location of the object (the start of its document or list item).</summary>
    public required SourceLocation Location { get; init; }

    /// <summary>Gets field paths mapped to their locations; empty when the reader did not record them.</summary>
    /// <remarks>Only looked up when a diagnostic is reported, so readers may supply a lazy or compact implementation.</remarks>
    public IReadOnlyDictionary<string, SourceLocation> Fields { get; init; } = ImmutableDictionary<string, SourceLocation>.Empty;

    /// <summary>Finds the most precise location for a field path, falling back to enclosing fields and then the object.</summary>
    /// <param name="fieldPath">A path such as <c>spec.ingress[0].ports[1].port</c>, or <see langword="null"/>.</param>
    /// <returns>The location.</returns>
    public SourceLocation Locate(string? fieldPath)
    {
        var path = fieldPath;
        while (!string.IsNullOrEmpty(path))
        {
            if (Fields.TryGetValue(path, out var location))
            {
                return location;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            path = cut <= 0 ? null : path[..cut];
        }

        return Location;
    }
}
