using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing;

/// <summary>The golden-file format of a reachability matrix: readable text with a stable order, and a diff by pairs.</summary>
/// <remarks>
/// <para>Format (lines starting with <c>#</c> are comments):</para>
/// <code>
/// protocol: TCP
/// port: 8080
/// pods:
///   0 default/netshoot
///   1 production/frontend
/// matrix:
///     0 1
///   0 . X
///   1 . .
/// </code>
/// <para>Pods are sorted by namespace then name; row <c>i</c> column <c>j</c> is the verdict from pod <c>i</c> to pod
/// <c>j</c>: <c>.</c> allowed, <c>X</c> denied (the upstream e2e suite's notation). Lines end with <c>\n</c>.</para>
/// </remarks>
public static class ReachabilitySnapshot
{
    /// <summary>The diagnostic code of a snapshot file that cannot be parsed.</summary>
    public const string InvalidSnapshotCode = "NP1901";

    /// <summary>Formats a matrix as a snapshot file.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The text.</returns>
    public static string Format(ReachabilityMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var order = Enumerable.Range(0, matrix.Pods.Length).OrderBy(i => matrix.Pods[i], StringComparer.Ordinal).ToArray();
        var width = Math.Max(1, (matrix.Pods.Length - 1).ToString(CultureInfo.InvariantCulture).Length);
        var sb = new StringBuilder();
        sb.Append("# NetPolicy.Testing reachability snapshot: ").Append(matrix.Protocol.ToKubernetesName()).Append('/').Append(matrix.Port).Append('\n');
        sb.Append("# Row i, column j: may pod i open a connection to pod j? \".\" allowed, \"X\" denied.\n");
        sb.Append("# Regenerate with NETPOL_UPDATE_SNAPSHOTS=1 and review the diff like code.\n");
        sb.Append("protocol: ").Append(matrix.Protocol.ToKubernetesName()).Append('\n');
        sb.Append("port: ").Append(matrix.Port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("pods:\n");
        for (var i = 0; i < order.Length; i++)
        {
            sb.Append("  ").Append(Index(i, width)).Append(' ').Append(matrix.Pods[order[i]]).Append('\n');
        }

        sb.Append("matrix:\n");
        sb.Append("  ").Append(new string(' ', width));
        for (var j = 0; j < order.Length; j++)
        {
            sb.Append(' ').Append(Index(j, width));
        }

        sb.Append('\n');
        for (var i = 0; i < order.Length; i++)
        {
            sb.Append("  ").Append(Index(i, width));
            for (var j = 0; j < order.Length; j++)
            {
                sb.Append(' ').Append((matrix.Allowed[order[i]][order[j]] ? "." : "X").PadLeft(width));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Parses a snapshot file.</summary>
    /// <param name="text">The text.</param>
    /// <param name="fileName">The file name that errors carry.</param>
    /// <returns>The matrix, pods sorted.</returns>
    /// <exception cref="PolicyInputException">The text is not a snapshot; the message names file:line and what is wrong.</exception>
    public static ReachabilityMatrix Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        TransportProtocol? protocol = null;
        int? port = null;
        var pods = new List<string>();
        var rows = new List<ImmutableArray<bool>>();
        var section = string.Empty;
        var headerSeen = false;
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            PolicyInputException Error(string message) => new(
            [
                new PolicyDiagnostic
                {
                    Code = InvalidSnapshotCode,
                    Severity = DiagnosticSeverity.Error,
                    Location = new SourceLocation(fileName, n + 1),
                    Message = message + " Delete the file and run the test again to write it anew.",
                },
            ]);

            if (!line.StartsWith(' '))
            {
                var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
                var key = colon < 0 ? trimmed : trimmed[..colon];
                var value = colon < 0 ? string.Empty : trimmed[(colon + 1)..].Trim();
                switch (key)
                {
                    case "protocol":
                        protocol = TransportProtocolNames.TryParse(value, out var p) ? p : throw Error($"'{value}' is not TCP, UDP or SCTP.");
                        break;
                    case "port":
                        port = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q is >= 1 and <= 65535
                            ? q : throw Error($"'{value}' is not a port (1–65535).");
                        break;
                    case "pods" or "matrix":
                        section = key;
                        break;
                    default:
                        throw Error($"unexpected line '{trimmed}'; expected protocol:, port:, pods: or matrix:.");
                }

                continue;
            }

            var tokens = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (section == "pods")
            {
                if (tokens.Length != 2 || !int.TryParse(tokens[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index != pods.Count)
                {
                    throw Error($"expected '  {pods.Count} namespace/name' in the pods list.");
                }

                pods.Add(tokens[1]);
            }
            else if (section == "matrix")
            {
                if (!headerSeen)
                {
                    headerSeen = true;
                    continue;
                }

                if (!int.TryParse(tokens[0], NumberStyles.None, CultureInfo.InvariantCulture, out var row) || row != rows.Count || row >= pods.Count)
                {
                    throw Error($"expected matrix row {rows.Count} of {pods.Count}.");
                }

                if (tokens.Length != pods.Count + 1 || tokens.Skip(1).Any(t => t is not ("." or "X")))
                {
                    throw Error($"matrix row {row} must have {pods.Count} cells, each '.' or 'X'.");
                }

                rows.Add([.. tokens.Skip(1).Select(t => t == ".")]);
            }
            else
            {
                throw Error($"unexpected indented line '{trimmed}' outside pods: and matrix:.");
            }
        }

        if (protocol is null || port is null || rows.Count != pods.Count)
        {
            throw new PolicyInputException(
            [
                new PolicyDiagnostic
                {
                    Code = InvalidSnapshotCode,
                    Severity = DiagnosticSeverity.Error,
                    Location = new SourceLocation(fileName, lines.Length),
                    Message = (protocol is null ? "'protocol:' is missing. " : string.Empty) + (port is null ? "'port:' is missing. " : string.Empty) +
                        (rows.Count != pods.Count ? $"the matrix has {rows.Count} row(s) for {pods.Count} pod(s). " : string.Empty) +
                        "Delete the file and run the test again to write it anew.",
                },
            ]);
        }

        return new ReachabilityMatrix(protocol.Value, port.Value, [.. pods], [.. rows]);
    }

    /// <summary>Lists the differences between two matrices, one line each, in a stable order: protocol or port, pods
    /// removed and added, then every pair of common pods whose verdict changed.</summary>
    /// <param name="expected">The golden matrix.</param>
    /// <param name="actual">The current matrix.</param>
    /// <returns>The differences; empty when the matrices are the same.</returns>
    public static ImmutableArray<string> Diff(ReachabilityMatrix expected, ReachabilityMatrix actual) =>
        [.. DiffPairs(expected, actual).Select(d => d.Text)];

    /// <summary>Compares, creates or updates a snapshot file.</summary>
    internal static SnapshotOutcome Verify(ReachabilityMatrix actual, string path, ReachabilitySnapshotOptions options, Func<string, string, string>? explain)
    {
        var text = Format(actual);
        if (!File.Exists(path))
        {
            if (!options.CreateMissing && !options.Update)
            {
                throw new PolicyAssertionException(
                    $"The reachability snapshot {path} does not exist. Run the test locally (or with {ReachabilitySnapshotOptions.UpdateVariable}=1) to write it, review it and commit it; under CI=true missing snapshots are not written.");
            }

            Write(path, text);
            return SnapshotOutcome.Created;
        }

        var expected = Parse(File.ReadAllText(path), path);
        var differences = DiffPairs(expected, actual);
        if (differences.Count == 0)
        {
            return SnapshotOutcome.Matched;
        }

        if (options.Update)
        {
            Write(path, text);
            return SnapshotOutcome.Updated;
        }

        var sb = new StringBuilder();
        sb.Append("The reachability matrix ").Append(actual.Protocol.ToKubernetesName()).Append('/').Append(actual.Port)
          .Append(" differs from the snapshot ").Append(path).Append(" in ").Append(differences.Count).Append(" place(s):").AppendLine();
        const int Shown = 100;
        foreach (var (text1, from, to) in differences.Take(Shown))
        {
            sb.Append("  ").AppendLine(text1);
            if (from is not null && to is not null && explain is not null)
            {
                sb.Append("      ").AppendLine(explain(from, to));
            }
        }

        if (differences.Count > Shown)
        {
            sb.Append("  ... and ").Append(differences.Count - Shown).AppendLine(" more.");
        }

        sb.Append("If the change is intended, run the tests with ").Append(ReachabilitySnapshotOptions.UpdateVariable).Append("=1 and commit the file.");
        throw new PolicyAssertionException(sb.ToString());
    }

    private static List<(string Text, string? From, string? To)> DiffPairs(ReachabilityMatrix expected, ReachabilityMatrix actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var result = new List<(string, string?, string?)>();
        if (expected.Protocol != actual.Protocol || expected.Port != actual.Port)
        {
            result.Add(($"the snapshot is for {expected.Protocol.ToKubernetesName()}/{expected.Port}, the matrix for {actual.Protocol.ToKubernetesName()}/{actual.Port}", null, null));
        }

        var before = expected.Pods.ToHashSet(StringComparer.Ordinal);
        var after = actual.Pods.ToHashSet(StringComparer.Ordinal);
        foreach (var pod in expected.Pods.Where(p => !after.Contains(p)).Order(StringComparer.Ordinal))
        {
            result.Add(($"pod removed: {pod}", null, null));
        }

        foreach (var pod in actual.Pods.Where(p => !before.Contains(p)).Order(StringComparer.Ordinal))
        {
            var outgoing = actual.Pods.Count(to => to != pod && actual[pod, to]);
            var incoming = actual.Pods.Count(from => from != pod && actual[from, pod]);
            result.Add(($"pod added: {pod} (reaches {outgoing}, reached by {incoming} of the other {actual.Pods.Length - 1} pods)", null, null));
        }

        var common = expected.Pods.Where(after.Contains).Order(StringComparer.Ordinal).ToList();
        foreach (var from in common)
        {
            foreach (var to in common)
            {
                var was = expected[from, to];
                var now = actual[from, to];
                if (was != now)
                {
                    result.Add(($"{from} -> {to}: was {(was ? "allowed" : "denied")}, now {(now ? "allowed" : "denied")}", from, to));
                }
            }
        }

        return result;
    }

    private static void Write(string path, string text)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, text, new UTF8Encoding(false));
    }

    private static string Index(int i, int width) => i.ToString(CultureInfo.InvariantCulture).PadLeft(width);
}
