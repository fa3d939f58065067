using System.Text;

namespace NetPolicy.Compiler;

/// <summary>A problem found in the input, with a stable code (see <see cref="DiagnosticCodes"/>).</summary>
public sealed record PolicyDiagnostic
{
    /// <summary>Gets the stable code, for example <c>NP1003</c>.</summary>
    public required string Code { get; init; }

    /// <summary>Gets the severity.</summary>
    public required DiagnosticSeverity Severity { get; init; }

    /// <summary>Gets the message: what is wrong and what to do.</summary>
    public required string Message { get; init; }

    /// <summary>Gets the object kind (<c>NetworkPolicy</c>, <c>Pod</c>, <c>Namespace</c>, ...), or <see langword="null"/>.</summary>
    public string? ObjectKind { get; init; }

    /// <summary>Gets the object, <c>namespace/name</c> (or <c>name</c> for namespaces), or <see langword="null"/>.</summary>
    public string? ObjectName { get; init; }

    /// <summary>Gets the field path, for example <c>spec.ingress[0].from[1].ipBlock.cidr</c>, or <see langword="null"/>.</summary>
    public string? FieldPath { get; init; }

    /// <summary>Gets the source location, when the object came from a file.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Formats the diagnostic as <c>file:line: error NP1003: NetworkPolicy ns/name: spec.x: message</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Location is not null)
        {
            sb.Append(Location).Append(": ");
        }

        sb.Append(Severity switch { DiagnosticSeverity.Error => "error", DiagnosticSeverity.Warning => "warning", _ => "info" })
          .Append(' ').Append(Code).Append(": ");
        if (ObjectName is not null)
        {
            sb.Append(ObjectKind is null ? string.Empty : ObjectKind + " ").Append(ObjectName);
            sb.Append(FieldPath is null ? ": " : " (" + FieldPath + "): ");
        }
        else if (FieldPath is not null)
        {
            sb.Append(FieldPath).Append(": ");
        }

        sb.Append(Message);
        return sb.ToString();
    }
}
