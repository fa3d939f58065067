using NetPolicy.Compiler.Model;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Testing.Tests;

/// <summary>The assertions enforced by the kernel: real packets between network namespaces of the payments sample
/// (198.18.0.0/15 addresses), one lab per backend, each deleted at the end.</summary>
[Collection(KernelCollectionDefinition.Name)]
public sealed class PolicyTestLabTests
{
    [KernelTheory]
    [InlineData(LabEnforcement.Bpf)]
    [InlineData(LabEnforcement.Iptables)]
    [InlineData(LabEnforcement.Nftables)]
    public async Task Lab_Payments_EnforcesWhatTheReferenceSays(LabEnforcement enforcement)
    {
        string node;
        await using (var lab = await TestClusters.Payments.StartLabAsync(enforcement))
        {
            node = lab.Lab.Lab.Node.Name;
            Assert.True(File.Exists("/run/netns/" + node));
            Assert.Equal(TestClusters.Payments.Pods.AsEnumerable(), lab.Pods.AsEnumerable());

            await lab.AssertAllowedAsync("production/nginx-ingress", "production/payments-api", 8080);
            await lab.AssertAllowedAsync("production/nginx-ingress", "production/payments-api", "http");
            await lab.AssertDeniedAsync("production/frontend", "production/payments-api", 8080);
            await lab.AssertDeniedAsync("production/nginx-ingress", "production/payments-api", 8080, TransportProtocol.Udp);
            await lab.AssertAllowedAsync("production/payments-api", "default/netshoot", 53, TransportProtocol.Udp);
            await lab.AssertMatchesReferenceAsync(8080);
            Assert.Equal(SnapshotOutcome.Matched, await lab.AssertMatchesSnapshotAsync("Snapshots/payments.tcp-8080.txt", 8080, options: new() { Update = false, CreateMissing = false }));
            await AssertSnapshotMismatchReportedAsync(lab);
            await lab.AssertAllAsync(PolicyTruthTableTests.PaymentsConnections.Cases.Where(c => !c.To.Contains('.', StringComparison.Ordinal) || c.To.Contains('/', StringComparison.Ordinal)));
        }

        Assert.False(File.Exists("/run/netns/" + node), $"the lab's namespace {node} was not deleted");
    }

