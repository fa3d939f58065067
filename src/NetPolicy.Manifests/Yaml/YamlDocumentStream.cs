using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NetPolicy.Manifests.Yaml;

/// <summary>Turns YAML (or JSON) text into one small tree per object, streaming: a document is built, handed over and
/// dropped before the next is read, and the items of a top-level <c>items:</c> list (<c>kind: List</c>,
/// <c>kubectl get -o yaml</c>) are handed over one by one, so memory stays bounded by the largest object.</summary>
/// <remarks>Errors in the text surface as <see cref="YamlException"/> carrying the position.</remarks>
internal sealed class YamlDocumentStream
{
    /// <summary>Deeper nesting than any Kubernetes object needs; guards the recursive tree builder against stack overflow.</summary>
    public const int MaxDepth = 200;

    /// <summary>The node count an object may expand to through aliases (a "billion laughs" guard).</summary>
    public const long MaxExpandedNodes = 2_000_000;

    private const string NullTag = "tag:yaml.org,2002:null";
    private const string StringTag = "tag:yaml.org,2002:str";

    private readonly Parser _parser;
    private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
    private readonly int _lineOffset;
    private bool _documentUsesAliases;

    /// <summary>Initializes a new instance of the <see cref="YamlDocumentStream"/> class.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="lineOffset">Added to the line of every node (the text is a part of a file); exceptions carry lines relative to the text.</param>
    public YamlDocumentStream(TextReader reader, int lineOffset = 0)
    {
        _parser = new Parser(new Scanner(reader, skipComments: true));
        _lineOffset = lineOffset;
    }

    /// <summary>Reads every document, calling <paramref name="onObject"/> with each document root (item index -1)
    /// or, for a top-level <c>items</c> list, with each item and its index.</summary>
    /// <param name="onObject">The callback.</param>
    public void ReadAll(Action<YamlNode, int> onObject)
    {
        Next(); // StreamStart
        Next();
        while (_parser.Current is DocumentStart)
        {
            _anchors.Clear();
            _documentUsesAliases = false;
            Next();
            ReadDocumentRoot(onObject);
            if (_parser.Current is not DocumentEnd)
            {
                throw Error(_parser.Current, "expected the end of the document");
            }

            Next();
        }
    }

    private void ReadDocumentRoot(Action<YamlNode, int> onObject)
    {
        if (_parser.Current is not MappingStart start)
        {
            var node = ReadNode(0);
            CheckExpansion(node);
            onObject(node, -1);
            return;
        }

        var mapping = new YamlMapping(Line(start), Column(start));
        Anchor(start.Anchor, mapping);
        Next();
        var streamed = false;
        while (_parser.Current is not MappingEnd)
        {
            var key = ReadNode(1);
            if (key is YamlScalar { Value: "items" } && _parser.Current is SequenceStart items && items.Anchor.IsEmpty)
            {
                // Stream the items of a list one object at a time instead of building the whole list.
                Next();
                var index = 0;
                while (_parser.Current is not SequenceEnd)
                {
                    var item = ReadNode(2);
                    CheckExpansion(item);
                    onObject(item, index++);
                }

                Next();
                streamed = true;
                continue;
            }

            var value = ReadNode(1);
            mapping.Entries.Add(new(key, value));
            mapping.Weight += key.Weight + value.Weight;
        }

        Next();
        if (!streamed)
        {
            CheckExpansion(mapping);
            onObject(mapping, -1);
        }
    }

    private YamlNode ReadNode(int depth)
    {
        var current = _parser.Current;
        if (depth > MaxDepth)
        {
            throw Error(current, $"the document nests deeper than {MaxDepth} levels");
        }

        switch (current)
        {
            case Scalar scalar:
            {
                var tag = scalar.Tag;
                var isTaggedNull = !tag.IsEmpty && tag.Value == NullTag;
                var isPlain = scalar.Style == ScalarStyle.Plain && (tag.IsEmpty || tag.Value != StringTag);
                var node = new YamlScalar(scalar.Value, isPlain, isTaggedNull, Line(scalar), Column(scalar));
                Anchor(scalar.Anchor, node);
                Next();
                return node;
            }

            case SequenceStart start:
            {
                var node = new YamlSequence(Line(start), Column(start));
                Anchor(start.Anchor, node);
                Next();
                while (_parser.Current is not SequenceEnd)
                {
                    var item = ReadNode(depth + 1);
                    node.Items.Add(item);
                    node.Weight += item.Weight;
                }

                Next();
                return node;
            }

            case MappingStart start:
            {
                var node = new YamlMapping(Line(start), Column(start));
                Anchor(start.Anchor, node);
                Next();
                while (_parser.Current is not MappingEnd)
                {
                    var key = ReadNode(depth + 1);
                    var value = ReadNode(depth + 1);
                    node.Entries.Add(new(key, value));
                    node.Weight += key.Weight + value.Weight;
                }

                Next();
                return node;
            }

            case AnchorAlias alias:
            {
                if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw Error(alias, $"the alias *{alias.Value.Value} refers to no anchor defined before it in this document");
                }

                _documentUsesAliases = true;
                Next();
                return target;
            }

            default:
                throw Error(current, "unexpected YAML structure");
        }
    }

    private void CheckExpansion(YamlNode node)
    {
        if (_documentUsesAliases && node.Weight > MaxExpandedNodes)
        {
            throw new YamlException(
                new Mark(0, node.Line - _lineOffset, node.Column),
                new Mark(0, node.Line - _lineOffset, node.Column),
                $"the object expands to more than {MaxExpandedNodes} nodes through aliases; expand the aliases by hand if this is intended");
        }
    }

    private void Anchor(AnchorName anchor, YamlNode node)
    {
        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = node;
        }
    }

    private void Next()
    {
        bool moved;
        try
        {
            moved = _parser.MoveNext();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            // YamlDotNet 18 fails this way on some malformed input (for example an unterminated flow sequence followed by a
            // block mapping); report it as a syntax error at the last position it got to.
            var at = _parser.Current?.End ?? Mark.Empty;
            throw new YamlException(at, at, "malformed YAML after this point", ex);
        }

        if (!moved)
        {
            // The parser reports a truncated stream itself; this only guards against reading past StreamEnd.
            throw new YamlException("unexpected end of input");
        }
    }

    private static YamlException Error(ParsingEvent? at, string message)
    {
        var mark = at?.Start ?? Mark.Empty;
        return new YamlException(mark, at?.End ?? mark, message);
    }

    private int Line(ParsingEvent e) => (int)Math.Min(e.Start.Line + _lineOffset, int.MaxValue);

    private static int Column(ParsingEvent e) => (int)Math.Min(e.Start.Column, int.MaxValue);
}
