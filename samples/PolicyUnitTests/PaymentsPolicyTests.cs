using NetPolicy.Compiler.Model;
using NetPolicy.Testing;

namespace PolicyUnitTests;

/// <summary>Policy unit tests over samples/payments/cluster.yaml, as an application repository would write them.</summary>
public class PaymentsPolicyTests
{
    // Loaded once for the whole class; the cluster is immutable and thread-safe.
    private static readonly PolicyTestCluster Cluster =
        PolicyTestCluster.Load(Path.Combine(AppContext.BaseDirectory, "manifests", "cluster.yaml"));

    [Fact]
    public void NginxIngress_ReachesPaymentsApi_On8080() =>
        Cluster.From("production/nginx-ingress").To("production/payments-api").OnPort(8080).ShouldBeAllowed();

    [Fact]
    public void Frontend_CannotReachPaymentsApi() =>
        Cluster.From("production/frontend").To("production/payments-api").OnPort("http").ShouldBeDenied();

    [Fact]
    public void DeniedAssertion_ExplainsWhichPoliciesIsolate()
    {
        var failure = Assert.Throws<PolicyAssertionException>(() =>
            Cluster.From("production/frontend").To("production/payments-api").OnPort(8080).ShouldBeAllowed());

        Assert.Contains("isolated by production/default-deny-ingress, production/payments-api-allow", failure.Message);
    }

    public static PolicyTruthTable Connections { get; } = new()
    {
        { "production/nginx-ingress", "production/payments-api", 8080, Verdict.Allowed },
        { "production/nginx-ingress", "production/payments-api", 8080, TransportProtocol.Udp, Verdict.Denied },
        { "production/payments-api", "production/postgres", 5432, Verdict.Denied },   // postgres's ingress is default-deny
        { "production/payments-api", "10.96.0.10", 53, TransportProtocol.Udp, Verdict.Allowed },
        { "production/payments-api", "10.96.0.10", 443, Verdict.Denied },
        { "default/netshoot", "production/payments-api", 8080, Verdict.Denied },
        { "production/frontend", "default/netshoot", 80, Verdict.Allowed },
    };

    [Theory]
    [MemberData(nameof(Connections))]
    public void Connection(ConnectionCase connection) => Cluster.Assert(connection);

    [Fact]
    public void AllConnections() => Cluster.AssertAll(Connections);

    [Fact]
    public void Reachability_OnTcp8080_MatchesTheCommittedSnapshot() =>
        Cluster.AssertMatchesSnapshot("snapshots/payments.tcp-8080.txt", 8080);
}
