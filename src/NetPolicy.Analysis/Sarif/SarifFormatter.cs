using System.Collections.Immutable;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NetPolicy.Compiler;

namespace NetPolicy.Analysis;

/// <summary>Writes findings as a SARIF 2.1.0 log that GitHub code scanning accepts.</summary>
/// <remarks>One run whose <c>tool.driver.rules</c> lists the given rules; one result per finding with <c>ruleId</c>,
/// <c>ruleIndex</c>, <c>level</c> (<c>error</c>, <c>warning</c> or <c>note</c>), <c>message.text</c>, a logical location
/// (the object) and, when the finding has a source location from a file, a physical location
/// (<c>artifactLocation.uri</c> relative to the working directory when possible, <c>region.startLine</c>).
/// See <see href="https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html"/>.</remarks>
public static class SarifFormatter
{
    /// <summary>The SARIF version written.</summary>
    public const string Version = "2.1.0";

    /// <summary>The schema URI written to <c>$schema</c>.</summary>
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    /// <summary>Formats findings as a SARIF log.</summary>
    /// <param name="rules">The rules the tool runs; every finding's code must be one of them.</param>
    /// <param name="findings">The findings.</param>
    /// <param name="toolVersion">The tool version for <c>tool.driver.version</c>.</param>
    /// <returns>The JSON text, indented, ending with a newline.</returns>
    /// <exception cref="ArgumentException">A finding's code is not among <paramref name="rules"/>.</exception>
    public static string Format(IEnumerable<AnalysisRule> rules, IEnumerable<LintFinding> findings, string toolVersion)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(toolVersion);
        var ruleList = rules.ToImmutableArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < ruleList.Length; i++)
        {
            index[ruleList[i].Code] = i;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", SchemaUri);
            writer.WriteString("version", Version);
            writer.WriteStartArray("runs");
            writer.WriteStartObject();
            writer.WriteStartObject("tool");
            writer.WriteStartObject("driver");
            writer.WriteString("name", "netpol");
            writer.WriteString("version", toolVersion);
            writer.WriteStartArray("rules");
            foreach (var rule in ruleList)
            {
                writer.WriteStartObject();
                writer.WriteString("id", rule.Code);
                writer.WriteString("name", rule.Name);
                writer.WriteStartObject("shortDescription");
                writer.WriteString("text", rule.Description);
                writer.WriteEndObject();
                writer.WriteStartObject("defaultConfiguration");
                writer.WriteString("level", Level(rule.DefaultSeverity));
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteStartArray("results");
            foreach (var finding in findings)
            {
                if (!index.TryGetValue(finding.Code, out var ruleIndex))
                {
                    throw new ArgumentException($"Finding code '{finding.Code}' is not among the rules.", nameof(findings));
                }

                WriteResult(writer, finding, ruleIndex);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Returns the SARIF level of a severity.</summary>
    /// <param name="severity">The severity.</param>
    /// <returns><c>error</c>, <c>warning</c> or <c>note</c>.</returns>
    public static string Level(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "note",
    };

    private static void WriteResult(Utf8JsonWriter writer, LintFinding finding, int ruleIndex)
    {
        writer.WriteStartObject();
        writer.WriteString("ruleId", finding.Code);
        writer.WriteNumber("ruleIndex", ruleIndex);
        writer.WriteString("level", Level(finding.Severity));
        writer.WriteStartObject("message");
        writer.WriteString("text", $"{finding.ObjectKind} {finding.ObjectName}{(finding.FieldPath is null ? string.Empty : " (" + finding.FieldPath + ")")}: {finding.Message}");
        writer.WriteEndObject();
        writer.WriteStartArray("locations");
        writer.WriteStartObject();
        if (finding.Location is { } location && ToUri(location.File) is { } uri)
        {
            writer.WriteStartObject("physicalLocation");
            writer.WriteStartObject("artifactLocation");
            writer.WriteString("uri", uri);
            writer.WriteEndObject();
            writer.WriteStartObject("region");
            writer.WriteNumber("startLine", Math.Max(1, location.Line));
            if (location.Column > 0)
            {
                writer.WriteNumber("startColumn", location.Column);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteStartArray("logicalLocations");
        writer.WriteStartObject();
        writer.WriteString("name", finding.ObjectName);
        writer.WriteString("fullyQualifiedName", finding.FieldPath is null ? finding.ObjectName : finding.ObjectName + "/" + finding.FieldPath);
        writer.WriteString("kind", finding.ObjectKind);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteStartObject("partialFingerprints");
        writer.WriteString("netpolFinding/v1", $"{finding.Code}|{finding.ObjectKind}|{finding.ObjectName}|{finding.FieldPath}");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Makes an artifact URI: relative paths keep their form with forward slashes; rooted ones are made relative to
    /// the working directory when they are inside it (code scanning resolves URIs against the repository root), else
    /// become <c>file://</c> URIs.</summary>
    private static string? ToUri(string file)
    {
        if (string.IsNullOrEmpty(file) || file == "-")
        {
            return null; // Standard input has no artifact.
        }

        if (Path.IsPathRooted(file))
        {
            var full = Path.GetFullPath(file);
            var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), full);
            if (Path.IsPathRooted(relative) || relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return new Uri(full).AbsoluteUri;
            }

            file = relative;
        }

        var parts = file.Replace('\\', '/').Split('/');
        return string.Join('/', parts.Where(p => p != ".").Select(Uri.EscapeDataString));
    }
}
