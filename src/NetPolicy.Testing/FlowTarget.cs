using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing;

/// <summary>The second step of a fluent connection assertion: source and destination. Made by <see cref="FlowSource.To"/>.</summary>
public sealed class FlowTarget
{
    private readonly PolicyTestCluster _cluster;
    private readonly FlowEndpoint _source;
    private readonly string _sourceText;
    private readonly FlowEndpoint _destination;
    private readonly string _destinationText;

    internal FlowTarget(PolicyTestCluster cluster, FlowEndpoint source, string sourceText, FlowEndpoint destination, string destinationText)
    {
        _cluster = cluster;
        _source = source;
        _sourceText = sourceText;
        _destination = destination;
        _destinationText = destinationText;
    }

    /// <summary>Names the destination port and evaluates the connection.</summary>
    /// <param name="port">The port: a number (<c>8080</c>) or a container port name of the destination (<c>"http"</c>).</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The assertion: <see cref="FlowAssertion.ShouldBeAllowed"/> or <see cref="FlowAssertion.ShouldBeDenied"/>.</returns>
    /// <exception cref="ArgumentException">The destination has no such named port.</exception>
    public FlowAssertion OnPort(ConnectionPort port, TransportProtocol protocol = TransportProtocol.Tcp)
    {
        var number = PolicyTestCluster.ResolvePort(port.Text, _destination, protocol, nameof(port));
        var verdict = _cluster.Evaluator.Evaluate(_source, _destination, protocol, number);
        return new FlowAssertion(_sourceText, _destinationText, port.Text, protocol, verdict);
    }
}
