using System.Text;
using NetPolicy.Compiler;
using NetPolicy.Manifests.Yaml;
using YamlDotNet.Core;

namespace NetPolicy.Manifests;

/// <summary>Reads Kubernetes manifests (YAML or JSON) into the namespaces, pods and NetworkPolicies that
/// <see cref="ClusterSnapshot"/> takes, with the file:line of each object and field.</summary>
/// <remarks>
/// <para>Accepts multi-document YAML (<c>---</c>), JSON, <c>kind: List</c> and other <c>*List</c> kinds (as
/// <c>kubectl get -o yaml</c> prints them), and workloads: a Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// ReplicationController, Job or CronJob becomes one pod named after it, with its pod template's labels and container
/// ports (NP1206). Other kinds are skipped (NP1202). Only the fields policy needs are read: metadata name, namespace and
/// labels; pod containers' and init containers' ports, <c>hostNetwork</c>, <c>status.podIP(s)</c>; the whole
/// NetworkPolicy spec.</para>
/// <para>Bad input is data: syntax errors (NP1201), objects without kind (NP1203), fields of the wrong type (NP1204) and
/// unreadable paths (NP1205) become diagnostics, and reading goes on with the next document or file. Input is streamed a
/// document (or list item) at a time. No reflection is used, so the reader is trimming- and AOT-safe.</para>
/// <para>An instance holds only settings and can be used from several threads at once.</para>
/// </remarks>
/// <example>
/// <code>
/// var set = new ManifestReader().ReadPaths(["cluster/", "extra.yaml"]);
/// var snapshot = ClusterSnapshot.Create(set.Policies, set.Pods, set.Namespaces, new ClusterSnapshotOptions { Sources = set.Sources });
/// </code>
/// </example>
public sealed class ManifestReader
{
    private const int BufferSize = 1 << 16;

    private readonly ManifestReaderOptions _options;

    /// <summary>Initializes a new instance of the <see cref="ManifestReader"/> class.</summary>
    /// <param name="options">Options, or <see langword="null"/> for the defaults. They are copied.</param>
    public ManifestReader(ManifestReaderOptions? options = null)
    {
        options ??= new ManifestReaderOptions();
        _options = new ManifestReaderOptions
        {
            RecordFieldLocations = options.RecordFieldLocations,
            ExpandWorkloads = options.ExpandWorkloads,
            StandardInput = options.StandardInput,
        };
    }

    /// <summary>Reads manifests from a string.</summary>
    /// <param name="text">The YAML or JSON text.</param>
    /// <param name="fileName">The name that locations carry.</param>
    /// <returns>The objects, their sources and the diagnostics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="fileName"/> is <see langword="null"/>.</exception>
    public ManifestSet Read(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Read(reader, fileName);
    }

    /// <summary>Reads manifests from a reader, streaming; the reader is not disposed.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="fileName">The name that locations carry.</param>
    /// <returns>The objects, their sources and the diagnostics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="fileName"/> is <see langword="null"/>.</exception>
    public ManifestSet Read(TextReader reader, string fileName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(fileName);
        var builder = new ManifestSetBuilder();
        ReadInto(reader, fileName, builder);
        return builder.Build();
    }

    /// <summary>Reads files, directories and standard input.</summary>
    /// <param name="paths">Paths, each a file (read whatever its extension), a directory (its <c>*.yaml</c>, <c>*.yml</c> and
    /// <c>*.json</c> files, recursively, in ordinal order of their relative paths; hidden entries and symbolic links to
    /// directories are skipped), or <c>-</c> for standard input.</param>
    /// <returns>The objects of all paths in order, their sources and the diagnostics; a path that cannot be read is an NP1205 error.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="paths"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="paths"/> contains <see langword="null"/>.</exception>
    public ManifestSet ReadPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var builder = new ManifestSetBuilder();
        foreach (var path in paths)
        {
            if (path is null)
            {
                throw new ArgumentException("A path is null.", nameof(paths));
            }

            ReadPath(path, builder);
        }

