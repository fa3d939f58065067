using NetPolicy.Compiler.Evaluation;

namespace NetPolicy.Testing;

/// <summary>The first step of a fluent connection assertion: the source. Made by <see cref="PolicyTestCluster.From"/>.</summary>
public sealed class FlowSource
{
    private readonly PolicyTestCluster _cluster;
    private readonly FlowEndpoint _source;
    private readonly string _text;

    internal FlowSource(PolicyTestCluster cluster, FlowEndpoint source, string text)
    {
        _cluster = cluster;
        _source = source;
        _text = text;
    }

    /// <summary>Names the destination.</summary>
    /// <param name="destination">The destination: <c>namespace/name</c>, <c>namespace/Kind/name</c>, a unique pod name, or an IP address.</param>
    /// <returns>The next step: <see cref="FlowTarget.OnPort"/>.</returns>
    /// <exception cref="ArgumentException">The endpoint is not in the cluster.</exception>
    public FlowTarget To(string destination) =>
        new(_cluster, _source, _text, _cluster.ResolveEndpoint(destination, nameof(destination)), destination);
}
