using System.Net;
using System.Text;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Evaluation;

/// <summary>The reference verdict for a flow: allowed only if the source's egress and the destination's ingress both allow it.</summary>
public sealed record FlowVerdict
{
    /// <summary>Gets the source.</summary>
    public required FlowEndpoint Source { get; init; }

    /// <summary>Gets the destination.</summary>
    public required FlowEndpoint Destination { get; init; }

    /// <summary>Gets the source address the flow uses.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>Gets the destination address the flow uses.</summary>
    public IPAddress? DestinationAddress { get; init; }

    /// <summary>Gets the protocol.</summary>
    public required TransportProtocol Protocol { get; init; }

    /// <summary>Gets the destination port.</summary>
    public required int Port { get; init; }

    /// <summary>Gets a value indicating whether the flow is allowed.</summary>
    public required bool Allowed { get; init; }

    /// <summary>Gets the source pod's egress verdict, or <see langword="null"/> when the source is external or the flow is a pod's traffic to itself.</summary>
    public DirectionVerdict? Egress { get; init; }

    /// <summary>Gets the destination pod's ingress verdict, or <see langword="null"/> when the destination is external or the flow is a pod's traffic to itself.</summary>
    public DirectionVerdict? Ingress { get; init; }

    /// <summary>Gets a one-line summary of the decision.</summary>
    public required string Summary { get; init; }

    /// <summary>Formats the verdict and its full explanation as text, one fact per line.</summary>
    /// <returns>The explanation.</returns>
    public string Explain()
    {
        var sb = new StringBuilder();
        sb.Append(Allowed ? "ALLOWED" : "DENIED").Append(": ").Append(Source).Append(" -> ").Append(Destination)
          .Append(' ').Append(Protocol.ToKubernetesName()).Append('/').Append(Port).AppendLine();
        if (SourceAddress is not null && DestinationAddress is not null)
        {
            sb.Append("  addresses: ").Append(SourceAddress).Append(" -> ").Append(DestinationAddress).AppendLine();
        }

        sb.Append("  ").AppendLine(Summary);
        AppendDirection(sb, "egress of source", Egress, Source);
        AppendDirection(sb, "ingress of destination", Ingress, Destination);
        return sb.ToString();
    }

    private static void AppendDirection(StringBuilder sb, string title, DirectionVerdict? verdict, FlowEndpoint endpoint)
    {
        sb.Append("  ").Append(title).Append(": ");
        if (verdict is null)
        {
            sb.AppendLine(endpoint.Pod is null ? "not policed (outside the cluster)" : "not policed (traffic of a pod to itself)");
            return;
        }

        if (!verdict.Isolated)
        {
            sb.Append("allowed; ").Append(verdict.Pod).Append(" is not isolated for ").AppendLine(verdict.Direction.ToString().ToLowerInvariant()).Append(string.Empty);
            return;
        }

        sb.Append(verdict.Allowed ? "allowed" : "denied").Append("; isolated by ").AppendLine(string.Join(", ", verdict.IsolatingPolicies));
        foreach (var rule in verdict.AllowedBy)
        {
            sb.Append("    allowed by ").AppendLine(rule.ToString());
        }

        foreach (var reason in verdict.Reasons)
        {
            sb.Append("    ").AppendLine(reason);
        }
    }
}
