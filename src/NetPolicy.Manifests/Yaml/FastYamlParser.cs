using System.Buffers;
using System.Globalization;
using System.Text;

namespace NetPolicy.Manifests.Yaml;

/// <summary>A fast parser for the YAML that Kubernetes manifests use in practice: block mappings and sequences (including
/// <c>key:</c> followed by <c>- item</c> at the same indentation), single-line plain and quoted scalars, literal block
/// scalars, comments, and flow collections (so JSON). It builds the same trees as <see cref="YamlDocumentStream"/>.</summary>
/// <remarks>Anything else (anchors, tags, folded or multi-line scalars, complex keys, directives) and anything malformed
/// makes <see cref="TryParse"/> give up, and the document goes to YamlDotNet, which handles the full language and words
/// the syntax errors. YamlDotNet alone reads about 6 MB/s; this reads several times that.</remarks>
internal sealed class FastYamlParser
{
    private const int MaxDepth = 100;
    private const int MaxInterned = 20_000;

    private static readonly SearchValues<char> s_doubleQuoteStops = SearchValues.Create("\"\\\n");
    private static readonly SearchValues<char> s_singleQuoteStops = SearchValues.Create("'\n");

    private readonly Dictionary<string, string> _interned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _internLookup;
    private readonly StringBuilder _scratch = new();
    private string _s = string.Empty;
    private int _pos;
    private int _line;
    private int _lineStart;
    private int _depth;
    private int _flowIndent = -1;
    private Action<YamlNode, int>? _onObject;
    private int _delivered;

