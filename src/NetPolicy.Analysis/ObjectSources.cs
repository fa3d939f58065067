using System.Collections.Immutable;
using NetPolicy.Compiler;

namespace NetPolicy.Analysis;

/// <summary>Where the objects of a snapshot came from, by kind and <c>namespace/name</c>, so findings can point at file:line.</summary>
/// <remarks>A <see cref="ClusterSnapshot"/> does not keep its objects' sources; the manifest reader does
/// (<c>NetPolicy.Manifests.ManifestSet.Sources</c>, keyed by object). Build one of these from it with <see cref="Create"/>.</remarks>
public sealed class ObjectSources
{
    private readonly ImmutableDictionary<string, ObjectSource> _policies;
    private readonly ImmutableDictionary<string, ObjectSource> _pods;

    private ObjectSources(ImmutableDictionary<string, ObjectSource> policies, ImmutableDictionary<string, ObjectSource> pods)
    {
        _policies = policies;
        _pods = pods;
    }

    /// <summary>Gets an instance that knows no source.</summary>
    public static ObjectSources None { get; } = new(ImmutableDictionary<string, ObjectSource>.Empty, ImmutableDictionary<string, ObjectSource>.Empty);

    /// <summary>Creates an instance from the sources of policies and pods.</summary>
    /// <param name="policies">Policy sources by <c>namespace/name</c>.</param>
    /// <param name="pods">Pod sources by <c>namespace/name</c>.</param>
    /// <returns>The instance.</returns>
    public static ObjectSources Create(IEnumerable<KeyValuePair<string, ObjectSource>> policies, IEnumerable<KeyValuePair<string, ObjectSource>> pods)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(pods);
        return new ObjectSources(ToDictionary(policies), ToDictionary(pods));
    }

    /// <summary>Finds the location of a policy field.</summary>
    /// <param name="policy">The policy key, <c>namespace/name</c>.</param>
    /// <param name="fieldPath">The field path, or <see langword="null"/> for the object.</param>
    /// <returns>The most precise known location, or <see langword="null"/>.</returns>
    public SourceLocation? LocatePolicy(string policy, string? fieldPath) => _policies.TryGetValue(policy, out var source) ? source.Locate(fieldPath) : null;

    /// <summary>Finds the location of a pod field.</summary>
    /// <param name="pod">The pod key, <c>namespace/name</c>.</param>
    /// <param name="fieldPath">The field path, or <see langword="null"/> for the object.</param>
    /// <returns>The most precise known location, or <see langword="null"/>.</returns>
    public SourceLocation? LocatePod(string pod, string? fieldPath) => _pods.TryGetValue(pod, out var source) ? source.Locate(fieldPath) : null;

    private static ImmutableDictionary<string, ObjectSource> ToDictionary(IEnumerable<KeyValuePair<string, ObjectSource>> items)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, ObjectSource>(StringComparer.Ordinal);
        foreach (var (key, value) in items)
        {
            // The first object of a name wins, as the snapshot keeps the first one.
            builder.TryAdd(key, value);
        }

        return builder.ToImmutable();
    }
}
