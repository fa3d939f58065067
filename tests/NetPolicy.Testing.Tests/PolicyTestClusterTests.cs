using k8s.Models;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Testing.Tests;

public sealed class PolicyTestClusterTests
{
    private static PolicyTestCluster Payments => TestClusters.Payments;

    [Fact]
    public void Load_PaymentsSample_ReadsEveryPodSorted()
    {
        Assert.Equal(
            new[] { "default/netshoot", "production/frontend", "production/nginx-ingress", "production/payments-api", "production/postgres" },
            Payments.Pods.AsEnumerable());
        Assert.DoesNotContain(Payments.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Load_Directory_ReadsItsFilesRecursively()
    {
        var dir = Directory.CreateTempSubdirectory("netpol-testing-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "charts"));
            File.Copy(TestClusters.PaymentsPath, Path.Combine(dir.FullName, "charts", "rendered.yaml"));

            var cluster = PolicyTestCluster.Load(dir.FullName);

            Assert.Equal(Payments.Pods.AsEnumerable(), cluster.Pods.AsEnumerable());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_MissingFile_ThrowsPolicyInputExceptionNamingThePath()
    {
        var ex = Assert.Throws<PolicyInputException>(() => PolicyTestCluster.Load("/nonexistent/netpol/cluster.yaml"));

        Assert.Contains("/nonexistent/netpol/cluster.yaml", ex.Message);
        Assert.Contains("NP1205", ex.Message);
        Assert.Contains("no such file or directory", ex.Message);
    }

    [Fact]
    public void FromYaml_InvalidPolicy_ThrowsWithFileAndLineOfEachError()
    {
        const string yaml = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: bad
              namespace: shop
            spec:
              podSelector: {}
              ingress:
              - from:
                - ipBlock:
                    cidr: 10.0.0.0/33
              - ports:
                - port: 70000
            """;

        var ex = Assert.Throws<PolicyInputException>(() => PolicyTestCluster.FromYaml(yaml, "team/bad.yaml"));

        Assert.Contains("2 error(s)", ex.Message);
        Assert.Contains("team/bad.yaml:11", ex.Message);
        Assert.Contains("team/bad.yaml:13", ex.Message);
        Assert.Contains("NetworkPolicy shop/bad", ex.Message);
        Assert.Equal(2, ex.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void FromYaml_SyntaxError_ThrowsWithLine()
    {
        var ex = Assert.Throws<PolicyInputException>(() => PolicyTestCluster.FromYaml("kind: Pod\nmetadata: {name: [x\n", "broken.yaml"));

        Assert.Contains("broken.yaml:", ex.Message);
        Assert.Contains("NP1201", ex.Message);
    }

    [Fact]
    public void FromObjects_KubernetesModels_EvaluatesLikeYaml()
    {
        var ns = new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } };
        V1Pod Pod(string name) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "shop", Labels = new Dictionary<string, string> { ["app"] = name } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c" }] },
        };
        var deny = new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny-db", NamespaceProperty = "shop" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } } },
        };

        var cluster = PolicyTestCluster.FromObjects([ns, Pod("web"), Pod("db"), deny, "ignored"]);

        cluster.From("shop/web").To("shop/db").OnPort(5432).ShouldBeDenied();
        cluster.From("shop/db").To("shop/web").OnPort(80).ShouldBeAllowed();
    }

    [Fact]
    public void FromSnapshot_WithErrors_Throws()
    {
        var policy = new V1NetworkPolicy { Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "x" }, Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Sideways"] } };
        var snapshot = ClusterSnapshot.Create([policy], [], []);

        var ex = Assert.Throws<PolicyInputException>(() => PolicyTestCluster.FromSnapshot(snapshot));

        Assert.Contains("NetworkPolicy x/p", ex.Message);
    }

    [Fact]
    public void ShouldBeAllowed_AllowedConnection_ReturnsVerdictWithTheRule()
    {
        var verdict = Payments.From("production/nginx-ingress").To("production/payments-api").OnPort(8080).ShouldBeAllowed();

        Assert.True(verdict.Allowed);
        Assert.Equal("production/payments-api-allow", Assert.Single(verdict.Ingress!.AllowedBy).Policy);
    }

    [Fact]
    public void ShouldBeAllowed_DeniedConnection_ThrowsWithTheEvaluatorsExplanation()
    {
        var ex = Assert.Throws<PolicyAssertionException>(() =>
            Payments.From("production/frontend").To("production/payments-api").OnPort(8080).ShouldBeAllowed());

        Assert.StartsWith("Expected production/frontend -> production/payments-api TCP/8080 to be allowed, but the reference evaluator denies it.", ex.Message);
        Assert.Contains("DENIED: production/frontend -> production/payments-api TCP/8080", ex.Message);
        Assert.Contains("isolated by production/default-deny-ingress, production/payments-api-allow", ex.Message);
        Assert.Contains("production/default-deny-ingress has no ingress rules", ex.Message);
        Assert.Contains("production/payments-api-allow spec.ingress[0]: no from peer matches production/frontend", ex.Message);
        Assert.False(Assert.Single(ex.Verdicts).Allowed);
    }

    [Fact]
    public void ShouldBeDenied_AllowedConnection_ThrowsNamingTheRuleThatAllows()
    {
        var ex = Assert.Throws<PolicyAssertionException>(() =>
            Payments.From("production/nginx-ingress").To("production/payments-api").OnPort(8080).ShouldBeDenied());

        Assert.StartsWith("Expected production/nginx-ingress -> production/payments-api TCP/8080 to be denied, but the reference evaluator allows it.", ex.Message);
        Assert.Contains("allowed by production/payments-api-allow spec.ingress[0].from[0] ports[0]", ex.Message);
    }

    [Fact]
    public void ShouldBeDenied_DeniedConnection_Passes()
    {
        var verdict = Payments.From("production/frontend").To("production/payments-api").OnPort(8080).ShouldBeDenied();

        Assert.False(verdict.Allowed);
    }

    [Fact]
    public void AssertAllowedAndDenied_MethodStyle_PassAndFail()
    {
        Payments.AssertAllowed("production/nginx-ingress", "production/payments-api", 8080);
        Payments.AssertDenied("production/payments-api", "production/postgres", 5432);
        Payments.AssertAllowed("production/payments-api", "default/netshoot", 53, TransportProtocol.Udp);

        var ex = Assert.Throws<PolicyAssertionException>(() => Payments.AssertAllowed("production/payments-api", "production/postgres", 5432));

        Assert.Contains("egress of source: allowed; isolated by production/payments-api-allow", ex.Message);
        Assert.Contains("ingress of destination: denied; isolated by production/default-deny-ingress", ex.Message);
    }

    [Fact]
    public void Egress_DeniedPort_ExplainsWhyNoPortMatched()
    {
        var ex = Assert.Throws<PolicyAssertionException>(() => Payments.AssertAllowed("production/payments-api", "default/netshoot", 443));

        Assert.Contains("denied by the source's egress policies (production/payments-api-allow)", ex.Message);
        Assert.Contains("no port matches TCP/443", ex.Message);
    }

    [Fact]
    public void OnPort_NamedPort_ResolvesOnTheDestination()
    {
        var verdict = Payments.From("production/nginx-ingress").To("production/payments-api").OnPort("http").ShouldBeAllowed();

        Assert.Equal(8080, verdict.Port);
    }

    [Fact]
    public void OnPort_UnknownNamedPort_ThrowsListingThePodsPorts()
    {
        var ex = Assert.Throws<ArgumentException>(() => Payments.From("production/nginx-ingress").To("production/payments-api").OnPort("grpc"));

        Assert.Contains("pod production/payments-api has no TCP container port named 'grpc'; its named ports: http=8080/TCP.", ex.Message);
    }

    [Fact]
    public void From_UnknownPod_ThrowsWithSuggestion()
    {
        var ex = Assert.Throws<ArgumentException>(() => Payments.From("production/payments"));

        Assert.Contains("'production/payments' is not a pod or workload of the cluster; did you mean production/payments-api?", ex.Message);
    }

    [Fact]
    public void From_BarePodName_ResolvesWhenUnique()
    {
        Payments.From("nginx-ingress").To("payments-api").OnPort(8080).ShouldBeAllowed();
    }

    [Fact]
    public void IPAddresses_PodAddressIsThePod_OtherAddressesAreOutside()
    {
        // 198.18.1.11 is nginx-ingress's status IP.
        Payments.From("198.18.1.11").To("production/payments-api").OnPort(8080).ShouldBeAllowed();
        Payments.From("203.0.113.7").To("production/payments-api").OnPort(8080).ShouldBeDenied();
        Payments.From("production/payments-api").To("9.9.9.9").OnPort(53, TransportProtocol.Udp).ShouldBeAllowed();
        Payments.From("production/payments-api").To("9.9.9.9").OnPort(443).ShouldBeDenied();
        Payments.From("203.0.113.7").To("default/netshoot").OnPort(22).ShouldBeAllowed();
    }

    [Fact]
    public void OnPort_NameOnExternalDestination_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Payments.From("production/payments-api").To("9.9.9.9").OnPort("dns"));

        Assert.Contains("outside the cluster; use a number", ex.Message);
    }

    [Fact]
    public void Workloads_ResolveByNameAndByKind()
    {
        var cluster = PolicyTestCluster.FromYaml(TestClusters.WorkloadsYaml, "shop.yaml");

        cluster.From("shop/web").To("shop/api").OnPort("http").ShouldBeAllowed();
        cluster.From("shop/Deployment/web").To("shop/statefulset/api").OnPort(9000).ShouldBeAllowed();
        cluster.From("shop/Pod/batch").To("shop/StatefulSet/api").OnPort(9000).ShouldBeDenied();
        var ex = Assert.Throws<ArgumentException>(() => cluster.From("shop/StatefulSet/web"));
        Assert.Contains("shop/web was read from a Deployment, not a StatefulSet", ex.Message);
    }

    [Fact]
    public void Matrix_IsCachedAndSafeFromManyThreads()
    {
        var first = Payments.Matrix(8080);
        var results = new System.Collections.Concurrent.ConcurrentBag<bool>();

        Parallel.For(0, 64, i =>
        {
            results.Add(ReferenceEquals(first, Payments.Matrix(8080)));
            var allowed = Payments.From("production/nginx-ingress").To("production/payments-api").OnPort(8080).IsAllowed;
            var denied = !Payments.From("production/frontend").To("production/payments-api").OnPort(8080).IsAllowed;
            results.Add(allowed && denied);
        });

        Assert.All(results, Assert.True);
        Assert.True(first["production/nginx-ingress", "production/payments-api"]);
        Assert.False(first["production/frontend", "production/payments-api"]);
    }
}
