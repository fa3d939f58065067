namespace NetPolicy.Compiler.Validation;

/// <summary>Collects diagnostics for one object, filling in kind, name and source location.</summary>
internal sealed class DiagnosticContext(List<PolicyDiagnostic> sink, string kind, string objectName, ObjectSource? source)
{
    public int ErrorCount { get; private set; }

    public void Error(string code, string? fieldPath, string message) => Add(code, DiagnosticSeverity.Error, fieldPath, message);

    public void Warning(string code, string? fieldPath, string message) => Add(code, DiagnosticSeverity.Warning, fieldPath, message);

    public void Info(string code, string? fieldPath, string message) => Add(code, DiagnosticSeverity.Info, fieldPath, message);

    private void Add(string code, DiagnosticSeverity severity, string? fieldPath, string message)
    {
        if (severity == DiagnosticSeverity.Error)
        {
            ErrorCount++;
        }

        sink.Add(new PolicyDiagnostic
        {
            Code = code,
            Severity = severity,
            Message = message,
            ObjectKind = kind,
            ObjectName = objectName,
            FieldPath = fieldPath,
            Location = source?.Locate(fieldPath),
        });
    }
}