    // A golden file that says nginx-ingress cannot reach payments-api: the kernel's matrix differs in that one pair.
    private static async Task AssertSnapshotMismatchReportedAsync(PolicyTestLab lab)
    {
        var matrix = TestClusters.Payments.Matrix(8080);
        var from = matrix.Pods.IndexOf("production/nginx-ingress");
        var to = matrix.Pods.IndexOf("production/payments-api");
        var wrong = matrix with { Allowed = matrix.Allowed.SetItem(from, matrix.Allowed[from].SetItem(to, false)) };
        var path = Path.Combine(Path.GetTempPath(), $"netpol-lab-snapshot-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, ReachabilitySnapshot.Format(wrong));
        try
        {
            var ex = await Assert.ThrowsAsync<PolicyAssertionException>(() =>
                lab.AssertMatchesSnapshotAsync(path, 8080, options: new() { Update = false, CreateMissing = false }));

            Assert.Contains("in 1 place(s):", ex.Message);
            Assert.Contains("production/nginx-ingress -> production/payments-api: was denied, now allowed", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [KernelFact]
    public async Task AssertDeniedAsync_ConnectionGetsThrough_ThrowsWithKernelAndReferenceVerdicts()
    {
        await using var lab = await TestClusters.Payments.StartLabAsync(
            LabEnforcement.Nftables, new PolicyTestLabOptions { Pods = ["production/nginx-ingress", "production/payments-api", "production/frontend"] });

        var denied = await Assert.ThrowsAsync<PolicyAssertionException>(() => lab.AssertDeniedAsync("production/nginx-ingress", "production/payments-api", 8080));
        var allowed = await Assert.ThrowsAsync<PolicyAssertionException>(() => lab.AssertAllowedAsync("production/frontend", "production/payments-api", 8080));

        Assert.StartsWith("Expected production/nginx-ingress -> production/payments-api TCP/8080 to be denied, but the kernel (Nftables lab) allows it.", denied.Message);
        Assert.Contains("The reference evaluator says:", denied.Message);
        Assert.Contains("allowed by production/payments-api-allow spec.ingress[0].from[0] ports[0]", denied.Message);
        Assert.StartsWith("Expected production/frontend -> production/payments-api TCP/8080 to be allowed, but the kernel (Nftables lab) denies it.", allowed.Message);
        Assert.Contains("no from peer matches production/frontend", allowed.Message);
    }

    [KernelFact]
    public async Task AssertAllAsync_WrongRows_ReportsEachWithTheKernelsVerdict()
    {
        await using var lab = await TestClusters.Payments.StartLabAsync(
            LabEnforcement.Bpf, new PolicyTestLabOptions { Pods = ["production/nginx-ingress", "production/payments-api", "production/frontend"] });
        var table = new PolicyTruthTable
        {
            { "production/nginx-ingress", "production/payments-api", 8080, Verdict.Denied },
            { "production/frontend", "production/payments-api", 8080, Verdict.Denied },
            { "production/frontend", "production/nginx-ingress", 80, Verdict.Allowed },
        };

        var ex = await Assert.ThrowsAsync<PolicyAssertionException>(() => lab.AssertAllAsync(table.Cases));

        Assert.StartsWith("2 of 3 connection(s) differ from the expected verdicts (the kernel (Bpf lab)):", ex.Message);
        Assert.Contains("1) production/nginx-ingress -> production/payments-api TCP/8080: expected denied, the kernel let it through", ex.Message);
        Assert.Contains("2) production/frontend -> production/nginx-ingress TCP/80: expected allowed, the kernel dropped it", ex.Message);
        Assert.Contains("production/default-deny-ingress has no ingress rules", ex.Message);
    }

    [KernelFact]
    public async Task Lab_PodOutsideTheLab_ThrowsArgumentException()
    {
        await using var lab = await TestClusters.Payments.StartLabAsync(
            LabEnforcement.Iptables, new PolicyTestLabOptions { Pods = ["production/frontend", "production/payments-api"] });

        var outside = await Assert.ThrowsAsync<ArgumentException>(() => lab.AssertDeniedAsync("production/postgres", "production/payments-api", 8080));
        var external = await Assert.ThrowsAsync<ArgumentException>(() => lab.AssertDeniedAsync("203.0.113.1", "production/payments-api", 8080));

        Assert.Contains("pod production/postgres is not in the lab (its pods: production/frontend, production/payments-api)", outside.Message);
        Assert.Contains("'203.0.113.1' is outside the cluster; the lab sends only between its own pods", external.Message);
    }

    [KernelFact]
    public async Task Lab_WorkloadsWithoutStatus_GetPoolAddressesAndAreEnforced()
    {
        var cluster = PolicyTestCluster.FromYaml(TestClusters.WorkloadsYaml, "shop.yaml");
        await using var lab = await cluster.StartLabAsync(LabEnforcement.Bpf);

        await lab.AssertAllowedAsync("shop/Deployment/web", "shop/api", "http");
        await lab.AssertDeniedAsync("shop/batch", "shop/api", 9000);
        await lab.AssertMatchesReferenceAsync(9000);
    }

    [KernelFact]
    public async Task StartLabAsync_AddressOutsideTheLabRanges_ThrowsNamingThePod()
    {
        var cluster = PolicyTestCluster.FromYaml("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: real
              namespace: prod
            spec:
              containers:
              - name: c
                image: x
            status:
              podIPs:
              - ip: 10.20.30.40
            """, "real.yaml");

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => cluster.StartLabAsync(LabEnforcement.Nftables));

        Assert.Contains("pod prod/real: address 10.20.30.40 is outside the lab ranges (198.18.0.0/15, fd00::/8)", ex.Message);
    }

    [Fact]
    public void FindMissingRequirements_AsRootOnLinux_IsNullOrSaysWhatIsMissing()
    {
        var missing = PolicyTestLab.FindMissingRequirements(LabEnforcement.Bpf);

        if (!OperatingSystem.IsLinux())
        {
            Assert.StartsWith("not Linux", missing);
        }
        else if (!Environment.IsPrivilegedProcess)
        {
            Assert.StartsWith("not running as root", missing);
        }
        else if (KernelRequirements.Missing() is null)
        {
            Assert.Null(missing);
        }
    }
}
