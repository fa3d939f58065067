using System.Text;
using NetPolicy.Manifests.Yaml;

namespace NetPolicy.Manifests.Yaml.Tests;

public class FastYamlParserTests
{
    public static TheoryData<string> Supported => new()
    {
        "a: b\nc: d\n",
        "a:\n  b: c\n  d:\n  - e\n  - f: g\n    h: i\n  -   j\nk: l # comment\n",
        "# leading\n\na: 1\n\n# middle\nb:   'single ''quoted'''\nc: \"double \\\"q\\\" \\u00e9 \\n \\t\"\n",
        "key:\n- a\n- b\nnext: 1\n",
        "seq:\n  - - nested\n    - more\n  - x\n",
        "empty:\nalso: ~\nnull: null\nint: 42\nneg: -1\nstr: '42'\n",
        "flow: {a: 1, b: [x, y, 'z'], c: {}}\nlist: [ ]\n",
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"p\", \"labels\": {\"a\": \"b\"}},\n \"n\": [1, 2.5, true, null]}\n",
        "[1, 2, 3]\n",
        "plain scalar document\n",
        "url: http://example.com:8080/path\nkey with spaces: value with spaces\nhash: a#b\n",
        "literal: |\n  line one\n\n  line three\nstrip: |-\n  x\nkeep: |+\n  y\n\nafter: 1\n",
        "\"quoted key\": 1\n'single': 2\n- : x\n",
        "a:\n  - b: 1\n\n    c: 2\n  # comment in between\n  - d\n",
        "trailing: [a, b,]\nmulti: [\n  a,\n  b\n]\n",
        "x: -\n",
        "x: a: b\n",
        "x: 1\n  y: 2\n",
        "x:\n  multi\n  line\n",
        "x: &anchor 1\ny: *anchor\n",
        "x: >\n  folded\n",
        "x: \"multi\n  line\"\n",
        "x:\ty\n",
        "\tx: y\n",
        "? complex\n: key\n",
        "x: !!str 1\n",
        "a: [b, c\n",
        "a: {b: c\n",
        "a: 'unterminated\n",
        "- a\nb: c\n",
        "a: b\n- c\n",
        "a: |2\n   x\n",
        "a: {b}\n",
        "a: [b: c]\n",
        "{\"a\":1,\"b\":[],\"c\":\"\\/\"}\n",
        "a: b # c: d\n",
        "a: 'b' # c\n",
        "a:    \n  b: 1\n",
        "  indented: root\n",
        "a: b\r\nc: d\r\n",
        "a: \"x\" y\n",
        "a:\n- b\n  - c\n",
        "items:\n- kind: Pod\n- kind: Service\nkind: List\n",
        "kind: List\nitems: [{kind: Pod}, {kind: Service}]\n",
        "{\"items\": [{\"kind\": \"Pod\"}, {\"kind\": \"X\"}], \"kind\": \"List\"}\n",
        "items:\n- kind: Pod\n- kind: Service\n  x: &a 1\n",
    };

    /// <summary>Where the fast parser accepts a document, its tree must equal YamlDotNet's; where it does not, the
    /// full parser is used, so either way the reader sees the same thing.</summary>
    [Theory]
    [MemberData(nameof(Supported))]
    public void TryParse_Document_BuildsTheSameTreeAsYamlDotNet(string yaml)
    {
        var fast = new List<string>();
        var ok = new FastYamlParser().TryParse(yaml, 3, (node, index) => fast.Add($"{index}:{Dump(node)}"), out var delivered);

        var full = new List<string>();
        string? error = null;
        try
        {
            new YamlDocumentStream(new StringReader(yaml), 2).ReadAll((node, index) => full.Add($"{index}:{Dump(node)}"));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            error = ex.Message;
        }

        if (ok)
        {
            Assert.Null(error);
            Assert.Equal(full, fast);
        }
        else
        {
            Assert.Equal(fast.Count, delivered);
            Assert.Equal(full.Take(delivered), fast);
        }
    }

    /// <summary>Mutates real manifests at random: wherever the fast parser accepts the result, YamlDotNet must agree.</summary>
    [Fact]
    public void TryParse_MutatedManifests_AgreesWithYamlDotNetWheneverItAccepts()
    {
        var documents = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cluster.yaml")).Split("---\n");
        var random = new Random(7);
        const string Alphabet = " -:#[]{},'\"\n|>&*!?ab1";
        var accepted = 0;
        for (var i = 0; i < 4_000; i++)
        {
            var text = new StringBuilder(documents[random.Next(documents.Length)]);
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var at = random.Next(text.Length + 1);
                switch (random.Next(3))
                {
                    case 0: text.Insert(at, Alphabet[random.Next(Alphabet.Length)]); break;
                    case 1 when at < text.Length: text.Remove(at, 1); break;
                    default: text.Insert(at, ' '); break;
                }
            }

            var yaml = text.ToString();
            var fast = new List<string>();
            if (!new FastYamlParser().TryParse(yaml, 1, (node, index) => fast.Add($"{index}:{Dump(node)}"), out _))
            {
                continue;
            }

            accepted++;
            var full = new List<string>();
            try
            {
                new YamlDocumentStream(new StringReader(yaml)).ReadAll((node, index) => full.Add($"{index}:{Dump(node)}"));
            }
            catch (YamlDotNet.Core.YamlException ex)
            {
                Assert.Fail($"The fast parser accepted what YamlDotNet rejects ({ex.Message}):\n{yaml}");
            }

            Assert.True(full.SequenceEqual(fast), $"Trees differ for:\n{yaml}\nfast: {string.Join(' ', fast)}\nfull: {string.Join(' ', full)}");
        }

        Assert.True(accepted > 500, $"only {accepted} accepted");
    }

    [Theory]
    [InlineData("a: b\n")]
    [InlineData("{\"a\": [1, 2]}\n")]
    [InlineData("a:\n- b\n- c: d\n  e: |\n    f\n")]
    public void TryParse_CommonManifestSyntax_DoesNotFallBack(string yaml)
    {
        Assert.True(new FastYamlParser().TryParse(yaml, 1, (_, _) => { }, out _));
    }

    private static string Dump(YamlNode node)
    {
        var sb = new StringBuilder();
        Dump(node, sb);
        return sb.ToString();
    }

    private static void Dump(YamlNode node, StringBuilder sb)
    {
        // Where an empty (null) value "is" differs between the parsers; the reader points at the key for those.
        if (node is not YamlScalar { IsNull: true, Value: "" })
        {
            sb.Append('@').Append(node.Line).Append(':').Append(node.Column);
        }

        switch (node)
        {
            case YamlScalar scalar:
                sb.Append(scalar.IsNull ? "~" : (scalar.IsPlain ? "p" : "q") + "'" + scalar.Value + "'");
                break;
            case YamlSequence sequence:
                sb.Append('[');
                foreach (var item in sequence.Items)
                {
                    Dump(item, sb);
                    sb.Append(',');
                }

                sb.Append(']');
                break;
            case YamlMapping mapping:
                sb.Append('{');
                foreach (var (key, value) in mapping.Entries)
                {
                    Dump(key, sb);
                    sb.Append(": ");
                    Dump(value, sb);
                    sb.Append(',');
                }

                sb.Append('}');
                break;
        }
    }
}