    public FastYamlParser()
    {
        _internLookup = _interned.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Parses one document, calling <paramref name="onObject"/> as <see cref="YamlDocumentStream.ReadAll"/> does.</summary>
    /// <param name="text">The document text.</param>
    /// <param name="firstLine">The file line the text starts on.</param>
    /// <param name="onObject">The callback.</param>
    /// <param name="delivered">The number of top-level list items already handed to <paramref name="onObject"/>, also on failure.</param>
    /// <returns><see langword="false"/> when the document needs the full parser.</returns>
    public bool TryParse(string text, int firstLine, Action<YamlNode, int> onObject, out int delivered)
    {
        _s = text;
        _pos = 0;
        _line = firstLine;
        _lineStart = 0;
        _depth = 0;
        _flowIndent = -1;
        _onObject = onObject;
        _delivered = 0;
        try
        {
            if (text.StartsWith("---", StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal))
            {
                delivered = 0;
                return false;
            }

            if (!SkipToContent())
            {
                delivered = 0;
                return true;
            }

            if (Column != 0)
            {
                throw Unsupported.Instance;
            }

            var root = ParseBlockNodeHere(-1, isRoot: true);
            if (_pos < _s.Length)
            {
                throw Unsupported.Instance;
            }

            if (root is not null)
            {
                onObject(root, -1);
            }

            delivered = _delivered;
            return true;
        }
        catch (Unsupported)
        {
            delivered = _delivered;
            return false;
        }
        finally
        {
            _s = string.Empty;
            _onObject = null;
        }
    }

    private int Column => _pos - _lineStart;

    private char Current => _pos < _s.Length ? _s[_pos] : '\n';

    private char Peek(int offset) => _pos + offset < _s.Length ? _s[_pos + offset] : '\n';

    /// <summary>Parses the node starting at the first content character of a line (or after <c>- </c>); returns
    /// <see langword="null"/> when the root was streamed item by item.</summary>
    private YamlNode? ParseBlockNodeHere(int parentIndent, bool isRoot = false)
    {
        var c = Current;
        if (c == '-' && IsBlankOrEnd(Peek(1)))
        {
            return ParseBlockSequence(Column, null);
        }

        if (c is not ('[' or '{') && FindKeyColon() >= 0)
        {
            return ParseBlockMapping(Column, isRoot);
        }

        return ParseInlineValue(parentIndent, allowCompact: false, isRoot);
    }

    private YamlMapping? ParseBlockMapping(int indent, bool isRoot)
    {
        Enter();
        var mapping = new YamlMapping(_line, Column + 1);
        var streamed = false;
        while (true)
        {
            var key = ParseKey();
            YamlNode value;
            if (isRoot && key.Value == "items" && NextLineStartsSequence(indent))
            {
                // Stream the items of a list one by one.
                ParseBlockSequence(Column, item => _onObject!(item, _delivered++));
                streamed = true;
                value = new YamlScalar(string.Empty, true, false, key.Line, key.Column);
            }
            else if (isRoot && key.Value == "items" && NextIsFlowSequence())
            {
                _flowIndent = indent;
                StreamFlowItems();
                EndOfValueLine(indent);
                streamed = true;
                value = new YamlScalar(string.Empty, true, false, key.Line, key.Column);
            }
            else
            {
                value = ParseMappingValue(indent);
            }

            if (!streamed || key.Value != "items")
            {
                mapping.Entries.Add(new(key, value));
            }

            if (_pos >= _s.Length || Column < indent)
            {
                break;
            }

            if (Column > indent || (Current == '-' && IsBlankOrEnd(Peek(1))))
            {
                throw Unsupported.Instance;
            }
        }

        Leave();
        return streamed ? null : mapping;
    }

    private bool NextIsFlowSequence()
    {
        SkipSpaces();
        return Current == '[';
    }

    /// <summary>After a key with nothing on its line: is the value a block sequence at the key's indentation or deeper?</summary>
    private bool NextLineStartsSequence(int indent)
    {
        var save = (_pos, _line, _lineStart);
        SkipSpaces();
        if (Current is not ('\n' or '#'))
        {
            _pos = save._pos;
            return false;
        }

        var found = SkipToContent() && Column >= indent && Current == '-' && IsBlankOrEnd(Peek(1));
        if (!found)
        {
            (_pos, _line, _lineStart) = save;
        }

        return found;
    }

    private YamlNode ParseMappingValue(int indent)
    {
        SkipSpaces();
        if (Current is '\n' or '#')
        {
            var line = _line;
            var column = Column + 1;
            if (!SkipToContent())
            {
                return new YamlScalar(string.Empty, true, false, line, column);
            }

            if (Column > indent)
            {
                return ParseBlockNodeHere(indent)!;
            }

            if (Column == indent && Current == '-' && IsBlankOrEnd(Peek(1)))
            {
                return ParseBlockSequence(indent, null);
            }

            return new YamlScalar(string.Empty, true, false, line, column);
        }

        return ParseInlineValue(indent, allowCompact: false)!;
    }

    private YamlSequence ParseBlockSequence(int indent, Action<YamlNode>? itemSink)
    {
        Enter();
        var sequence = new YamlSequence(_line, Column + 1);
        while (true)
        {
            _pos++; // '-'
            SkipSpaces();
            YamlNode item;
            if (Current is '\n' or '#')
            {
                var line = _line;
                var column = Column + 1;
                item = SkipToContent() && Column > indent
                    ? ParseBlockNodeHere(indent)!
                    : new YamlScalar(string.Empty, true, false, line, column);
            }
            else
            {
                item = ParseInlineValue(indent, allowCompact: true)!;
            }

            if (itemSink is null)
            {
                sequence.Items.Add(item);
            }
            else
            {
                itemSink(item);
            }

            if (_pos >= _s.Length || Column < indent)
            {
                break;
            }

            if (Column > indent)
            {
                throw Unsupported.Instance;
            }

            if (!(Current == '-' && IsBlankOrEnd(Peek(1))))
            {
                break;
            }
        }

        Leave();
        return sequence;
    }

    /// <summary>Parses a value that starts on the current line after <c>key: </c> or <c>- </c>, and moves to the next content line.</summary>
    private YamlNode? ParseInlineValue(int parentIndent, bool allowCompact, bool isRoot = false)
    {
        var c = Current;
        var line = _line;
        var column = Column + 1;
        YamlNode node;
        switch (c)
        {
            case '[' or '{':
                _flowIndent = parentIndent;
                node = ParseFlow(isRoot)!;
                EndOfValueLine(parentIndent);
                return isRoot && node is null ? null : node;
            case '"' or '\'':
            {
                if (allowCompact && FindKeyColon() >= 0)
                {
                    return ParseBlockMapping(Column, false);
                }

                node = new YamlScalar(c == '"' ? ReadDoubleQuoted() : ReadSingleQuoted(), false, false, line, column);
                EndOfValueLine(parentIndent);
                return node;
            }

            case '|':
                return ParseLiteral(parentIndent, line, column);
            case '-' when IsBlankOrEnd(Peek(1)):
                if (!allowCompact)
                {
                    throw Unsupported.Instance;
                }

                return ParseBlockSequence(Column, null);
            case '>' or '&' or '*' or '!' or '%' or '@' or '`' or ']' or '}' or ',' or '#':
                throw Unsupported.Instance;
            case '?' or ':':
                throw Unsupported.Instance;
        }

        if (FindKeyColon() >= 0)
        {
            if (!allowCompact)
            {
                throw Unsupported.Instance;
            }

            return ParseBlockMapping(Column, false);
        }

        // A plain scalar: the rest of the line up to a comment.
        var start = _pos;
        var end = start;
        while (_pos < _s.Length && _s[_pos] != '\n')
        {
            var ch = _s[_pos];
            if (ch == '#' && (_s[_pos - 1] is ' ' or '\t'))
            {
                break;
            }

            if (ch is '\t' or '*' or '&' or '!' || (ch == ':' && IsBlankOrEnd(Peek(1))))
            {
                // Tabs, and indicator characters inside plain scalars, which YamlDotNet reads differently from the spec.
                throw Unsupported.Instance;
            }

            _pos++;
            if (ch != ' ')
            {
                end = _pos;
            }
        }

        node = new YamlScalar(Text(start, end - start), true, false, line, column);
        EndOfValueLine(parentIndent);
        return node;
    }

    /// <summary>Skips the rest of a line after a value (spaces, a comment) and moves to the next content line, which must
    /// not be indented deeper than the parent (that would be a multi-line scalar).</summary>
    private void EndOfValueLine(int parentIndent)
    {
        SkipSpaces();
        if (Current == '#' && _s[_pos - 1] != ' ')
        {
            throw Unsupported.Instance;
        }

        if (Current == '#')
        {
            SkipToLineEnd();
        }

        if (Current != '\n')
        {
            throw Unsupported.Instance;
        }

        if (SkipToContent() && Column > parentIndent)
        {
            throw Unsupported.Instance;
        }
    }

    /// <summary>Parses a literal block scalar (<c>|</c>, <c>|-</c>, <c>|+</c>) with automatic indentation.</summary>
    private YamlScalar ParseLiteral(int parentIndent, int line, int column)
    {
        _pos++;
        var chomp = ' ';
        if (Current is '-' or '+')
        {
            chomp = Current;
            _pos++;
        }

        SkipSpaces();
        if (Current == '#')
        {
            SkipToLineEnd();
        }

        if (Current != '\n')
        {
            throw Unsupported.Instance; // indentation indicators and the like
        }

        NextLine();
        var sb = _scratch.Clear();
        var indent = -1;
        var trailingBreaks = 0;
        while (_pos < _s.Length)
        {
            var lineEnd = _s.IndexOf('\n', _pos);
            if (lineEnd < 0)
            {
                lineEnd = _s.Length;
            }

            var spaces = 0;
            while (_pos + spaces < lineEnd && _s[_pos + spaces] == ' ')
            {
                spaces++;
            }

            var blank = _pos + spaces == lineEnd;
            if (blank)
            {
                trailingBreaks++;
                _pos = lineEnd;
                NextLine();
                continue;
            }

            if (indent < 0)
            {
                if (spaces <= parentIndent || _s[_pos + spaces] == '\t')
                {
                    break;
                }

                indent = spaces;
            }

            if (spaces < indent)
            {
                break;
            }

            if (sb.Length > 0 || trailingBreaks > 0)
            {
                sb.Append('\n', sb.Length > 0 ? trailingBreaks + 1 : trailingBreaks);
            }

            trailingBreaks = 0;
            sb.Append(_s, _pos + indent, lineEnd - _pos - indent);
            _pos = lineEnd;
            NextLine();
        }

        var text = sb.ToString();
        if (chomp == ' ' && text.Length > 0)
        {
            text += "\n";
        }
        else if (chomp == '+')
        {
            text += new string('\n', (text.Length > 0 ? 1 : 0) + trailingBreaks);
        }

        var node = new YamlScalar(text, false, false, line, column);

        // The loop stopped at the first line of the next content (or the end); the caller expects the first content character.
        _pos = _lineStart;
        if (SkipToContent() && Column > parentIndent)
        {
            throw Unsupported.Instance;
        }

        return node;
    }

    private YamlScalar ParseKey()
    {
        var line = _line;
        var column = Column + 1;
        string key;
        var c = Current;
        if (c is '"' or '\'')
        {
            key = c == '"' ? ReadDoubleQuoted() : ReadSingleQuoted();
            SkipSpaces();
        }
        else
        {
            if (c is '[' or ']' or '{' or '}' or ',' or '#' or '&' or '*' or '!' or '|' or '>' or '%' or '@' or '`' or '?' or ':' or '-')
            {
                if (c != '-' || IsBlankOrEnd(Peek(1)))
                {
                    throw Unsupported.Instance;
                }
            }

            var colon = FindKeyColon();
            if (colon < 0)
            {
                throw Unsupported.Instance;
            }

            var end = colon;
            while (end > _pos && _s[end - 1] is ' ')
            {
                end--;
            }

            if (_s.AsSpan(_pos, end - _pos).IndexOfAny("*&!\t") >= 0)
            {
                throw Unsupported.Instance;
            }

            key = Intern(_pos, end - _pos);
            _pos = colon;
        }

        if (Current != ':' || !IsBlankOrEnd(Peek(1)))
        {
            throw Unsupported.Instance;
        }

        _pos++;
        return new YamlScalar(key, c is not ('"' or '\''), false, line, column);
    }

    /// <summary>Finds the colon that makes the current line (from the current position) a mapping entry, or -1.</summary>
    private int FindKeyColon()
    {
        var i = _pos;
        if (i < _s.Length && _s[i] is '"' or '\'')
        {
            var quote = _s[i];
            i++;
            while (i < _s.Length && _s[i] != '\n')
            {
                if (_s[i] == '\\' && quote == '"')
                {
                    i += 2;
                    continue;
                }

                if (_s[i] == quote)
                {
                    if (quote == '\'' && i + 1 < _s.Length && _s[i + 1] == '\'')
                    {
                        i += 2;
                        continue;
                    }

                    i++;
                    while (i < _s.Length && _s[i] == ' ')
                    {
                        i++;
                    }

                    return i < _s.Length && _s[i] == ':' && (i + 1 >= _s.Length || _s[i + 1] is ' ' or '\n') ? i : -1;
                }

                i++;
            }

            return -1;
        }

        for (; i < _s.Length; i++)
        {
            var ch = _s[i];
            if (ch == '\n' || (ch == '#' && i > _pos && _s[i - 1] == ' '))
            {
                return -1;
            }

            if (ch == ':' && (i + 1 >= _s.Length || _s[i + 1] is ' ' or '\n'))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Parses a flow collection (and so JSON), which may span lines.</summary>
    private YamlNode? ParseFlow(bool isRoot)
    {
        Enter();
        var line = _line;
        var column = Column + 1;
        YamlNode node;
        if (Current == '[')
        {
            var sequence = new YamlSequence(line, column);
            _pos++;
            SkipFlowSpace();
            while (Current != ']')
            {
                sequence.Items.Add(ParseFlowNode());
                SkipFlowSeparator(']');
            }

            _pos++;
            node = sequence;
        }
        else
        {
            var mapping = new YamlMapping(line, column);
            var streamed = false;
            _pos++;
            SkipFlowSpace();
            while (Current != '}')
            {
                var keyLine = _line;
                var keyColumn = Column + 1;
                var quoted = Current is '"' or '\'';
                var keyText = quoted ? (Current == '"' ? ReadDoubleQuoted() : ReadSingleQuoted()) : ReadFlowPlain();
                var key = new YamlScalar(keyText, !quoted, false, keyLine, keyColumn);
                SkipFlowSpace();
                if (Current != ':' || (!quoted && !IsFlowValueStart(Peek(1))))
                {
                    throw Unsupported.Instance;
                }

                _pos++;
                SkipFlowSpace();
                if (isRoot && _depth == 1 && keyText == "items" && Current == '[')
                {
                    StreamFlowItems();
                    streamed = true;
                }
                else
                {
                    var value = Current is ',' or '}'
                        ? new YamlScalar(string.Empty, true, false, _line, Column + 1)
                        : ParseFlowNode();
                    mapping.Entries.Add(new(key, value));
                }

                SkipFlowSeparator('}');
            }

            _pos++;
            node = mapping;
            if (streamed)
            {
                Leave();
                return null;
            }
        }

        Leave();
        return node;
    }

    private void StreamFlowItems()
    {
        _pos++;
        SkipFlowSpace();
        while (Current != ']')
        {
            _onObject!(ParseFlowNode(), _delivered++);
            SkipFlowSeparator(']');
        }

        _pos++;
    }

    private YamlNode ParseFlowNode()
    {
        var line = _line;
        var column = Column + 1;
        switch (Current)
        {
            case '[' or '{':
                return ParseFlow(false)!;
            case '"':
                return new YamlScalar(ReadDoubleQuoted(), false, false, line, column);
            case '\'':
                return new YamlScalar(ReadSingleQuoted(), false, false, line, column);
            default:
                return new YamlScalar(ReadFlowPlain(), true, false, line, column);
        }
    }

    private string ReadFlowPlain()
    {
        var c = Current;
        if (c is '\n' or ',' or ']' or '}' or '[' or '{' or '#' or '&' or '*' or '!' or '|' or '>' or '%' or '@' or '`' or '"' or '\'' or ':' or '?' ||
            (c == '-' && IsFlowValueStart(Peek(1))))
        {
            throw Unsupported.Instance;
        }

        var start = _pos;
        var end = _pos;
        while (_pos < _s.Length)
        {
            var ch = _s[_pos];
            if (ch is '\n' or ',' or '[' or ']' or '{' or '}' || (ch == ':' && IsFlowValueStart(Peek(1))) || (ch == '#' && _s[_pos - 1] == ' '))
            {
                break;
            }

            if (ch is '\t' or '*' or '&' or '!')
            {
                throw Unsupported.Instance;
            }

            _pos++;
            if (ch != ' ')
            {
                end = _pos;
            }
        }

        return Text(start, end - start);
    }

    private static bool IsFlowValueStart(char c) => c is ' ' or '\n' or ',' or ']' or '}' or '[' or '{';

    /// <summary>After a flow item: skips a ',' and the space around it, or stops at the closing bracket; anything else is not handled here.</summary>
    private void SkipFlowSeparator(char close)
    {
        SkipFlowSpace();
        if (Current == ',')
        {
            _pos++;
            SkipFlowSpace();
        }
        else if (Current != close)
        {
            throw Unsupported.Instance;
        }
    }

    private void SkipFlowSpace()
    {
        while (_pos < _s.Length)
        {
            var c = _s[_pos];
            if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '\n')
            {
                _pos++;
                NewLineAt(_pos);

                // Lines inside a flow collection must be indented deeper than the block it sits in.
                var first = _pos;
                while (first < _s.Length && _s[first] == ' ')
                {
                    first++;
                }

                if (first < _s.Length && _s[first] != '\n' && first - _lineStart <= _flowIndent)
                {
                    throw Unsupported.Instance;
                }
            }
            else if (c == '#' && (_pos == 0 || _s[_pos - 1] is ' ' or '\t' or '\n'))
            {
                SkipToLineEnd();
            }
            else
            {
                break;
            }
        }
    }

    private string ReadDoubleQuoted()
    {
        _pos++;
        var start = _pos;
        var found = _s.AsSpan(_pos).IndexOfAny(s_doubleQuoteStops);
        if (found >= 0 && _s[_pos + found] == '"')
        {
            _pos += found + 1;
            return Text(start, found);
        }

        var sb = _scratch.Clear();
        while (true)
        {
            if (_pos >= _s.Length || _s[_pos] == '\n')
            {
                throw Unsupported.Instance; // multi-line quoted scalars fold lines; leave them to YamlDotNet
            }

            var c = _s[_pos++];
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (_pos >= _s.Length)
            {
                throw Unsupported.Instance;
            }

            var e = _s[_pos++];
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case '0': sb.Append('\0'); break;
                case 'x': AppendCodePoint(sb, 2); break;
                case 'u': AppendCodePoint(sb, 4); break;
                case 'U': AppendCodePoint(sb, 8); break;
                default: throw Unsupported.Instance;
            }
        }
    }

    private void AppendCodePoint(StringBuilder sb, int digits)
    {
        if (_pos + digits > _s.Length ||
            !int.TryParse(_s.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ||
            value > 0x10FFFF || (value is >= 0xD800 and <= 0xDFFF && digits != 4))
        {
            throw Unsupported.Instance;
        }

        _pos += digits;
        if (value is >= 0xD800 and <= 0xDFFF)
        {
            sb.Append((char)value); // a surrogate half as JSON writes them in pairs
        }
        else
        {
            sb.Append(char.ConvertFromUtf32(value));
        }
    }

    private string ReadSingleQuoted()
    {
        _pos++;
        var sb = _scratch.Clear();
        while (true)
        {
            var found = _s.AsSpan(_pos).IndexOfAny(s_singleQuoteStops);
            if (found < 0 || _s[_pos + found] == '\n')
            {
                throw Unsupported.Instance;
            }

            var end = _pos + found;
            sb.Append(_s, _pos, end - _pos);
            _pos = end + 1;
            if (Current == '\'')
            {
                sb.Append('\'');
                _pos++;
                continue;
            }

            return sb.ToString();
        }
    }

    /// <summary>Moves to the first content character of the current or a following line, skipping blank and comment lines.</summary>
    /// <returns><see langword="false"/> at the end of the text.</returns>
    private bool SkipToContent()
    {
        while (true)
        {
            if (_pos >= _s.Length)
            {
                return false;
            }

            // Only spaces may indent; a tab before content is left to YamlDotNet.
            while (_pos < _s.Length && _s[_pos] == ' ')
            {
                _pos++;
            }

            if (_pos >= _s.Length)
            {
                return false;
            }

            var c = _s[_pos];
            if (c == '\n')
            {
                NextLine();
                continue;
            }

            if (c == '#')
            {
                SkipToLineEnd();
                continue;
            }

            if (c is '\t' or '\r')
            {
                var rest = _pos;
                while (rest < _s.Length && _s[rest] is ' ' or '\t' or '\r')
                {
                    rest++;
                }

                if (rest >= _s.Length || _s[rest] == '\n')
                {
                    _pos = rest;
                    continue;
                }

                throw Unsupported.Instance;
            }

            return true;
        }
    }

    private void SkipSpaces()
    {
        while (_pos < _s.Length && _s[_pos] == ' ')
        {
            _pos++;
        }
    }

    private void SkipToLineEnd()
    {
        var end = _s.IndexOf('\n', _pos);
        _pos = end < 0 ? _s.Length : end;
    }

    /// <summary>Steps over the line break at the current position.</summary>
    private void NextLine()
    {
        if (_pos < _s.Length)
        {
            _pos++;
        }

        NewLineAt(_pos);
    }

    private void NewLineAt(int lineStart)
    {
        _line++;
        _lineStart = lineStart;
    }

    private static bool IsBlankOrEnd(char c) => c is ' ' or '\n';

    private string Text(int start, int length) => length <= 24 ? Intern(start, length) : _s.Substring(start, length);

    private string Intern(int start, int length)
    {
        var span = _s.AsSpan(start, length);
        if (_internLookup.TryGetValue(span, out var value))
        {
            return value;
        }

        value = span.ToString();
        if (_interned.Count < MaxInterned && length <= 24)
        {
            _interned.Add(value, value);
        }

        return value;
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw Unsupported.Instance;
        }
    }

    private void Leave() => _depth--;

    /// <summary>Thrown to give a document to the full parser; never escapes <see cref="TryParse"/>.</summary>
#pragma warning disable CA1032, CA1064 // A private control-flow signal, not an error type.
    private sealed class Unsupported : Exception
#pragma warning restore CA1032, CA1064
    {
        public static readonly Unsupported Instance = new();
    }
}
