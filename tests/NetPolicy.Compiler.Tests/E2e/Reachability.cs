using System.Collections.Immutable;
using System.Text;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.E2e;

/// <summary>Matches pods by namespace, name, both or neither, like the upstream e2e <c>Peer</c>.</summary>
/// <param name="Namespace">The namespace, or <see langword="null"/> for any.</param>
/// <param name="Pod">The pod name, or <see langword="null"/> for any.</param>
internal sealed record Peer(string? Namespace = null, string? Pod = null)
{
    /// <summary>Gets the peer that matches every pod.</summary>
    public static Peer Any { get; } = new();

    /// <summary>Returns the peer matching every pod of a namespace.</summary>
    /// <param name="ns">The namespace.</param>
    /// <returns>The peer.</returns>
    public static Peer InNamespace(string ns) => new(ns);

    /// <summary>Returns whether a pod key matches.</summary>
    /// <param name="pod">The pod key, <c>namespace/name</c>.</param>
    /// <returns><see langword="true"/> when matched.</returns>
    public bool Matches(string pod)
    {
        var slash = pod.IndexOf('/', StringComparison.Ordinal);
        return (Namespace is null || string.Equals(Namespace, pod[..slash], StringComparison.Ordinal)) &&
               (Pod is null || string.Equals(Pod, pod[(slash + 1)..], StringComparison.Ordinal));
    }
}

/// <summary>An expected truth table of pod-to-pod connectivity, like the upstream e2e <c>Reachability</c>: start from
/// all-allowed or all-denied, adjust cells, then compare with the evaluator's <see cref="ReachabilityMatrix"/>.</summary>
/// <remarks>As upstream (<c>ignoreLoopback = true</c>, kubernetes/kubernetes#95879), a pod's connection to itself is not
/// compared unless asked for; expectations may set those cells to anything.</remarks>
internal sealed class Reachability
{
    private readonly ImmutableArray<string> _pods;
    private readonly Dictionary<string, int> _index;
    private readonly bool[,] _expected;

