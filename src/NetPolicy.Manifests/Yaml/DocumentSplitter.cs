using System.Text;

namespace NetPolicy.Manifests.Yaml;

/// <summary>Splits a YAML stream into documents at the <c>---</c> and <c>...</c> marker lines, reading the text in chunks.</summary>
/// <remarks>A marker at the start of a line always separates documents in YAML (it may not occur inside a scalar), so
/// splitting needs no parsing, and a broken document cannot take the following ones down with it. A marker line with
/// content after it (<c>--- !tag</c>) and directive lines (<c>%YAML</c>) stay in the document text for the full parser.</remarks>
internal sealed class DocumentSplitter(TextReader reader)
{
    private readonly TextReader _reader = reader;
    private readonly StringBuilder _document = new();
    private char[] _buffer = new char[1 << 16];
    private int _start;
    private int _end;
    private bool _eof;
    private int _line;

    /// <summary>Reads the next document.</summary>
    /// <param name="text">The document text, lines ending in <c>\n</c>.</param>
    /// <param name="firstLine">The 1-based line of the file on which <paramref name="text"/> starts.</param>
    /// <returns><see langword="false"/> at the end of the input.</returns>
    public bool TryRead(out string text, out int firstLine)
    {
        _document.Clear();
        firstLine = _line + 1;
        var hasContent = false;
        var directives = false;
        var any = false;
        while (TryReadLine(out var line))
        {
            any = true;
            if (_line == 1 && line.Length > 0 && line[0] == '\uFEFF')
            {
                line = line[1..];
            }

            if (IsMarker(line, '-') && !directives)
            {
                if (hasContent)
                {
                    // The marker starts the next document: keep it for the next call unless it carries content.
                    PushBack(line);
                    break;
                }

                // Leading marker of this document: drop it unless content follows it on the line.
                if (HasContentAfterMarker(line))
                {
                    _document.Append(line).Append('\n');
                    hasContent = true;
                }
                else
                {
                    _document.Clear();
                    firstLine = _line + 1;
                }

                continue;
            }

            if (IsMarker(line, '.'))
            {
                if (hasContent || directives)
                {
                    break;
                }

                _document.Clear();
                firstLine = _line + 1;
                continue;
            }

            if (!hasContent && line.Length > 0 && line[0] == '%')
            {
                // A directive belongs to the document its following marker starts.
                directives = true;
            }

            if (directives && IsMarker(line, '-'))
            {
                directives = false;
                hasContent = true;
            }

            _document.Append(line).Append('\n');
            if (!hasContent && !IsBlankOrComment(line))
            {
                hasContent = !directives;
            }
        }

        text = _document.ToString();
        return any || _pushedBack;
    }

    private bool _pushedBack;
    private string? _pending;

    private void PushBack(ReadOnlySpan<char> line)
    {
        _pending = line.ToString();
        _pushedBack = true;
        _line--;
    }

    private static bool IsMarker(ReadOnlySpan<char> line, char c) =>
        line.Length >= 3 && line[0] == c && line[1] == c && line[2] == c && (line.Length == 3 || line[3] is ' ' or '\t');

    private static bool HasContentAfterMarker(ReadOnlySpan<char> line)
    {
        var rest = line[3..].Trim(" \t");
        return rest.Length > 0 && rest[0] != '#';
    }

    private static bool IsBlankOrComment(ReadOnlySpan<char> line)
    {
        var trimmed = line.TrimStart(" \t");
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private bool TryReadLine(out ReadOnlySpan<char> line)
    {
        if (_pending is not null)
        {
            line = _pending;
            _pending = null;
            _pushedBack = false;
            _line++;
            return true;
        }

        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf('\n');
            if (newline >= 0)
            {
                line = _buffer.AsSpan(_start, newline);
                _start += newline + 1;
                break;
            }

            if (_eof)
            {
                if (_start == _end)
                {
                    line = default;
                    return false;
                }

                line = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                break;
            }

            Fill();
        }

        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        _line++;
        return true;
    }

    private void Fill()
    {
        var remaining = _end - _start;
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, remaining);
            _start = 0;
            _end = remaining;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _reader.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
        }

        _end += read;
    }
}
