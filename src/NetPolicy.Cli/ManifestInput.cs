using k8s.Models;
using NetPolicy.Analysis;
using NetPolicy.Compiler;
using NetPolicy.Manifests;

namespace NetPolicy.Cli;

/// <summary>Reads the input paths with <see cref="ManifestReader"/> into a snapshot whose diagnostics carry file:line.</summary>
internal static class ManifestInput
{
    /// <summary>The namespace of objects that name none, as the API server defaults it.</summary>
    private const string DefaultNamespace = "default";

    /// <summary>Reads the inputs.</summary>
    /// <param name="paths">Files, directories or <c>-</c>.</param>
    /// <param name="stdin">What <c>-</c> reads.</param>
    /// <param name="options">Snapshot options.</param>
    /// <returns>The loaded input: the snapshot, the reader's diagnostics followed by the snapshot's, and the objects' sources.</returns>
    public static LoadedInput Load(IReadOnlyList<string> paths, TextReader stdin, ClusterSnapshotOptions options)
    {
        var reader = new ManifestReader(new ManifestReaderOptions { StandardInput = stdin });
        var set = reader.ReadPaths(paths);
        var (snapshot, diagnostics) = set.ToSnapshot(options);
        return new LoadedInput(snapshot, diagnostics) { Sources = SourcesOf(set) };
    }

    private static ObjectSources SourcesOf(ManifestSet set) => ObjectSources.Create(
        set.Policies.SelectMany(p => Entry(set, p, p.Metadata)),
        set.Pods.SelectMany(p => Entry(set, p, p.Metadata)));

    private static IEnumerable<KeyValuePair<string, ObjectSource>> Entry(ManifestSet set, object item, V1ObjectMeta? metadata)
    {
        if (metadata?.Name is { } name && set.Sources.TryGetValue(item, out var source))
        {
            yield return KeyValuePair.Create((metadata.NamespaceProperty ?? DefaultNamespace) + "/" + name, source);
        }
    }
}