    /// <summary>Initializes a truth table.</summary>
    /// <param name="pods">The pod keys, in table order.</param>
    /// <param name="defaultExpectation">The initial value of every cell.</param>
    public Reachability(IEnumerable<string> pods, bool defaultExpectation)
    {
        _pods = [.. pods];
        _index = _pods.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i, StringComparer.Ordinal);
        _expected = new bool[_pods.Length, _pods.Length];
        for (var i = 0; i < _pods.Length; i++)
        {
            for (var j = 0; j < _pods.Length; j++)
            {
                _expected[i, j] = defaultExpectation;
            }
        }
    }

    /// <summary>Gets the pods, in table order.</summary>
    public ImmutableArray<string> Pods => _pods;

    /// <summary>Gets the expectation for one connection.</summary>
    /// <param name="from">The source pod.</param>
    /// <param name="to">The destination pod.</param>
    /// <returns>Whether it is expected to be allowed.</returns>
    public bool this[string from, string to] => _expected[IndexOf(from), IndexOf(to)];

    /// <summary>Sets the expectation for one connection.</summary>
    /// <param name="from">The source pod.</param>
    /// <param name="to">The destination pod.</param>
    /// <param name="allowed">Whether it is expected to be allowed.</param>
    public void Expect(string from, string to, bool allowed) => _expected[IndexOf(from), IndexOf(to)] = allowed;

    /// <summary>Sets the expectation for every connection into a pod (a column).</summary>
    /// <param name="pod">The destination pod.</param>
    /// <param name="allowed">Whether they are expected to be allowed.</param>
    public void ExpectAllIngress(string pod, bool allowed)
    {
        var j = IndexOf(pod);
        for (var i = 0; i < _pods.Length; i++)
        {
            _expected[i, j] = allowed;
        }
    }

    /// <summary>Sets the expectation for every connection out of a pod (a row).</summary>
    /// <param name="pod">The source pod.</param>
    /// <param name="allowed">Whether they are expected to be allowed.</param>
    public void ExpectAllEgress(string pod, bool allowed)
    {
        var i = IndexOf(pod);
        for (var j = 0; j < _pods.Length; j++)
        {
            _expected[i, j] = allowed;
        }
    }

    /// <summary>Sets the expectation for every connection from a pod matching <paramref name="from"/> to a pod matching <paramref name="to"/>.</summary>
    /// <param name="from">The source matcher.</param>
    /// <param name="to">The destination matcher.</param>
    /// <param name="allowed">Whether they are expected to be allowed.</param>
    public void ExpectPeer(Peer from, Peer to, bool allowed)
    {
        for (var i = 0; i < _pods.Length; i++)
        {
            if (!from.Matches(_pods[i]))
            {
                continue;
            }

            for (var j = 0; j < _pods.Length; j++)
            {
                if (to.Matches(_pods[j]))
                {
                    _expected[i, j] = allowed;
                }
            }
        }
    }

    /// <summary>Expects every pod's connection to itself to be allowed (call it last, as upstream).</summary>
    public void AllowLoopback()
    {
        for (var i = 0; i < _pods.Length; i++)
        {
            _expected[i, i] = true;
        }
    }

    /// <summary>Asserts that the evaluator's matrix for a protocol and port matches the expectations; on failure the message
    /// shows the expected, observed and comparison tables, then every wrong cell with the evaluator's explanation.</summary>
    /// <param name="matrix">The observed matrix.</param>
    /// <param name="evaluator">The evaluator that produced it, to explain wrong cells; or <see langword="null"/>.</param>
    /// <param name="ignoreLoopback">Whether a pod's connection to itself is left out of the comparison.</param>
    public void AssertMatches(ReachabilityMatrix matrix, PolicyEvaluator? evaluator = null, bool ignoreLoopback = true)
    {
        Assert.Equal(_pods.Order(StringComparer.Ordinal), matrix.Pods.Order(StringComparer.Ordinal));
        var wrong = new List<(string From, string To, bool Expected, bool Observed)>();
        var right = 0;
        var ignored = 0;
        for (var i = 0; i < _pods.Length; i++)
        {
            for (var j = 0; j < _pods.Length; j++)
            {
                var observed = matrix[_pods[i], _pods[j]];
                if (ignoreLoopback && i == j)
                {
                    ignored++;
                }
                else if (observed == _expected[i, j])
                {
                    right++;
                }
                else
                {
                    wrong.Add((_pods[i], _pods[j], _expected[i, j], observed));
                }
            }
        }

        if (wrong.Count == 0)
        {
            return;
        }

        var wrongSet = wrong.Select(w => (w.From, w.To)).ToHashSet();
        var sb = new StringBuilder();
        sb.Append("reachability for ").Append(matrix.Protocol.ToKubernetesName()).Append('/').Append(matrix.Port)
          .Append(": correct ").Append(right).Append(", incorrect ").Append(wrong.Count).Append(", loopback ignored ").Append(ignored).AppendLine();
        sb.AppendLine().AppendLine("expected (rows: from, columns: to; . allowed, X denied):");
        sb.Append(PrettyPrint(_pods, (i, j) => _expected[i, j] ? "." : "X"));
        sb.AppendLine().AppendLine("observed:");
        sb.Append(PrettyPrint(_pods, (i, j) => matrix[_pods[i], _pods[j]] ? "." : "X"));
        sb.AppendLine().AppendLine("comparison (. as expected, X wrong, - loopback ignored):");
        sb.Append(PrettyPrint(_pods, (i, j) => ignoreLoopback && i == j ? "-" : wrongSet.Contains((_pods[i], _pods[j])) ? "X" : "."));
        sb.AppendLine().AppendLine("wrong cells:");
        foreach (var (from, to, expected, observed) in wrong)
        {
            sb.Append("  ").Append(from).Append(" -> ").Append(to).Append(": expected ").Append(expected ? "allowed" : "denied")
              .Append(", observed ").AppendLine(observed ? "allowed" : "denied");
            if (evaluator is not null)
            {
                var verdict = evaluator.Evaluate(
                    FlowEndpoint.ForPod(evaluator.Snapshot.FindPod(from)!),
                    FlowEndpoint.ForPod(evaluator.Snapshot.FindPod(to)!),
                    matrix.Protocol,
                    matrix.Port);
                foreach (var line in verdict.Explain().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    sb.Append("      ").AppendLine(line.TrimEnd('\r'));
                }
            }
        }

        Assert.Fail(sb.ToString());
    }

    /// <summary>Formats a square table with the pods as row and column headers, like upstream <c>TruthTable.PrettyPrint</c>.</summary>
    /// <param name="pods">The pods.</param>
    /// <param name="cell">The text of cell (row, column).</param>
    /// <returns>The table.</returns>
    public static string PrettyPrint(IReadOnlyList<string> pods, Func<int, int, string> cell)
    {
        var width = Math.Max(pods.Count == 0 ? 1 : pods.Max(p => p.Length), 1);
        var sb = new StringBuilder();
        sb.Append('-'.ToString().PadRight(width));
        foreach (var pod in pods)
        {
            sb.Append(' ').Append(pod.PadRight(width));
        }

        sb.AppendLine();
        for (var i = 0; i < pods.Count; i++)
        {
            sb.Append(pods[i].PadRight(width));
            for (var j = 0; j < pods.Count; j++)
            {
                sb.Append(' ').Append(cell(i, j).PadRight(width));
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private int IndexOf(string pod) =>
        _index.TryGetValue(pod, out var i) ? i : throw new ArgumentException($"Pod '{pod}' is not in the truth table.", nameof(pod));
}
