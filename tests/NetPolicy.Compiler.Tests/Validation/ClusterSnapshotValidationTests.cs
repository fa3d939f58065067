using k8s.Models;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Tests.Validation;

public sealed class ClusterSnapshotValidationTests
{
    private static V1NetworkPolicy Policy(V1NetworkPolicySpec spec, string name = "p", string ns = "prod") =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Spec = spec };

    private static V1NetworkPolicyIngressRule Ingress(V1NetworkPolicyPeer? peer = null, V1NetworkPolicyPort? port = null) =>
        new() { FromProperty = peer is null ? null : [peer], Ports = port is null ? null : [port] };

    private static ClusterSnapshot Create(params V1NetworkPolicy[] policies) => ClusterSnapshot.Create(policies, [], []);

    public static TheoryData<string, V1NetworkPolicySpec, string, string> InvalidSpecs() => new()
    {
        { "bad label key", new() { PodSelector = new() { MatchLabels = new Dictionary<string, string> { ["-bad"] = "x" } } }, DiagnosticCodes.InvalidLabelKey, "spec.podSelector.matchLabels.-bad" },
        { "bad label value", new() { PodSelector = new() { MatchLabels = new Dictionary<string, string> { ["app"] = "no spaces" } } }, DiagnosticCodes.InvalidLabelValue, "spec.podSelector.matchLabels.app" },
        { "bad operator", new() { PodSelector = new() { MatchExpressions = [new() { Key = "app", OperatorProperty = "in", Values = ["a"] }] } }, DiagnosticCodes.InvalidSelectorOperator, "spec.podSelector.matchExpressions[0].operator" },
        { "In without values", new() { PodSelector = new() { MatchExpressions = [new() { Key = "app", OperatorProperty = "In" }] } }, DiagnosticCodes.InvalidSelectorValues, "spec.podSelector.matchExpressions[0].values" },
        { "Exists with values", new() { PodSelector = new() { MatchExpressions = [new() { Key = "app", OperatorProperty = "Exists", Values = ["a"] }] } }, DiagnosticCodes.InvalidSelectorValues, "spec.podSelector.matchExpressions[0].values" },
        { "bad cidr", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.0.0/33" } })] }, DiagnosticCodes.InvalidCidr, "spec.ingress[0].from[0].ipBlock.cidr" },
        { "octal-looking cidr", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "010.0.0.0/8" } })] }, DiagnosticCodes.InvalidCidr, "spec.ingress[0].from[0].ipBlock.cidr" },
        { "except outside", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.0.0/16", Except = ["198.19.0.0/24"] } })] }, DiagnosticCodes.ExceptOutsideCidr, "spec.ingress[0].from[0].ipBlock.except[0]" },
        { "except equal", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.0.0/16", Except = ["198.18.0.0/16"] } })] }, DiagnosticCodes.ExceptOutsideCidr, "spec.ingress[0].from[0].ipBlock.except[0]" },
        { "except other family", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.0.0/16", Except = ["fd00::/64"] } })] }, DiagnosticCodes.ExceptOutsideCidr, "spec.ingress[0].from[0].ipBlock.except[0]" },
        { "port 0", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 0 })] }, DiagnosticCodes.InvalidPort, "spec.ingress[0].ports[0].port" },
        { "port 65536", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 65536 })] }, DiagnosticCodes.InvalidPort, "spec.ingress[0].ports[0].port" },
        { "bad port name", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = "Http_Port" })] }, DiagnosticCodes.InvalidPortName, "spec.ingress[0].ports[0].port" },
        { "endPort below port", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 90, EndPort = 80 })] }, DiagnosticCodes.InvalidEndPort, "spec.ingress[0].ports[0].endPort" },
        { "endPort with named port", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = "http", EndPort = 80 })] }, DiagnosticCodes.InvalidEndPort, "spec.ingress[0].ports[0].endPort" },
        { "endPort without port", new() { PodSelector = new(), Ingress = [Ingress(port: new() { EndPort = 80 })] }, DiagnosticCodes.InvalidEndPort, "spec.ingress[0].ports[0].endPort" },
        { "bad protocol", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Protocol = "ICMP", Port = 1 })] }, DiagnosticCodes.InvalidProtocol, "spec.ingress[0].ports[0].protocol" },
        { "lower-case protocol", new() { PodSelector = new(), Ingress = [Ingress(port: new() { Protocol = "tcp", Port = 1 })] }, DiagnosticCodes.InvalidProtocol, "spec.ingress[0].ports[0].protocol" },
        { "ipBlock with selector", new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.0.0/16" }, PodSelector = new() })] }, DiagnosticCodes.PeerConflict, "spec.ingress[0].from[0]" },
        { "empty peer", new() { PodSelector = new(), Ingress = [Ingress(new())] }, DiagnosticCodes.EmptyPeer, "spec.ingress[0].from[0]" },
        { "bad policy type", new() { PodSelector = new(), PolicyTypes = ["ingress"] }, DiagnosticCodes.InvalidPolicyType, "spec.policyTypes[0]" },
        { "missing podSelector", new() { }, DiagnosticCodes.MissingField, "spec.podSelector" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Create_InvalidPolicy_ReportsStableCodeAndFieldPath(string scenario, V1NetworkPolicySpec spec, string code, string fieldPath)
    {
        var snapshot = Create(Policy(spec));

        Assert.True(snapshot.HasErrors, scenario);
        var diagnostic = Assert.Single(snapshot.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(code, diagnostic.Code);
        Assert.Equal(fieldPath, diagnostic.FieldPath);
        Assert.Equal("prod/p", diagnostic.ObjectName);
        Assert.Equal("NetworkPolicy", diagnostic.ObjectKind);
        Assert.Empty(snapshot.Policies);
    }

    [Fact]
    public void Create_PolicyWithSeveralProblems_ReportsAllInOnePass()
    {
        var spec = new V1NetworkPolicySpec
        {
            PodSelector = new() { MatchExpressions = [new() { Key = "app", OperatorProperty = "Matches" }] },
            Ingress = [Ingress(new() { IpBlock = new() { Cidr = "nope" } }, new() { Port = 0 })],
            Egress = [new() { To = [new()], Ports = [new() { Protocol = "ICMP" }] }],
        };

        var snapshot = Create(Policy(spec));

        Assert.Equal(
            [DiagnosticCodes.InvalidSelectorOperator, DiagnosticCodes.InvalidCidr, DiagnosticCodes.InvalidPort, DiagnosticCodes.EmptyPeer, DiagnosticCodes.InvalidProtocol],
            snapshot.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Code));
    }

    [Fact]
    public void Create_InvalidPolicyWithSkip_DropsItWithWarningsAndKeepsTheRest()
    {
        var bad = Policy(new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 0 })] }, "bad");
        var good = Policy(new() { PodSelector = new() }, "good");

        var snapshot = ClusterSnapshot.Create([bad, good], [], [], new ClusterSnapshotOptions { InvalidObjects = InvalidObjectHandling.Skip });

        Assert.False(snapshot.HasErrors);
        Assert.Equal(["prod/good"], snapshot.Policies.Keys);
        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.DroppedInvalidObject && d.ObjectName == "prod/bad");
        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.InvalidPort && d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public void Create_InvalidPolicy_CompileFailsAndThrowIfErrorsCarriesEveryDiagnostic()
    {
        var snapshot = Create(Policy(new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 0 })] }));

        var result = new PolicyCompiler().Compile(snapshot);

        Assert.False(result.Success);
        Assert.Null(result.PolicySet);
        var exception = Assert.Throws<PolicyCompilationException>(() => result.ThrowIfErrors());
        Assert.Contains(exception.Diagnostics, d => d.Code == DiagnosticCodes.InvalidPort);
        Assert.Contains("NetworkPolicy prod/p (spec.ingress[0].ports[0].port): port 0 is outside 1-65535.", exception.Message);
    }

    [Fact]
    public void Create_DiagnosticWithSource_PointsAtTheFieldLine()
    {
        var policy = Policy(new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "bad" } })] });
        var source = new ObjectSource
        {
            Location = new SourceLocation("policies.yaml", 3),
            Fields = System.Collections.Immutable.ImmutableDictionary<string, SourceLocation>.Empty
                .Add("spec.ingress[0].from[0].ipBlock", new SourceLocation("policies.yaml", 12, 9)),
        };

        var snapshot = ClusterSnapshot.Create([policy], [], [], new ClusterSnapshotOptions { Sources = new Dictionary<object, ObjectSource>(ReferenceEqualityComparer.Instance) { [policy] = source } });

        var diagnostic = Assert.Single(snapshot.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(new SourceLocation("policies.yaml", 12, 9), diagnostic.Location);
        Assert.StartsWith("policies.yaml:12:9: error NP1006: NetworkPolicy prod/p (spec.ingress[0].from[0].ipBlock.cidr): 'bad' is not a valid CIDR", diagnostic.ToString());
    }

    [Fact]
    public void Create_PolicyTypesOmitted_DefaultsToIngressPlusEgressWhenEgressRulesExist()
    {
        var ingressOnly = Policy(new() { PodSelector = new(), Ingress = [Ingress()] }, "a");
        var withEgress = Policy(new() { PodSelector = new(), Egress = [new() { Ports = [new() { Port = 53, Protocol = "UDP" }] }] }, "b");
        var emptyEgress = Policy(new() { PodSelector = new(), Egress = [] }, "c");

        var snapshot = Create(ingressOnly, withEgress, emptyEgress);

        Assert.True(snapshot.Policies["prod/a"].AffectsIngress);
        Assert.False(snapshot.Policies["prod/a"].AffectsEgress);
        Assert.True(snapshot.Policies["prod/b"].AffectsIngress);
        Assert.True(snapshot.Policies["prod/b"].AffectsEgress);
        Assert.False(snapshot.Policies["prod/c"].AffectsEgress);
    }

    [Fact]
    public void Create_PortWithoutProtocol_DefaultsToTcp()
    {
        var snapshot = Create(Policy(new() { PodSelector = new(), Ingress = [Ingress(port: new() { Port = 80 })] }));

        Assert.Equal(TransportProtocol.Tcp, snapshot.Policies["prod/p"].Ingress[0].Ports[0].Protocol);
    }

    [Fact]
    public void Create_CidrWithHostBits_WarnsAndUsesTheNetwork()
    {
        var snapshot = Create(Policy(new() { PodSelector = new(), Ingress = [Ingress(new() { IpBlock = new() { Cidr = "198.18.3.7/16" } })] }));

        Assert.False(snapshot.HasErrors);
        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.NonCanonicalCidr && d.Severity == DiagnosticSeverity.Warning);
        Assert.Equal("198.18.0.0/16", snapshot.Policies["prod/p"].Ingress[0].Peers[0].IPBlock!.Cidr.ToString());
    }

    [Fact]
    public void Create_UndeclaredNamespace_IsCreatedWithNameLabelAndInfo()
    {
        var snapshot = Create(Policy(new() { PodSelector = new() }));

        Assert.True(snapshot.Namespaces["prod"].Implicit);
        Assert.Equal("prod", snapshot.Namespaces["prod"].Labels.Items.Single(l => l.Key == NamespaceDefinition.NameLabel).Value);
        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.ImplicitNamespace && d.Severity == DiagnosticSeverity.Info);
    }

    [Fact]
    public void Create_DeclaredNamespace_GetsTheNameLabelAsTheApiServerSetsIt()
    {
        var snapshot = ClusterSnapshot.Create([], [], [new V1Namespace { Metadata = new() { Name = "shop", Labels = new Dictionary<string, string> { ["team"] = "a" } } }]);

        Assert.Equal("kubernetes.io/metadata.name=shop,team=a", snapshot.Namespaces["shop"].Labels.ToString());
    }

    [Fact]
    public void Create_PodsWithoutIPs_GetDeterministicAddressesFromThePool()
    {
        V1Pod Pod(string name, string? ip = null) => new()
        {
            Metadata = new() { Name = name, NamespaceProperty = "a" },
            Status = ip is null ? null : new V1PodStatus { PodIPs = [new V1PodIP { Ip = ip }] },
        };

        var snapshot = ClusterSnapshot.Create([], [Pod("z"), Pod("b", "198.18.1.0"), Pod("c")], [], new ClusterSnapshotOptions { IPv6AddressPool = System.Net.IPNetwork.Parse("fd00:198::/64") });

        Assert.Equal(["198.18.1.1", "fd00:198::100"], snapshot.Pods["a/c"].Addresses.Select(a => a.ToString()));
        Assert.Equal(["198.18.1.2", "fd00:198::101"], snapshot.Pods["a/z"].Addresses.Select(a => a.ToString()));
        Assert.Equal(["198.18.1.0"], snapshot.Pods["a/b"].Addresses.Select(a => a.ToString()));
        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.AddressAssigned);
    }

    [Fact]
    public void Create_SingleStackIPv6Pod_GetsNoPoolAddress()
    {
        var pod = new V1Pod
        {
            Metadata = new() { Name = "v6", NamespaceProperty = "a" },
            Status = new V1PodStatus { PodIPs = [new V1PodIP { Ip = "fd00:198::20" }] },
        };

        var snapshot = ClusterSnapshot.Create([], [pod], []);

        Assert.Equal(["fd00:198::20"], snapshot.Pods["a/v6"].Addresses.Select(a => a.ToString()));
        Assert.DoesNotContain(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.AddressAssigned);
    }

    [Fact]
    public void Create_PodWithBadIPAndDuplicatePortName_ReportsBoth()
    {
        var pod = new V1Pod
        {
            Metadata = new() { Name = "web", NamespaceProperty = "a", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container { Name = "c1", Ports = [new() { Name = "http", ContainerPort = 80 }] },
                    new V1Container { Name = "c2", Ports = [new() { Name = "http", ContainerPort = 81 }] },
                ],
            },
            Status = new V1PodStatus { PodIP = "198.18.0.300" },
        };

        var snapshot = ClusterSnapshot.Create([], [pod], []);

        Assert.Equal(
            [(DiagnosticCodes.InvalidContainerPort, "spec.containers[1].ports[0].name"), (DiagnosticCodes.InvalidPodIP, "status.podIP")],
            snapshot.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => (d.Code, d.FieldPath!)));
    }

    [Fact]
    public void Create_DuplicatePolicy_IsAnError()
    {
        var snapshot = Create(Policy(new() { PodSelector = new() }), Policy(new() { PodSelector = new() }));

        Assert.Contains(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.DuplicateObject && d.ObjectName == "prod/p");
    }
}
