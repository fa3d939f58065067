using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing.Tests;

public sealed class PolicyTruthTableTests
{
    public static PolicyTruthTable PaymentsConnections { get; } = new()
    {
        { "production/nginx-ingress", "production/payments-api", 8080, Verdict.Allowed },
        { "production/nginx-ingress", "production/payments-api", "http", Verdict.Allowed },
        { "production/frontend", "production/payments-api", 8080, Verdict.Denied },
        { "production/nginx-ingress", "production/payments-api", 8080, TransportProtocol.Udp, Verdict.Denied },
        { "production/payments-api", "production/postgres", 5432, Verdict.Denied },
        { "production/payments-api", "default/netshoot", 53, TransportProtocol.Udp, Verdict.Allowed },
        { "production/payments-api", "203.0.113.53", "53", TransportProtocol.Tcp, Verdict.Allowed },
        { "default/netshoot", "production/frontend", 80, Verdict.Denied },
        new ConnectionCase("production/frontend", "default/netshoot", 80, TransportProtocol.Tcp, Verdict.Allowed),
    };

    [Theory]
    [MemberData(nameof(PaymentsConnections))]
    public void Assert_EachRowOfTheTable_Holds(ConnectionCase connection)
    {
        TestClusters.Payments.Assert(connection);
    }

    [Fact]
    public void AssertAll_CorrectTable_Passes()
    {
        TestClusters.Payments.AssertAll(PaymentsConnections);
    }

    [Fact]
    public void Enumerate_YieldsOneConnectionCasePerRow_ForMemberData()
    {
        var rows = PaymentsConnections.ToList();

        Assert.Equal(PaymentsConnections.Count, rows.Count);
        Assert.All(rows, r => Assert.IsType<ConnectionCase>(Assert.Single(r)));
        Assert.Equal("production/nginx-ingress -> production/payments-api TCP/8080: allowed", rows[0][0].ToString());
        Assert.Equal("production/payments-api -> default/netshoot UDP/53: allowed", rows[5][0].ToString());
    }

    [Fact]
    public void AssertAll_WrongRows_ReportsEveryMismatchWithExplanations()
    {
        var table = new PolicyTruthTable
        {
            { "production/nginx-ingress", "production/payments-api", 8080, Verdict.Allowed },
            { "production/frontend", "production/payments-api", 8080, Verdict.Allowed },
            { "production/payments-api", "production/postgres", 5432, Verdict.Denied },
            { "production/nginx-ingress", "production/payments-api", "http", Verdict.Denied },
        };

        var ex = Assert.Throws<PolicyAssertionException>(() => TestClusters.Payments.AssertAll(table));

        Assert.StartsWith("2 of 4 connection(s) differ from the expected verdicts (the reference evaluator):", ex.Message);
        Assert.Contains("1) production/frontend -> production/payments-api TCP/8080: expected allowed, got denied", ex.Message);
        Assert.Contains("2) production/nginx-ingress -> production/payments-api TCP/http: expected denied, got allowed", ex.Message);
        Assert.Contains("no from peer matches production/frontend", ex.Message);
        Assert.Contains("allowed by production/payments-api-allow spec.ingress[0].from[0] ports[0]", ex.Message);
        Assert.Equal(2, ex.Verdicts.Length);
    }

    [Fact]
    public void AssertAll_UnknownEndpoints_ListsEveryBadRow()
    {
        var table = new PolicyTruthTable
        {
            { "production/nginx", "production/payments-api", 8080, Verdict.Allowed },
            { "production/frontend", "production/payments-api", "grpc", Verdict.Denied },
        };

        var ex = Assert.Throws<ArgumentException>(() => TestClusters.Payments.AssertAll(table));

        Assert.Contains("2 row(s) of the table name unknown endpoints or ports", ex.Message);
        Assert.Contains("'production/nginx' is not a pod or workload", ex.Message);
        Assert.Contains("no TCP container port named 'grpc'", ex.Message);
    }
}
