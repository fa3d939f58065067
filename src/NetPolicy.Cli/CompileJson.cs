using System.Collections.Immutable;
using System.Text.Json;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Identities;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary>The JSON documents of <c>netpol compile</c>: identities, ir and diagnostics (schemas in docs/cli.md).</summary>
internal static class CompileJson
{
    /// <summary>Writes <c>identities.json</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="policySet">The compiled policy set.</param>
    public static void WriteIdentities(Utf8JsonWriter writer, CompiledPolicySet policySet)
    {
        var podsByIdentity = policySet.Endpoints.Values.ToLookup(e => e.Identity, e => e.Pod);
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WriteNumber("nextIdentity", policySet.Identities.NextIdentity);
        writer.WriteStartArray("reserved");
        foreach (var identity in policySet.Identities.Identities.Where(i => i.IsReserved))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", identity.Id);
            writer.WriteString("name", identity.ReservedName);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("identities");
        foreach (var identity in policySet.Identities.Identities.Where(i => !i.IsReserved))
        {
            writer.FlushIfLarge();
            writer.WriteStartObject();
            writer.WriteNumber("id", identity.Id);
            writer.WriteString("namespace", identity.Namespace);
            writer.WriteStartObject("labels");
            WriteLabels(writer, "namespace", identity.NamespaceLabels);
            WriteLabels(writer, "pod", identity.PodLabels);
            writer.WriteEndObject();
            writer.WriteStrings("pods", podsByIdentity[identity.Id]);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>ir.json</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="policySet">The compiled policy set.</param>
    /// <param name="includeEntries">Whether to write each rule set's flattened entries.</param>
    public static void WriteIr(Utf8JsonWriter writer, CompiledPolicySet policySet, bool includeEntries = false)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WriteNumber("nextAddressClass", policySet.NextAddressClass);
        writer.WriteNumber("nextPeerSet", policySet.NextPeerSet);
        writer.WriteNumber("nextRuleSet", policySet.NextRuleSet);

        writer.WriteStartArray("addressClasses");
        foreach (var addressClass in policySet.AddressClasses)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", addressClass.Id);
            writer.WriteStrings("groups", addressClass.Groups);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("ipcache");
        foreach (var entry in policySet.IPCache.Values)
        {
            writer.FlushIfLarge();
            writer.WriteStartObject();
            writer.WriteString("prefix", entry.Prefix.ToString());
            writer.WriteNumber("identity", entry.Identity);
            writer.WriteNumber("addressClass", entry.AddressClass);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("peerSets");
        foreach (var peerSet in policySet.PeerSets.Values)
        {
            writer.FlushIfLarge();
            writer.WriteStartObject();
            writer.WriteNumber("id", peerSet.Id);
            writer.WriteBoolean("any", peerSet.IsAny);
            writer.WriteNumbers("identities", peerSet.Identities);
            writer.WriteNumbers("addressClasses", peerSet.AddressClasses);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("ruleSets");
        foreach (var ruleSet in policySet.RuleSets.Values)
        {
            WriteRuleSet(writer, policySet, ruleSet, includeEntries);
            writer.FlushIfLarge();
        }

        writer.WriteEndArray();

        writer.WriteStartArray("endpoints");
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            writer.FlushIfLarge();
            writer.WriteStartObject();
            writer.WriteString("pod", endpoint.Pod);
            writer.WriteNumber("identity", endpoint.Identity);
            writer.WriteStrings("addresses", endpoint.Addresses.Select(a => a.ToString()));
            WriteDirection(writer, "ingress", endpoint.IngressRuleSet, endpoint.IngressPolicies);
            WriteDirection(writer, "egress", endpoint.EgressRuleSet, endpoint.EgressPolicies);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>diagnostics.json</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    public static void WriteDiagnostics(Utf8JsonWriter writer, ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WriteNumber("errors", diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error));
        writer.WriteNumber("warnings", diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning));
        writer.WriteStartArray("diagnostics");
        foreach (var diagnostic in diagnostics)
        {
            writer.WriteStartObject();
            writer.WriteString("code", diagnostic.Code);
            writer.WriteString("severity", JsonOutput.Name(diagnostic.Severity));
            writer.WriteNullableString("object", diagnostic.ObjectName);
            writer.WriteNullableString("kind", diagnostic.ObjectKind);
            writer.WriteNullableString("field", diagnostic.FieldPath);
            writer.WriteNullableString("file", diagnostic.Location?.File);
            writer.WriteNullableNumber("line", diagnostic.Location?.Line);
            writer.WriteNullableNumber("column", diagnostic.Location is { Column: > 0 } l ? l.Column : null);
            writer.WriteString("message", diagnostic.Message);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes the single document of <c>compile --format json</c>: the three documents as properties.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="policySet">The compiled policy set, or <see langword="null"/> when the input has errors.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    public static void WriteCombined(Utf8JsonWriter writer, CompiledPolicySet? policySet, ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WritePropertyName("identities");
        if (policySet is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            WriteIdentities(writer, policySet);
        }

        writer.WritePropertyName("ir");
        if (policySet is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            WriteIr(writer, policySet);
        }

        writer.WritePropertyName("diagnostics");
        WriteDiagnostics(writer, diagnostics);
        writer.WriteEndObject();
    }

    private static void WriteLabels(Utf8JsonWriter writer, string name, LabelSet labels)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in labels)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter writer, string name, int? ruleSet, ImmutableArray<string> policies)
    {
        writer.WriteStartObject(name);
        writer.WriteBoolean("isolated", ruleSet is not null);
        writer.WriteNullableNumber("ruleSet", ruleSet);
        writer.WriteStrings("policies", policies);
        writer.WriteEndObject();
    }

    private static void WriteRuleSet(Utf8JsonWriter writer, CompiledPolicySet policySet, RuleSet ruleSet, bool includeEntries)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", ruleSet.Id);
        writer.WriteString("direction", JsonOutput.Name(ruleSet.Direction));
        writer.WriteStartArray("rules");
        foreach (var rule in ruleSet.Rules)
        {
            writer.WriteStartObject();
            writer.WriteNumber("peerSet", rule.PeerSet);
            WritePort(writer, rule.Port);
            writer.WriteString("action", JsonOutput.Name(rule.Action));
            writer.WriteString("tier", JsonOutput.Name(rule.Tier));
            writer.WriteNumber("priority", rule.Priority);
            writer.WritePropertyName("source");
            writer.WriteRuleReference(rule.Source);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (!includeEntries)
        {
            writer.WriteEndObject();
            return;
        }

        writer.WriteStartArray("entries");
        foreach (var entry in policySet.EntriesOf(ruleSet))
        {
            writer.FlushIfLarge();
            writer.WriteStartObject();
            writer.WriteString("kind", JsonOutput.Name(entry.Kind));
            writer.WriteNumber("peer", entry.Peer);
            WritePort(writer, entry.Port);
            writer.WriteString("action", JsonOutput.Name(entry.Action));
            writer.WriteString("tier", JsonOutput.Name(entry.Tier));
            writer.WriteNumber("priority", entry.Priority);
            writer.WriteStartArray("attribution");
            foreach (var reference in entry.Attribution)
            {
                writer.WriteRuleReference(reference);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WritePort(Utf8JsonWriter writer, PortMatch? port)
    {
        if (port is not PortMatch p)
        {
            writer.WriteNull("protocol");
            writer.WriteNull("ports");
            return;
        }

        writer.WriteString("protocol", p.Protocol.ToKubernetesName());
        writer.WriteStartObject("ports");
        writer.WriteNumber("first", p.First);
        writer.WriteNumber("last", p.Last);
        writer.WriteEndObject();
    }
}
