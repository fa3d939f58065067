using System.Globalization;
using System.Net;
using System.Text;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary>The <c>matrix</c> formats <c>html</c>, <c>mermaid</c> and <c>dot</c>.</summary>
internal static class MatrixGraphs
{
    /// <summary>Formats the matrix as a self-contained HTML page: one table, rows sources, columns destinations, ✓ allowed, ✗ denied.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The HTML text.</returns>
    public static string ToHtml(ReachabilityMatrix matrix)
    {
        var title = $"netpol matrix {Title(matrix)}";
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(WebUtility.HtmlEncode(title)).Append("</title>\n");
        sb.Append("<style>\n")
          .Append("body { font-family: system-ui, sans-serif; margin: 1.5em; }\n")
          .Append("table { border-collapse: collapse; }\n")
          .Append("th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: center; }\n")
          .Append("th.from { text-align: left; }\n")
          .Append("td.allowed { background: #e6f4ea; color: #137333; }\n")
          .Append("td.denied { background: #fce8e6; color: #a50e0e; }\n")
          .Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(title)).Append("</h1>\n");
        sb.Append("<p>Rows are sources, columns destinations: ✓ allowed, ✗ denied.</p>\n");
        sb.Append("<table>\n<thead>\n<tr><th scope=\"col\">from \\ to</th>");
        foreach (var pod in matrix.Pods)
        {
            sb.Append("<th scope=\"col\">").Append(WebUtility.HtmlEncode(pod)).Append("</th>");
        }

        sb.Append("</tr>\n</thead>\n<tbody>\n");
        for (var i = 0; i < matrix.Pods.Length; i++)
        {
            sb.Append("<tr><th scope=\"row\" class=\"from\">").Append(WebUtility.HtmlEncode(matrix.Pods[i])).Append("</th>");
            foreach (var allowed in matrix.Allowed[i])
            {
                sb.Append(allowed ? "<td class=\"allowed\">✓</td>" : "<td class=\"denied\">✗</td>");
            }

            sb.Append("</tr>\n");
        }

        sb.Append("</tbody>\n</table>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Formats the allowed connections as a Mermaid flowchart: a subgraph per namespace, an edge per allowed pair.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The Mermaid text.</returns>
    public static string ToMermaid(ReachabilityMatrix matrix)
    {
        var sb = new StringBuilder();
        sb.Append("flowchart LR\n");
        sb.Append("  %% ").Append(Title(matrix)).Append(": an edge is an allowed connection\n");
        var ns = 0;
        foreach (var group in Namespaces(matrix))
        {
            sb.Append("  subgraph ns").Append(ns++.ToString(CultureInfo.InvariantCulture)).Append("[\"").Append(MermaidText(group.Key)).Append("\"]\n");
            foreach (var (index, name) in group)
            {
                sb.Append("    p").Append(index.ToString(CultureInfo.InvariantCulture)).Append("[\"").Append(MermaidText(name)).Append("\"]\n");
            }

            sb.Append("  end\n");
        }

        foreach (var (from, to) in Edges(matrix))
        {
            sb.Append("  p").Append(from.ToString(CultureInfo.InvariantCulture)).Append(" --> p").Append(to.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Formats the allowed connections as a Graphviz digraph: a cluster per namespace, an edge per allowed pair.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The DOT text.</returns>
    public static string ToDot(ReachabilityMatrix matrix)
    {
        var sb = new StringBuilder();
        sb.Append("digraph netpol {\n");
        sb.Append("  label=").Append(DotString(Title(matrix) + ": an edge is an allowed connection")).Append(";\n");
        sb.Append("  rankdir=LR;\n  node [shape=box];\n");
        foreach (var group in Namespaces(matrix))
        {
            sb.Append("  subgraph ").Append(DotString("cluster_" + group.Key)).Append(" {\n");
            sb.Append("    label=").Append(DotString(group.Key)).Append(";\n");
            foreach (var (index, name) in group)
            {
                sb.Append("    ").Append(DotString(matrix.Pods[index])).Append(" [label=").Append(DotString(name)).Append("];\n");
            }

            sb.Append("  }\n");
        }

        foreach (var (from, to) in Edges(matrix))
        {
            sb.Append("  ").Append(DotString(matrix.Pods[from])).Append(" -> ").Append(DotString(matrix.Pods[to])).Append(";\n");
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    private static string Title(ReachabilityMatrix matrix) =>
        matrix.Protocol.ToKubernetesName() + "/" + matrix.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The pods by namespace (in matrix order), each with its index and name without the namespace.</summary>
    private static IEnumerable<IGrouping<string, (int Index, string Name)>> Namespaces(ReachabilityMatrix matrix) =>
        matrix.Pods.Select((key, index) =>
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            return (Namespace: slash < 0 ? string.Empty : key[..slash], Index: index, Name: slash < 0 ? key : key[(slash + 1)..]);
        }).GroupBy(p => p.Namespace, p => (p.Index, p.Name), StringComparer.Ordinal);

    private static IEnumerable<(int From, int To)> Edges(ReachabilityMatrix matrix)
    {
        for (var i = 0; i < matrix.Pods.Length; i++)
        {
            for (var j = 0; j < matrix.Pods.Length; j++)
            {
                if (i != j && matrix.Allowed[i][j])
                {
                    yield return (i, j);
                }
            }
        }
    }

    private static string MermaidText(string text) => text.Replace("\"", "#quot;", StringComparison.Ordinal);

    private static string DotString(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
