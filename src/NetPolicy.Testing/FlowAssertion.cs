using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing;

/// <summary>The last step of a fluent connection assertion: the connection, evaluated, ready to be asserted.</summary>
public sealed class FlowAssertion
{
    private readonly string _from;
    private readonly string _to;
    private readonly string _port;
    private readonly TransportProtocol _protocol;

    internal FlowAssertion(string from, string to, string port, TransportProtocol protocol, FlowVerdict verdict)
    {
        _from = from;
        _to = to;
        _port = port;
        _protocol = protocol;
        Verdict = verdict;
    }

    /// <summary>Gets the reference evaluator's verdict, with its explanation.</summary>
    public FlowVerdict Verdict { get; }

    /// <summary>Gets a value indicating whether the connection is allowed.</summary>
    public bool IsAllowed => Verdict.Allowed;

    /// <summary>Asserts that the connection is allowed.</summary>
    /// <returns>The verdict, for further checks (for example which rule allowed it: <see cref="FlowVerdict.Ingress"/>).</returns>
    /// <exception cref="PolicyAssertionException">The connection is denied; the message explains which policies isolate the
    /// pods and why no rule matched.</exception>
    public FlowVerdict ShouldBeAllowed() => Should(Testing.Verdict.Allowed);

    /// <summary>Asserts that the connection is denied.</summary>
    /// <returns>The verdict.</returns>
    /// <exception cref="PolicyAssertionException">The connection is allowed; the message names the rules that allow it.</exception>
    public FlowVerdict ShouldBeDenied() => Should(Testing.Verdict.Denied);

    /// <summary>Asserts the connection's verdict.</summary>
    /// <param name="expected">The expected verdict.</param>
    /// <returns>The verdict.</returns>
    /// <exception cref="PolicyAssertionException">The verdict differs; the message explains it.</exception>
    public FlowVerdict Should(Verdict expected)
    {
        if (Verdict.Allowed != (expected == Testing.Verdict.Allowed))
        {
            throw new PolicyAssertionException(
                PolicyTestCluster.Describe(new ConnectionCase(_from, _to, _port, _protocol, expected), Verdict, "the reference evaluator"), [Verdict]);
        }

        return Verdict;
    }

    /// <summary>Formats the connection and its verdict.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Verdict.Explain();
}
