using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis;

/// <summary>The result of <see cref="ConnectionDiffer"/>: connections opened, closed and changed, and pods added and removed.</summary>
public sealed class ConnectionDiff
{
    internal ConnectionDiff(
        ImmutableArray<ConnectionChange> changes,
        ImmutableArray<string> addedPods,
        ImmutableArray<string> removedPods,
        ImmutableArray<PortClass> portClasses,
        ImmutableArray<ConnectionEndpoint> addressRanges)
    {
        Changes = changes;
        AddedPods = addedPods;
        RemovedPods = removedPods;
        PortClasses = portClasses;
        AddressRanges = addressRanges;
    }

    /// <summary>Gets the port classes every connection was decided for, per protocol (TCP, UDP, SCTP) in ascending order, the class of other ports last.</summary>
    public ImmutableArray<PortClass> PortClasses { get; }

    /// <summary>Gets the address ranges outside the cluster that connections were decided for (empty when external connections were not compared).</summary>
    public ImmutableArray<ConnectionEndpoint> AddressRanges { get; }

    /// <summary>Gets every change, sorted by kind (opened, closed, changed), source, destination, protocol and port.</summary>
    public ImmutableArray<ConnectionChange> Changes { get; }

    /// <summary>Gets the pods only the after set has, sorted.</summary>
    public ImmutableArray<string> AddedPods { get; }

    /// <summary>Gets the pods only the before set has, sorted.</summary>
    public ImmutableArray<string> RemovedPods { get; }

    /// <summary>Gets the opened connections.</summary>
    public IEnumerable<ConnectionChange> Opened => Changes.Where(c => c.Kind == ConnectionChangeKind.Opened);

    /// <summary>Gets the closed connections.</summary>
    public IEnumerable<ConnectionChange> Closed => Changes.Where(c => c.Kind == ConnectionChangeKind.Closed);

    /// <summary>Gets the connections allowed by a different rule.</summary>
    public IEnumerable<ConnectionChange> Changed => Changes.Where(c => c.Kind == ConnectionChangeKind.Changed);

    /// <summary>Gets a value indicating whether any connection opened.</summary>
    public bool HasOpened => Changes.Any(c => c.Kind == ConnectionChangeKind.Opened);

    /// <summary>Gets a value indicating whether nothing differs (no change, no pod added or removed).</summary>
    public bool IsEmpty => Changes.IsEmpty && AddedPods.IsEmpty && RemovedPods.IsEmpty;

    /// <summary>Gets the one-line summary, for example <c>2 opened, 1 closed, 0 changed; 1 pod added, 0 removed</c>.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Opened.Count()} opened, {Closed.Count()} closed, {Changed.Count()} changed; {AddedPods.Length} pod(s) added, {RemovedPods.Length} removed");

    /// <summary>Formats the diff as text: the summary, then one line per pod added or removed and per change.</summary>
    /// <returns>The text.</returns>
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.Append("connections: ").Append(Summary).Append('\n');
        foreach (var pod in AddedPods)
        {
            sb.Append("added pod ").Append(pod).Append('\n');
        }

        foreach (var pod in RemovedPods)
        {
            sb.Append("removed pod ").Append(pod).Append('\n');
        }

        foreach (var change in Changes)
        {
            sb.Append(change).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Formats the diff as Markdown for a pull-request comment: a summary line, then a table per kind of change.</summary>
    /// <returns>The Markdown text.</returns>
    public string ToMarkdown() => ToMarkdown(int.MaxValue);

    /// <summary>Formats the diff as Markdown for a pull-request comment, with at most <paramref name="maxRowsPerTable"/> rows per
    /// table (comments have a size limit); a line under a cut table says how many rows were left out.</summary>
    /// <param name="maxRowsPerTable">The most rows a table shows, at least 1.</param>
    /// <returns>The Markdown text.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRowsPerTable"/> is less than 1.</exception>
    public string ToMarkdown(int maxRowsPerTable)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRowsPerTable, 1);
        var sb = new StringBuilder();
        sb.Append("### NetworkPolicy connection diff\n\n");
        sb.Append("**").Append(Summary).Append("**\n");
        if (IsEmpty)
        {
            sb.Append("\nNo connection changes.\n");
            return sb.ToString();
        }

