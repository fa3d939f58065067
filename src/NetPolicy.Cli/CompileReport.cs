using System.Globalization;
using System.Text;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary>The human-readable report of <c>netpol compile</c>: the identity table and every pod's policy.</summary>
internal static class CompileReport
{
    private static readonly string[] s_identityHeader = ["ID", "NAMESPACE", "LABELS", "PODS"];
    private static readonly string[] s_classHeader = ["ID", "IPBLOCKS"];

    /// <summary>Formats the report.</summary>
    /// <param name="snapshot">The compiled snapshot.</param>
    /// <param name="policySet">The compiled policy set.</param>
    /// <returns>The text.</returns>
    public static string Format(ClusterSnapshot snapshot, CompiledPolicySet policySet)
    {
        var names = new PeerNames(policySet);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Summary(snapshot, policySet)}").Append('\n');

        sb.Append('\n').Append("IDENTITIES").Append('\n');
        var rows = new List<string[]> { s_identityHeader };
        foreach (var identity in policySet.Identities.Identities)
        {
            var pods = names.PodsOf(identity.Id);
            rows.Add(
            [
                identity.Id.ToString(CultureInfo.InvariantCulture),
                identity.Namespace ?? "-",
                identity.IsReserved || identity.PodLabels.Count > 0 ? PeerNames.Labels(identity) : "(no labels)",
                pods.Count == 0 ? "-" : string.Join(", ", pods.Select(p => p[(p.IndexOf('/', StringComparison.Ordinal) + 1)..])),
            ]);
        }

        AppendTable(sb, rows, "  ");

        var classes = policySet.AddressClasses.Where(c => c.Groups.Length > 0).ToList();
        if (classes.Count > 0)
        {
            sb.Append('\n').Append("ADDRESS CLASSES (ipBlock equivalence classes)").Append('\n');
            var classRows = new List<string[]> { s_classHeader };
            classRows.AddRange(classes.Select(c => new[] { c.Id.ToString(CultureInfo.InvariantCulture), string.Join(" + ", c.Groups) }));
            AppendTable(sb, classRows, "  ");
        }

        sb.Append('\n').Append("ENDPOINTS").Append('\n');
        foreach (var endpoint in policySet.Endpoints.Values)
        {
            var assigned = snapshot.FindPod(endpoint.Pod)?.AddressesAssigned == true ? " (from pool)" : string.Empty;
            sb.Append(CultureInfo.InvariantCulture, $"  {endpoint.Pod}  identity {endpoint.Identity}  ")
              .Append(endpoint.Addresses.IsEmpty ? "no address" : string.Join(", ", endpoint.Addresses) + assigned).Append('\n');
            AppendDirection(sb, policySet, names, endpoint, PolicyDirection.Ingress);
            AppendDirection(sb, policySet, names, endpoint, PolicyDirection.Egress);
        }

        return sb.ToString();
    }

    /// <summary>Formats the one-line summary of a compile.</summary>
    /// <param name="snapshot">The compiled snapshot.</param>
    /// <param name="policySet">The compiled policy set.</param>
    /// <returns>The text.</returns>
    public static string Summary(ClusterSnapshot snapshot, CompiledPolicySet policySet)
    {
        var podIdentities = policySet.Identities.Identities.Count(i => !i.IsReserved);
        var classes = policySet.AddressClasses.Count(c => c.Groups.Length > 0);
        return $"{Count(snapshot.Pods.Count, "pod")} in {Count(snapshot.Namespaces.Count, "namespace")}, {Count(snapshot.Policies.Count, "policy", "policies")} " +
            $"-> {Count(podIdentities, "identity", "identities")}, {Count(policySet.RuleSets.Count, "rule set")}, " +
            $"{Count(classes, "address class", "address classes")}, {Count(policySet.IPCache.Count, "ipcache entry", "ipcache entries")}";
    }

    private static void AppendDirection(StringBuilder sb, CompiledPolicySet policySet, PeerNames names, EndpointPolicy endpoint, PolicyDirection direction)
    {
        var name = direction == PolicyDirection.Ingress ? "ingress" : "egress";
        var ruleSetId = endpoint.RuleSetFor(direction);
        if (ruleSetId is not int id)
        {
            sb.Append(CultureInfo.InvariantCulture, $"    {name}: not isolated, all {name} allowed").Append('\n');
            return;
        }

        var ns = endpoint.Pod[..(endpoint.Pod.IndexOf('/', StringComparison.Ordinal) + 1)];
        var policies = direction == PolicyDirection.Ingress ? endpoint.IngressPolicies : endpoint.EgressPolicies;
        var ruleSet = policySet.RuleSets[id];
        sb.Append(CultureInfo.InvariantCulture, $"    {name}: isolated by {string.Join(", ", policies.Select(p => StripNamespace(p, ns)))} (rule set {id})");
        if (ruleSet.Rules.IsEmpty)
        {
            sb.Append(CultureInfo.InvariantCulture, $": no rules, all {name} denied").Append('\n');
            return;
        }

        sb.Append('\n');
        var preposition = direction == PolicyDirection.Ingress ? "from " : "to ";
        var rows = ruleSet.Rules.Select(rule => new[]
        {
            JsonOutput.Name(rule.Action),
            rule.Port?.ToString() ?? "any port",
            preposition + names.PeerSet(policySet.PeerSets[rule.PeerSet]),
            "by " + StripNamespace(rule.Source.ToString(), ns),
        }).ToList();
        AppendTable(sb, rows, "      ");
    }

    private static string StripNamespace(string text, string namespacePrefix) =>
        text.StartsWith(namespacePrefix, StringComparison.Ordinal) ? text[namespacePrefix.Length..] : text;

    private static void AppendTable(StringBuilder sb, List<string[]> rows, string indent)
    {
        var widths = new int[rows.Max(r => r.Length)];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            sb.Append(indent);
            for (var i = 0; i < row.Length; i++)
            {
                sb.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            sb.Append('\n');
        }
    }

    private static string Count(int count, string singular, string? plural = null) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural ?? singular + "s");
}
