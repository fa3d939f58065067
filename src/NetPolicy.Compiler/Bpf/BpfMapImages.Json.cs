using System.Globalization;
using System.Text.Json;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Bpf;

/// <content>The readable JSON view of the images.</content>
public sealed partial class BpfMapImages
{
    /// <summary>The version of the JSON document <see cref="WriteJson"/> writes.</summary>
    public const int JsonSchemaVersion = 1;

    /// <summary>Writes a readable JSON view of the images: per map its definition and every entry decoded, with the
    /// raw key and value bytes in hexadecimal; then the endpoint ids and the rule attribution.</summary>
    /// <param name="writer">The writer; the document is one JSON object.</param>
    /// <remarks>Deterministic: the same images give the same bytes (with the same writer options). The document is a
    /// view for people and tools; <see cref="WriteBinary"/> is the format to load from. Schema (version
    /// <see cref="JsonSchemaVersion"/>) in docs/cli.md.</remarks>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var podsById = EndpointIds.ToDictionary(p => p.Value, p => p.Key);
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonSchemaVersion);
        writer.WriteNumber("abiVersion", BpfConstants.AbiVersion);
        writer.WriteString("byteOrder", "little-endian");
        writer.WriteStartArray("maps");
        WriteMap(writer, Maps[0], IPCacheHost, static (w, e) =>
        {
            w.WriteString("address", e.Key.Address.ToString());
            WriteIPCacheValue(w, e.Value);
        });
        WriteMap(writer, Maps[1], IPCacheLpm, static (w, e) =>
        {
            w.WriteString("prefix", e.Key.ToNetwork().ToString());
            w.WriteNumber("prefixLength", e.Key.PrefixLength);
            WriteIPCacheValue(w, e.Value);
        });
        WriteMap(writer, Maps[2], Endpoints, (w, e) =>
        {
            w.WriteNumber("id", e.Key);
            if (podsById.TryGetValue(e.Key, out var pod))
            {
                w.WriteString("pod", pod);
            }
            else
            {
                w.WriteNull("pod");
            }

            w.WriteNumber("identity", e.Value.Identity);
            w.WriteNumber("ingressRuleSet", e.Value.IngressRuleSet);
            w.WriteNumber("egressRuleSet", e.Value.EgressRuleSet);
            WriteFlags(w, e.Value.Flags, [(BpfConstants.EndpointPresent, "present"), (BpfConstants.EndpointIngressIsolated, "ingressIsolated"), (BpfConstants.EndpointEgressIsolated, "egressIsolated")]);
        });
        WriteMap(writer, Maps[3], RuleSets, static (w, e) =>
        {
            w.WriteNumber("id", e.Key);
            WriteFlags(w, e.Value.Flags, [
                (BpfConstants.RuleSetPresent, "present"), (BpfConstants.RuleSetRemoteIdentity, "remoteIdentity"), (BpfConstants.RuleSetRemoteClass, "remoteClass"),
                (BpfConstants.RuleSetRemoteAny, "remoteAny"), (BpfConstants.RuleSetAnyProtocol, "anyProtocol")]);
            WritePrefixLengths(w, "tcpPlens", e.Value.TcpPortPrefixLengths);
            WritePrefixLengths(w, "udpPlens", e.Value.UdpPortPrefixLengths);
            WritePrefixLengths(w, "sctpPlens", e.Value.SctpPortPrefixLengths);
        });
        WriteMap(writer, Maps[4], Policy, static (w, e) =>
        {
            var key = e.Key;
            w.WriteNumber("ruleSet", key.RuleSet);
            w.WriteString("direction", key.Direction switch { BpfConstants.DirectionIngress => "ingress", BpfConstants.DirectionEgress => "egress", var d => d.ToString(CultureInfo.InvariantCulture) });
            w.WriteNumber("remote", key.Remote);
            w.WriteString("remoteKind", key.Remote == BpfConstants.RemoteAny ? "any" : key.Remote >= BpfConstants.FirstAddressClass ? "addressClass" : "identity");
            w.WriteString("protocol", ProtocolName(key.Protocol));
            w.WriteNumber("port", key.Port);
            w.WriteNumber("plen", key.PortPrefixLength);
            w.WriteString("ports", PortsText(key));
            w.WriteNumber("ruleId", e.Value.RuleId);
            w.WriteString("action", e.Value.Action == BpfConstants.ActionAllow ? "allow" : e.Value.Action.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("tier", e.Value.Tier);
            w.WriteNumber("priority", e.Value.Priority);
        });
        writer.WriteEndArray();

        writer.WriteStartArray("endpointIds");
        foreach (var (pod, id) in EndpointIds)
        {
            writer.WriteStartObject();
            writer.WriteString("pod", pod);
            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("ruleAttribution");
        foreach (var (id, references) in RuleAttribution)
        {
            writer.WriteStartObject();
            writer.WriteNumber("ruleId", id);
            writer.WriteStartArray("attribution");
            foreach (var reference in references)
            {
                WriteRuleReference(writer, reference);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            FlushIfLarge(writer);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Formats a policy key's protocol and port block: <c>any</c>, <c>TCP/*</c>, <c>TCP/8080</c> or
    /// <c>TCP/8080-8095 (plen 12)</c>.</summary>
    internal static string PortsText(BpfPolicyKey key)
    {
        if (key.Protocol == BpfConstants.ProtocolAny && key.PortPrefixLength == 0)
        {
            return "any";
        }

        var protocol = ProtocolName(key.Protocol);
        if (key.PortPrefixLength > 16)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{protocol}/{key.Port} (plen {key.PortPrefixLength})");
        }

        var block = new BpfPortBlock(key.Port, key.PortPrefixLength);
        return key.PortPrefixLength is 0 or 16
            ? $"{protocol}/{block}"
            : string.Create(CultureInfo.InvariantCulture, $"{protocol}/{block} (plen {key.PortPrefixLength})");
    }

    private static string ProtocolName(byte protocol) => protocol switch
    {
        BpfConstants.ProtocolAny => "any",
        BpfConstants.ProtocolTcp => "TCP",
        BpfConstants.ProtocolUdp => "UDP",
        BpfConstants.ProtocolSctp => "SCTP",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    private static void WriteMap<TKey, TValue>(
        Utf8JsonWriter writer, BpfMapImage map, IReadOnlyList<KeyValuePair<TKey, TValue>> entries, Action<Utf8JsonWriter, KeyValuePair<TKey, TValue>> writeEntry)
    {
        writer.WriteStartObject();
        writer.WriteString("name", map.Name);
        writer.WriteString("type", map.Type switch
        {
            BpfMapType.Hash => "hash",
            BpfMapType.Array => "array",
            BpfMapType.LpmTrie => "lpmTrie",
            var t => t.ToString(),
        });
        writer.WriteNumber("keySize", map.KeySize);
        writer.WriteNumber("valueSize", map.ValueSize);
        writer.WriteNumber("maxEntries", map.MaxEntries);
        writer.WriteNumber("flags", map.Flags);
        writer.WriteNumber("count", map.Count);
        writer.WriteStartArray("entries");
        for (var i = 0; i < entries.Count; i++)
        {
            writer.WriteStartObject();
            writeEntry(writer, entries[i]);
            writer.WriteString("key", Convert.ToHexStringLower(map.KeyAt(i)));
            writer.WriteString("value", Convert.ToHexStringLower(map.ValueAt(i)));
            writer.WriteEndObject();
            FlushIfLarge(writer);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteIPCacheValue(Utf8JsonWriter writer, BpfIPCacheValue value)
    {
        writer.WriteNumber("identity", value.Identity);
        writer.WriteNumber("addressClass", value.AddressClass);
    }

    private static void WriteFlags(Utf8JsonWriter writer, uint flags, (uint Flag, string Name)[] names)
    {
        writer.WriteNumber("flags", flags);
        writer.WriteStartArray("flagNames");
        foreach (var (flag, name) in names)
        {
            if ((flags & flag) != 0)
            {
                writer.WriteStringValue(name);
            }
        }

        writer.WriteEndArray();
    }

    private static void WritePrefixLengths(Utf8JsonWriter writer, string name, uint mask)
    {
        writer.WriteStartArray(name);
        for (var plen = 16; plen >= 0; plen--)
        {
            if ((mask & (1u << plen)) != 0)
            {
                writer.WriteNumberValue(plen);
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteRuleReference(Utf8JsonWriter writer, RuleReference reference)
    {
        writer.WriteStartObject();
        writer.WriteString("policy", reference.Policy);
        writer.WriteString("direction", reference.Direction == PolicyDirection.Ingress ? "ingress" : "egress");
        writer.WriteNumber("rule", reference.RuleIndex);
        if (reference.PeerIndex is int peer)
        {
            writer.WriteNumber("peer", peer);
        }
        else
        {
            writer.WriteNull("peer");
        }

        if (reference.PortIndex is int port)
        {
            writer.WriteNumber("port", port);
        }
        else
        {
            writer.WriteNull("port");
        }

        writer.WriteString("text", reference.ToString());
        writer.WriteEndObject();
    }

    private static void FlushIfLarge(Utf8JsonWriter writer)
    {
        if (writer.BytesPending > 1 << 20)
        {
            writer.Flush();
        }
    }
}
