using System.Text;
using NetPolicy.Compiler;

namespace NetPolicy.Analysis;

/// <summary>One finding of an analysis, with a stable code (see <see cref="LintCodes"/>).</summary>
public sealed record LintFinding
{
    /// <summary>Gets the stable code, for example <c>NP4001</c>.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the severity.</summary>
    public required DiagnosticSeverity Severity { get; init; }

    /// <summary>Gets the message: what is wrong and what to do.</summary>
    public required string Message { get; init; }

    /// <summary>Gets the object kind (<c>NetworkPolicy</c> or <c>Pod</c>).</summary>
    public required string ObjectKind { get; init; }

    /// <summary>Gets the object, <c>namespace/name</c>.</summary>
    public required string ObjectName { get; init; }

    /// <summary>Gets the field path, for example <c>spec.ingress[0].from[1]</c>, or <see langword="null"/> for the whole object.</summary>
    public string? FieldPath { get; init; }

    /// <summary>Gets the source location of the field (or of the object), when the object came from a file.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Formats the finding as <c>file:line: warning NP4001: NetworkPolicy ns/name (spec.x): message</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Location is not null)
        {
            sb.Append(Location).Append(": ");
        }

        sb.Append(SeverityName(Severity)).Append(' ').Append(Code).Append(": ")
          .Append(ObjectKind).Append(' ').Append(ObjectName)
          .Append(FieldPath is null ? ": " : " (" + FieldPath + "): ")
          .Append(Message);
        return sb.ToString();
    }

    /// <summary>Returns the lower-case name of a severity: <c>error</c>, <c>warning</c> or <c>info</c>.</summary>
    /// <param name="severity">The severity.</param>
    /// <returns>The name.</returns>
    public static string SeverityName(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };
}
