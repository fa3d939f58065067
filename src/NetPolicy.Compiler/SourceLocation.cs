namespace NetPolicy.Compiler;

/// <summary>A position in an input file, 1-based.</summary>
/// <param name="File">The file path as given to the reader (<c>-</c> for standard input).</param>
/// <param name="Line">The 1-based line.</param>
/// <param name="Column">The 1-based column, or 0 when unknown.</param>
public sealed record SourceLocation(string File, int Line, int Column = 0)
{
    /// <summary>Formats the location as <c>file:line</c> (or <c>file:line:column</c>).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Column > 0 ? $"{File}:{Line}:{Column}" : $"{File}:{Line}";
}