        if (!AddedPods.IsEmpty || !RemovedPods.IsEmpty)
        {
            sb.Append('\n');
            if (!AddedPods.IsEmpty)
            {
                sb.Append("Pods added: ").Append(string.Join(", ", AddedPods.Select(Code))).Append('\n');
            }

            if (!RemovedPods.IsEmpty)
            {
                sb.Append("Pods removed: ").Append(string.Join(", ", RemovedPods.Select(Code))).Append('\n');
            }
        }

        Table(sb, "Opened", Opened.ToList(), maxRowsPerTable, "Allowed by (after)", c => Rules(c.After));
        Table(sb, "Closed", Closed.ToList(), maxRowsPerTable, "Denied by (after) / allowed before by", c => Denied(c.After) + "<br>before: " + Rules(c.Before));
        Table(sb, "Changed", Changed.ToList(), maxRowsPerTable, "Before → after", c => Rules(c.Before) + " → " + Rules(c.After));
        return sb.ToString();
    }

    /// <summary>Writes the diff as a JSON object (<c>schemaVersion</c>, <c>summary</c>, <c>addedPods</c>, <c>removedPods</c>, <c>changes</c>).</summary>
    /// <param name="writer">The writer.</param>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", 1);
        writer.WriteStartObject("summary");
        writer.WriteNumber("opened", Opened.Count());
        writer.WriteNumber("closed", Closed.Count());
        writer.WriteNumber("changed", Changed.Count());
        writer.WriteNumber("addedPods", AddedPods.Length);
        writer.WriteNumber("removedPods", RemovedPods.Length);
        writer.WriteEndObject();
        WriteStrings(writer, "addedPods", AddedPods);
        WriteStrings(writer, "removedPods", RemovedPods);
        writer.WriteStartArray("changes");
        foreach (var change in Changes)
        {
            writer.WriteStartObject();
            writer.WriteString("kind", change.Kind.ToString().ToLowerInvariant());
            WriteEndpoint(writer, "source", change.Source);
            WriteEndpoint(writer, "destination", change.Destination);
            writer.WriteString("protocol", change.Ports.Protocol.ToKubernetesName());
            writer.WriteStartObject("ports");
            writer.WriteString("text", change.Ports.ToString());
            writer.WriteNumber("first", change.Ports.First);
            writer.WriteNumber("last", change.Ports.Last);
            writer.WriteBoolean("other", change.Ports.IsOther);
            writer.WriteEndObject();
            WriteVerdict(writer, "before", change.Before);
            WriteVerdict(writer, "after", change.After);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Turns the changes into findings (codes NP4101–NP4103) for SARIF, located at the rule that allows an opened or
    /// changed connection after the change, or at the first policy that denies a closed one.</summary>
    /// <param name="afterSources">Where the after set's objects came from.</param>
    /// <returns>The findings, in the order of <see cref="Changes"/>.</returns>
    public ImmutableArray<LintFinding> ToFindings(ObjectSources afterSources)
    {
        ArgumentNullException.ThrowIfNull(afterSources);
        var findings = ImmutableArray.CreateBuilder<LintFinding>(Changes.Length);
        foreach (var change in Changes)
        {
            var (code, severity) = change.Kind switch
            {
                ConnectionChangeKind.Opened => (LintCodes.ConnectionOpened, DiagnosticSeverity.Warning),
                ConnectionChangeKind.Closed => (LintCodes.ConnectionClosed, DiagnosticSeverity.Warning),
                _ => (LintCodes.ConnectionChanged, DiagnosticSeverity.Info),
            };
            string kind;
            string name;
            string? field = null;
            if ((change.After.EgressRule ?? change.After.IngressRule) is { } rule)
            {
                (kind, name, field) = ("NetworkPolicy", rule.Policy, rule.RulePath);
            }
            else if (change.After.DenyingPolicies.FirstOrDefault() is { } policy)
            {
                (kind, name) = ("NetworkPolicy", policy);
            }
            else
            {
                (kind, name) = ("Pod", change.Destination.Pod ?? change.Source.Pod!);
            }

            findings.Add(new LintFinding
            {
                Code = code,
                Severity = severity,
                ObjectKind = kind,
                ObjectName = name,
                FieldPath = field,
                Location = kind == "Pod" ? afterSources.LocatePod(name, null) : afterSources.LocatePolicy(name, field),
                Message = $"{change.Kind.ToString().ToLowerInvariant()}: {change.Source} -> {change.Destination} {change.Ports}: {change.Explain()}",
            });
        }

        return findings.MoveToImmutable();
    }

    private static void Table(StringBuilder sb, string title, List<ConnectionChange> changes, int maxRows, string header, Func<ConnectionChange, string> why)
    {
        if (changes.Count == 0)
        {
            return;
        }

        sb.Append("\n#### ").Append(title).Append(" (").Append(changes.Count.ToString(CultureInfo.InvariantCulture)).Append(")\n\n");
        sb.Append("| Source | Destination | Port | ").Append(header).Append(" |\n");
        sb.Append("|---|---|---|---|\n");
        foreach (var c in changes.Take(maxRows))
        {
            sb.Append("| ").Append(Code(c.Source.Name)).Append(" | ").Append(Code(c.Destination.Name)).Append(" | ")
              .Append(c.Ports).Append(" | ").Append(Cell(why(c))).Append(" |\n");
        }

        if (changes.Count > maxRows)
        {
            sb.Append("\n… and ").Append((changes.Count - maxRows).ToString(CultureInfo.InvariantCulture)).Append(" more ").Append(title.ToLowerInvariant()).Append(" connection(s) not shown.\n");
        }
    }

    private static string Code(string text) => "`" + text.Replace("`", "'", StringComparison.Ordinal) + "`";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "<br>", StringComparison.Ordinal);

    private static string Rules(ConnectionVerdict verdict)
    {
        if (verdict.NoCommonFamily)
        {
            return "no common address family";
        }

        var parts = new List<string>(2)
        {
            "egress: " + Side(verdict.EgressRule, verdict.EgressPolicies, verdict.EgressAllowed, verdict.EgressPoliced),
            "ingress: " + Side(verdict.IngressRule, verdict.IngressPolicies, verdict.IngressAllowed, verdict.IngressPoliced),
        };
        return string.Join("; ", parts);
    }

    private static string Side(RuleReference? rule, ImmutableArray<string> policies, bool allowed, bool policed) =>
        !policed ? "not policed" : rule is not null ? Code(ConnectionVerdict.Describe(rule)) : policies.IsEmpty ? "not isolated" : allowed ? "allowed" : "denied";

    private static string Denied(ConnectionVerdict verdict) =>
        verdict.NoCommonFamily ? "no common address family" : string.Join(", ", verdict.DenyingPolicies.Select(Code));

    private static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteEndpoint(Utf8JsonWriter writer, string name, ConnectionEndpoint endpoint)
    {
        writer.WriteStartObject(name);
        if (endpoint.Pod is { } pod)
        {
            writer.WriteString("pod", pod);
        }
        else
        {
            writer.WriteNull("pod");
            WriteStrings(writer, "cidrs", endpoint.Cidrs.Select(c => c.ToString()));
            writer.WriteString("address", endpoint.RepresentativeAddress!.ToString());
        }

        writer.WriteString("name", endpoint.Name);
        writer.WriteEndObject();
    }

    private static void WriteVerdict(Utf8JsonWriter writer, string name, ConnectionVerdict verdict)
    {
        writer.WriteStartObject(name);
        writer.WriteBoolean("allowed", verdict.Allowed);
        writer.WriteBoolean("noCommonFamily", verdict.NoCommonFamily);
        WriteDirection(writer, "egress", verdict.EgressPoliced, verdict.EgressPolicies, verdict.EgressAllowed, verdict.EgressRule);
        WriteDirection(writer, "ingress", verdict.IngressPoliced, verdict.IngressPolicies, verdict.IngressAllowed, verdict.IngressRule);
        WriteStrings(writer, "denyingPolicies", verdict.DenyingPolicies);
        writer.WriteString("text", verdict.Explain());
        writer.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter writer, string name, bool policed, ImmutableArray<string> policies, bool allowed, RuleReference? rule)
    {
        writer.WriteStartObject(name);
        writer.WriteBoolean("policed", policed);
        writer.WriteBoolean("isolated", !policies.IsEmpty);
        writer.WriteBoolean("allowed", allowed);
        WriteStrings(writer, "policies", policies);
        if (rule is null)
        {
            writer.WriteNull("rule");
        }
        else
        {
            writer.WriteStartObject("rule");
            writer.WriteString("policy", rule.Policy);
            writer.WriteString("direction", rule.Direction == PolicyDirection.Ingress ? "ingress" : "egress");
            writer.WriteNumber("rule", rule.RuleIndex);
            if (rule.PeerIndex is int peer) { writer.WriteNumber("peer", peer); } else { writer.WriteNull("peer"); }
            if (rule.PortIndex is int port) { writer.WriteNumber("port", port); } else { writer.WriteNull("port"); }
            writer.WriteString("text", rule.ToString());
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
