using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary>Writes JSON by hand with <see cref="Utf8JsonWriter"/>: no reflection, deterministic bytes.</summary>
internal static class JsonOutput
{
    /// <summary>The version of every document's schema (see docs/cli.md).</summary>
    public const int SchemaVersion = 1;

    /// <summary>Writes a document to a UTF-8 byte array ending with a newline.</summary>
    /// <param name="indented">Whether to indent (two spaces, <c>\n</c> line ends).</param>
    /// <param name="write">Writes the document.</param>
    /// <returns>The bytes.</returns>
    public static byte[] ToBytes(bool indented, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = indented,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            write(writer);
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    /// <summary>Writes a document to a file, streaming: the writer is flushed as it goes (see <see cref="FlushIfLarge"/>),
    /// so a multi-gigabyte document never sits in memory.</summary>
    /// <param name="path">The file.</param>
    /// <param name="indented">Whether to indent.</param>
    /// <param name="write">Writes the document.</param>
    public static void WriteFile(string path, bool indented, Action<Utf8JsonWriter> write)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = indented,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            write(writer);
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>Flushes the writer to its stream once a megabyte is pending.</summary>
    /// <param name="writer">The writer.</param>
    public static void FlushIfLarge(this Utf8JsonWriter writer)
    {
        if (writer.BytesPending > 1 << 20)
        {
            writer.Flush();
        }
    }

    /// <summary>Writes a document as text ending with a newline.</summary>
    /// <param name="output">The output.</param>
    /// <param name="indented">Whether to indent.</param>
    /// <param name="write">Writes the document.</param>
    public static void WriteTo(TextWriter output, bool indented, Action<Utf8JsonWriter> write)
    {
        output.Write(Encoding.UTF8.GetString(ToBytes(indented, write)));
    }

    /// <summary>Writes a string array property.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The property name.</param>
    /// <param name="values">The values.</param>
    public static void WriteStrings(this Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes a number array property.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The property name.</param>
    /// <param name="values">The values.</param>
    public static void WriteNumbers(this Utf8JsonWriter writer, string name, IEnumerable<uint> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteNumberValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes a string property, or <c>null</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The property name.</param>
    /// <param name="value">The value.</param>
    public static void WriteNullableString(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Writes a number property, or <c>null</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="name">The property name.</param>
    /// <param name="value">The value.</param>
    public static void WriteNullableNumber(this Utf8JsonWriter writer, string name, int? value)
    {
        if (value is int v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>Writes a rule reference as an object (<c>policy, direction, rule, peer, port, text</c>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="reference">The reference.</param>
    public static void WriteRuleReference(this Utf8JsonWriter writer, RuleReference reference)
    {
        writer.WriteStartObject();
        writer.WriteString("policy", reference.Policy);
        writer.WriteString("direction", Name(reference.Direction));
        writer.WriteNumber("rule", reference.RuleIndex);
        writer.WriteNullableNumber("peer", reference.PeerIndex);
        writer.WriteNullableNumber("port", reference.PortIndex);
        writer.WriteString("text", reference.ToString());
        writer.WriteEndObject();
    }

    /// <summary>Returns the JSON spelling of a direction.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns><c>ingress</c> or <c>egress</c>.</returns>
    public static string Name(PolicyDirection direction) => direction == PolicyDirection.Ingress ? "ingress" : "egress";

    /// <summary>Returns the JSON spelling of a severity.</summary>
    /// <param name="severity">The severity.</param>
    /// <returns><c>error</c>, <c>warning</c> or <c>info</c>.</returns>
    public static string Name(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Warning => "warning",
        _ => "info",
    };

    /// <summary>Returns the JSON spelling of an action.</summary>
    /// <param name="action">The action.</param>
    /// <returns><c>allow</c>, <c>deny</c> or <c>pass</c>.</returns>
    public static string Name(PolicyAction action) => action switch
    {
        PolicyAction.Allow => "allow",
        PolicyAction.Deny => "deny",
        _ => "pass",
    };

    /// <summary>Returns the JSON spelling of a tier.</summary>
    /// <param name="tier">The tier.</param>
    /// <returns><c>admin</c>, <c>networkPolicy</c> or <c>baseline</c>.</returns>
    public static string Name(PolicyTier tier) => tier switch
    {
        PolicyTier.Admin => "admin",
        PolicyTier.NetworkPolicy => "networkPolicy",
        _ => "baseline",
    };

    /// <summary>Returns the JSON spelling of a peer kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><c>any</c>, <c>identity</c> or <c>addressClass</c>.</returns>
    public static string Name(PeerKind kind) => kind switch
    {
        PeerKind.Any => "any",
        PeerKind.Identity => "identity",
        _ => "addressClass",
    };
}
