using System.Collections;
using System.Collections.Immutable;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing;

/// <summary>A table of connections and their expected verdicts, written with a collection initializer.</summary>
/// <remarks>
/// <para>It enumerates as <c>object[]</c> rows of one <see cref="ConnectionCase"/> each, so it can feed a data-driven test
/// directly (xunit's <c>[MemberData]</c>, NUnit's <c>[TestCaseSource]</c>, MSTest's <c>[DynamicData]</c>) without this
/// package depending on any test framework; each row then shows as <c>from -&gt; to TCP/port: allowed</c>. Check the
/// whole table at once with <see cref="PolicyTestCluster.AssertAll(PolicyTruthTable)"/>, which reports every mismatch in one failure.</para>
/// </remarks>
/// <example>
/// <code>
/// public static PolicyTruthTable Connections { get; } = new()
/// {
///     { "production/nginx-ingress", "production/payments-api", 8080, Verdict.Allowed },
///     { "production/frontend", "production/payments-api", 8080, Verdict.Denied },
///     { "production/payments-api", "production/postgres", 5432, Verdict.Denied },
///     { "production/payments-api", "8.8.8.8", 53, TransportProtocol.Udp, Verdict.Allowed },
/// };
///
/// [Theory, MemberData(nameof(Connections))]
/// public void Connection(ConnectionCase row) => Cluster.Assert(row);
///
/// [Fact]
/// public void AllConnections() => Cluster.AssertAll(Connections);
/// </code>
/// </example>
public sealed class PolicyTruthTable : IEnumerable<object[]>
{
    private readonly List<ConnectionCase> _cases = [];

    /// <summary>Gets the rows, in the order they were added.</summary>
    public ImmutableArray<ConnectionCase> Cases => [.. _cases];

    /// <summary>Gets the number of rows.</summary>
    public int Count => _cases.Count;

    /// <summary>Adds a row.</summary>
    /// <param name="connection">The row.</param>
    public void Add(ConnectionCase connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _cases.Add(connection);
    }

    /// <summary>Adds a TCP row with a numeric port.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port.</param>
    /// <param name="expected">The expected verdict.</param>
    public void Add(string from, string to, int port, Verdict expected) => Add(new ConnectionCase(from, to, port, TransportProtocol.Tcp, expected));

    /// <summary>Adds a row with a numeric port.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="expected">The expected verdict.</param>
    public void Add(string from, string to, int port, TransportProtocol protocol, Verdict expected) => Add(new ConnectionCase(from, to, port, protocol, expected));

    /// <summary>Adds a TCP row with a port given as text: a number or a container port name.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port number or name.</param>
    /// <param name="expected">The expected verdict.</param>
    public void Add(string from, string to, string port, Verdict expected) => Add(new ConnectionCase(from, to, port, TransportProtocol.Tcp, expected));

    /// <summary>Adds a row with a port given as text: a number or a container port name.</summary>
    /// <param name="from">The source.</param>
    /// <param name="to">The destination.</param>
    /// <param name="port">The port number or name.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="expected">The expected verdict.</param>
    public void Add(string from, string to, string port, TransportProtocol protocol, Verdict expected) => Add(new ConnectionCase(from, to, port, protocol, expected));

    /// <summary>Enumerates the rows as test-data rows of one <see cref="ConnectionCase"/> each.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<object[]> GetEnumerator() => _cases.Select(c => new object[] { c }).ToList().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
