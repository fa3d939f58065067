using NetPolicy.Compiler;
using NetPolicy.Manifests;

namespace NetPolicy.Cli;

/// <summary>Reads the input paths with <see cref="ManifestReader"/> into a snapshot whose diagnostics carry file:line.</summary>
internal static class ManifestInput
{
    /// <summary>Reads the inputs.</summary>
    /// <param name="paths">Files, directories or <c>-</c>.</param>
    /// <param name="stdin">What <c>-</c> reads.</param>
    /// <param name="options">Snapshot options.</param>
    /// <returns>The loaded input: the snapshot, and the reader's diagnostics followed by the snapshot's.</returns>
    public static LoadedInput Load(IReadOnlyList<string> paths, TextReader stdin, ClusterSnapshotOptions options)
    {
        var reader = new ManifestReader(new ManifestReaderOptions { StandardInput = stdin });
        var (snapshot, diagnostics) = reader.ReadPaths(paths).ToSnapshot(options);
        return new LoadedInput(snapshot, diagnostics);
    }
}
