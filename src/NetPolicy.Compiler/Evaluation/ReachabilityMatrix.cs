using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Evaluation;

/// <summary>Which pods can open a connection to which, for one port and protocol.</summary>
/// <param name="Protocol">The protocol.</param>
/// <param name="Port">The port.</param>
/// <param name="Pods">The pods, <c>namespace/name</c>, sorted.</param>
/// <param name="Allowed">Row i, column j: whether <c>Pods[i]</c> may connect to <c>Pods[j]</c>.</param>
public sealed record ReachabilityMatrix(TransportProtocol Protocol, int Port, ImmutableArray<string> Pods, ImmutableArray<ImmutableArray<bool>> Allowed)
{
    /// <summary>Gets the verdict from one pod to another.</summary>
    /// <param name="from">The source pod key.</param>
    /// <param name="to">The destination pod key.</param>
    /// <returns><see langword="true"/> when allowed.</returns>
    /// <exception cref="ArgumentException">A pod is not in the matrix.</exception>
    public bool this[string from, string to]
    {
        get
        {
            var i = Pods.IndexOf(from);
            var j = Pods.IndexOf(to);
            if (i < 0 || j < 0)
            {
                throw new ArgumentException($"Pod '{(i < 0 ? from : to)}' is not in the matrix.");
            }

            return Allowed[i][j];
        }
    }

    /// <inheritdoc/>
    public bool Equals(ReachabilityMatrix? other) =>
        other is not null && Protocol == other.Protocol && Port == other.Port &&
        Pods.SequenceEqual(other.Pods) &&
        Allowed.Length == other.Allowed.Length &&
        Allowed.Zip(other.Allowed).All(rows => rows.First.SequenceEqual(rows.Second));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Protocol, Port, Pods.Length);

    /// <summary>Formats the matrix as a table of <c>.</c> (allowed) and <c>X</c> (denied), rows sources, columns destinations, like the upstream e2e suite prints it.</summary>
    /// <returns>The table.</returns>
    public string ToTable()
    {
        var sb = new System.Text.StringBuilder();
        var width = Pods.IsEmpty ? 4 : Pods.Max(p => p.Length);
        sb.Append(new string(' ', width));
        for (var j = 0; j < Pods.Length; j++)
        {
            sb.Append(' ').Append(j);
        }

        sb.AppendLine();
        for (var i = 0; i < Pods.Length; i++)
        {
            sb.Append(Pods[i].PadRight(width));
            for (var j = 0; j < Pods.Length; j++)
            {
                sb.Append(' ').Append(Allowed[i][j] ? "." : "X").Append(new string(' ', j.ToString(System.Globalization.CultureInfo.InvariantCulture).Length - 1));
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }
}