        return builder.Build();
    }

    private void ReadPath(string path, ManifestSetBuilder builder)
    {
        if (path == "-")
        {
            if (_options.StandardInput is { } input)
            {
                ReadInto(input, "-", builder);
            }
            else
            {
                using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, BufferSize);
                ReadInto(stdin, "-", builder);
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            Unreadable(builder, path, "the path is empty.");
            return;
        }

        if (Directory.Exists(path))
        {
            var files = new List<string>();
            CollectFiles(path, string.Empty, files, builder);
            files.Sort(StringComparer.Ordinal);
            foreach (var relative in files)
            {
                ReadFile(Path.Join(path, relative), builder);
            }

            return;
        }

        ReadFile(path, builder);
    }

    private static void CollectFiles(string root, string relative, List<string> files, ManifestSetBuilder builder)
    {
        var directory = relative.Length == 0 ? root : Path.Join(root, relative);
        try
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith('.'))
                {
                    continue;
                }

                // Relative paths use '/' so the order is the same on every OS.
                var entryPath = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                if (entry is DirectoryInfo)
                {
                    if (entry.LinkTarget is null)
                    {
                        CollectFiles(root, entryPath, files, builder);
                    }
                }
                else if (IsManifestFile(entry.Name))
                {
                    files.Add(entryPath);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            Unreadable(builder, directory, ex.Message);
        }
    }

    private static bool IsManifestFile(string name) =>
        name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) ||
        name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) ||
        name.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private void ReadFile(string path, ManifestSetBuilder builder)
    {
        StreamReader reader;
        try
        {
            reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read,
                BufferSize = BufferSize,
                Options = FileOptions.SequentialScan,
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException or ArgumentException or NotSupportedException)
        {
            Unreadable(builder, path, ex is FileNotFoundException or DirectoryNotFoundException ? "no such file or directory." : ex.Message);
            return;
        }

        using (reader)
        {
            ReadInto(reader, path, builder);
        }
    }

    private void ReadInto(TextReader reader, string file, ManifestSetBuilder builder)
    {
        var mapper = new ObjectMapper(file, builder, _options);
        var fast = new FastYamlParser();
        var splitter = new DocumentSplitter(reader);
        try
        {
            while (splitter.TryRead(out var text, out var firstLine))
            {
                if (fast.TryParse(text, firstLine, mapper.Handle, out var delivered))
                {
                    continue;
                }

                // The full parser takes what the fast one does not; list items the fast one already handed over are skipped.
                try
                {
                    new YamlDocumentStream(new StringReader(text), firstLine - 1).ReadAll((node, index) =>
                    {
                        if (index < 0 || index >= delivered)
                        {
                            mapper.Handle(node, index);
                        }
                    });
                }
                catch (YamlException ex)
                {
                    builder.AddDiagnostic(
                        new PolicyDiagnostic
                        {
                            Code = DiagnosticCodes.SyntaxError,
                            Severity = DiagnosticSeverity.Error,
                            Location = new SourceLocation(
                                file,
                                (int)Math.Clamp(ex.Start.Line + firstLine - 1, 1, int.MaxValue),
                                (int)Math.Clamp(ex.Start.Column, 0, int.MaxValue)),
                            Message = $"{SyntaxMessage(ex)}; the rest of this YAML document was skipped.",
                        },
                        null);
                }
            }
        }
        catch (IOException ex)
        {
            Unreadable(builder, file, ex.Message);
        }
    }

    /// <summary>Strips the "(Line: 1, Col: 2, Idx: 3) - (Line: ...): " prefix YamlDotNet puts before its messages.</summary>
    private static string SyntaxMessage(YamlException ex)
    {
        var message = ex.Message;
        if (message.StartsWith("(Line:", StringComparison.Ordinal))
        {
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[(cut + 3)..];
            }
        }

        return message.TrimEnd('.', ' ');
    }

    private static void Unreadable(ManifestSetBuilder builder, string path, string reason) =>
        builder.AddDiagnostic(
            new PolicyDiagnostic
            {
                Code = DiagnosticCodes.UnreadableInput,
                Severity = DiagnosticSeverity.Error,
                Location = new SourceLocation(path, 0),
                Message = $"cannot read '{path}': {reason.TrimEnd('.')}.",
            },
            null);
}
