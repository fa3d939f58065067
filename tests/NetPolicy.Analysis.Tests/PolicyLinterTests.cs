using System.Collections.Immutable;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Model;
using static NetPolicy.Analysis.Tests.Fixtures;

namespace NetPolicy.Analysis.Tests;

public class PolicyLinterTests
{
    private static List<LintFinding> Lint(ClusterSnapshot snapshot, string code) =>
        [.. PolicyLinter.Lint(snapshot, options: null).Where(f => f.Code == code)];

    [Fact]
    public void Lint_PolicySelectingNoPod_ReportsNP4001AtPodSelector()
    {
        var snapshot = Shop(Ingress("ghost", App("missing"), Rule([PodPeer("web")])));

        var finding = Assert.Single(Lint(snapshot, LintCodes.PolicySelectsNoPod));

        Assert.Equal("NetworkPolicy", finding.ObjectKind);
        Assert.Equal("shop/ghost", finding.ObjectName);
        Assert.Equal("spec.podSelector", finding.FieldPath);
        Assert.Equal(DiagnosticSeverity.Warning, finding.Severity);
    }

    [Fact]
    public void Lint_PolicySelectingAPod_DoesNotReportNP4001()
    {
        var snapshot = Shop(Ingress("web", App("web"), Rule([PodPeer("api")])));

        Assert.Empty(Lint(snapshot, LintCodes.PolicySelectsNoPod));
    }

    [Fact]
    public void Lint_PeerSelectingNothing_ReportsNP4002PerPeer()
    {
        var snapshot = Shop(Ingress("web", App("web"),
            Rule([PodPeer("api"), PodPeer("nobody")]),
            Rule([new NetworkPolicyPeer { NamespaceSelector = LabelSelector.ForLabels("team", "none") }])));

        var findings = Lint(snapshot, LintCodes.PeerSelectsNothing);

        Assert.Equal(["spec.ingress[0].from[1]", "spec.ingress[1].from[0]"], findings.Select(f => f.FieldPath));
        Assert.Contains("selects no namespace", findings[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_PeerInOtherNamespaceWithoutNamespaceSelector_ReportsNP4002()
    {
        // coredns lives in kube-system: a bare podSelector only looks in the policy's own namespace.
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("kube-dns")], Udp(53), Tcp(53))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.PeerSelectsNothing));

        Assert.Equal("spec.egress[0].to[0]", finding.FieldPath);
    }

    [Fact]
    public void Lint_PeersSelectingPods_DoNotReportNP4002()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("api"), new NetworkPolicyPeer { NamespaceSelector = LabelSelector.Everything, PodSelector = App("kube-dns") }])));

        Assert.Empty(Lint(snapshot, LintCodes.PeerSelectsNothing));
    }

    [Fact]
    public void Lint_PodsLeftOutOfIngressPolicies_ReportsNP4003ForIngressOnly()
    {
        var snapshot = Shop(Ingress("web", App("web"), Rule([PodPeer("api")])));

        var findings = Lint(snapshot, LintCodes.PodNotIsolated);

        Assert.Equal(["shop/api", "shop/db"], findings.Select(f => f.ObjectName).Order(StringComparer.Ordinal));
        Assert.All(findings, f => Assert.Equal("Pod", f.ObjectKind));
        Assert.All(findings, f => Assert.Contains("ingress", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Lint_DefaultDenyForEveryPod_DoesNotReportNP4003()
    {
        var snapshot = Shop(Ingress("deny", LabelSelector.Everything), Ingress("web", App("web"), Rule([PodPeer("api")])));

        Assert.Empty(Lint(snapshot, LintCodes.PodNotIsolated));
    }

    [Fact]
    public void Lint_EgressWithoutDns_ReportsNP4004AsError()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("db")], Tcp(5432))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.EgressBlocksDns));

        Assert.Equal("shop/web", finding.ObjectName);
        Assert.Equal(DiagnosticSeverity.Error, finding.Severity);
        Assert.Contains("UDP/53 and TCP/53", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_EgressWithUdpDnsOnly_ReportsNP4004AsWarningForTcp()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([KubeSystem()], Udp(53))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.EgressBlocksDns));

        Assert.Equal(DiagnosticSeverity.Warning, finding.Severity);
        Assert.Contains("allows TCP/53 to any destination", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_DnsRuleToPodsNotInTheInput_ReportsTheEmptyPeerNotBlockedDns()
    {
        // The cluster DNS is rarely part of the manifests: a DNS rule to it is not "DNS blocked", but its peer selects nothing.
        var snapshot = Snapshot(ShopPods().Where(p => p.Namespace == "shop"), Egress("web", App("web"), Dns()));

        var findings = PolicyLinter.Lint(snapshot, options: null);

        Assert.DoesNotContain(findings, f => f.Code == LintCodes.EgressBlocksDns);
        Assert.Equal("spec.egress[0].to[0]", Assert.Single(findings, f => f.Code == LintCodes.PeerSelectsNothing).FieldPath);
    }

    [Fact]
    public void Lint_DnsPortOnlyForSctp_ReportsNP4004()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([KubeSystem()], new NetworkPolicyPort { Protocol = TransportProtocol.Sctp, Port = 53 }), Rule([], Tcp(50, 60))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.EgressBlocksDns));

        Assert.Equal(DiagnosticSeverity.Error, finding.Severity);
        Assert.Contains("allows UDP/53 to any destination", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lint_EgressAllowingDns_DoesNotReportNP4004(bool anyDestination)
    {
        var rule = anyDestination ? Rule([], Udp(53), Tcp(53)) : Dns();
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("db")], Tcp(5432)), rule));

        Assert.Empty(Lint(snapshot, LintCodes.EgressBlocksDns));
    }

    [Fact]
    public void Lint_RuleInsideABroaderRule_ReportsNP4005OnTheNarrowOne()
    {
        var snapshot = Shop(Ingress("web", App("web"),
            Rule([PodPeer("api")], Tcp(85)),
            Rule([PodPeer("api"), PodPeer("db")], Tcp(80, 90)),
            Rule([Block("10.1.0.0/16")], Tcp(443)),
            Rule([Block("10.0.0.0/8", "10.2.0.0/16")], Tcp(443))));

        var findings = Lint(snapshot, LintCodes.RedundantRule);

        Assert.Equal(["spec.ingress[0]", "spec.ingress[2]"], findings.Select(f => f.FieldPath));
        Assert.Contains("spec.ingress[1]", findings[0].Message, StringComparison.Ordinal);
        Assert.Contains("spec.ingress[3]", findings[1].Message, StringComparison.Ordinal);
        Assert.All(findings, f => Assert.Equal(DiagnosticSeverity.Info, f.Severity));
    }

    [Fact]
    public void Lint_DuplicateRules_ReportsOnlyTheLaterOne()
    {
        var snapshot = Shop(Egress("web", App("web"), Dns(), Rule([PodPeer("db")], Tcp(5432)), Dns()));

        var finding = Assert.Single(Lint(snapshot, LintCodes.RedundantRule));

        Assert.Equal("spec.egress[2]", finding.FieldPath);
        Assert.Contains("exactly what spec.egress[0]", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_RulesThatOnlyOverlap_DoNotReportNP4005()
    {
        var snapshot = Shop(Ingress("web", App("web"),
            Rule([PodPeer("api")], Tcp(80, 90)),
            Rule([PodPeer("api")], Tcp(85, 95)),
            Rule([PodPeer("db")], Tcp(80)),
            Rule([Block("10.1.0.0/16")], Tcp(443)),
            Rule([Block("10.0.0.0/8", "10.1.2.0/24")], Tcp(443)),
            Rule([PodPeer("api")], Named("http")),
            Rule([new NetworkPolicyPeer { NamespaceSelector = KubeSystem().NamespaceSelector }], Tcp(80))));

        Assert.Empty(Lint(snapshot, LintCodes.RedundantRule));
    }

    [Fact]
    public void Lint_IngressNamedPortNoSelectedPodHas_ReportsNP4006()
    {
        var snapshot = Shop(Ingress("api", App("api"), Rule([PodPeer("web")], Named("http"))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.NamedPortNotFound));

        Assert.Equal("spec.ingress[0].ports[0].port", finding.FieldPath);
        Assert.Contains("'http'", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_IngressNamedPortASelectedPodHas_DoesNotReportNP4006()
    {
        var snapshot = Shop(Ingress("web", App("web"), Rule([PodPeer("api")], Named("http"))));

        Assert.Empty(Lint(snapshot, LintCodes.NamedPortNotFound));
    }

    [Fact]
    public void Lint_EgressNamedPortNoPeerPodHas_ReportsNP4006()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("api")], Named("postgres")), Dns()));

        var finding = Assert.Single(Lint(snapshot, LintCodes.NamedPortNotFound));

        Assert.Equal("spec.egress[0].ports[0].port", finding.FieldPath);
    }

    [Fact]
    public void Lint_EgressNamedPortAPeerPodHas_DoesNotReportNP4006()
    {
        var snapshot = Shop(Egress("web", App("web"), Rule([PodPeer("db")], Named("postgres")), Rule([KubeSystem()], Named("dns", TransportProtocol.Udp), Named("dns-tcp"))));

        Assert.Empty(Lint(snapshot, LintCodes.NamedPortNotFound));
    }

    [Fact]
    public void Lint_IPBlockContainingPodIPs_ReportsNP4007()
    {
        var snapshot = Shop(Egress("web", App("web"), Dns(), Rule([Block("0.0.0.0/0", "10.0.1.0/24")], Tcp(443))));

        var finding = Assert.Single(Lint(snapshot, LintCodes.IPBlockCoversPods));

        Assert.Equal("spec.egress[1].to[0].ipBlock.cidr", finding.FieldPath);
        Assert.Contains("3 pod(s)", finding.Message, StringComparison.Ordinal);
        Assert.Contains("shop/api", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("coredns", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_IPBlockExceptingThePodRange_DoesNotReportNP4007()
    {
        var snapshot = Shop(Egress("web", App("web"), Dns(), Rule([Block("0.0.0.0/0", "10.0.0.0/8")], Tcp(443))));

        Assert.Empty(Lint(snapshot, LintCodes.IPBlockCoversPods));
    }

    [Fact]
    public void Lint_WithSources_FindingsCarryTheFieldLocation()
    {
        var snapshot = Shop(Ingress("ghost", App("missing"), Rule([PodPeer("web")])));
        var source = new ObjectSource
        {
            Location = new SourceLocation("policies.yaml", 10),
            Fields = ImmutableDictionary<string, SourceLocation>.Empty.Add("spec.podSelector", new SourceLocation("policies.yaml", 16, 3)),
        };
        var options = new PolicyLintOptions { Sources = ObjectSources.Create([KeyValuePair.Create("shop/ghost", source)], []) };

        var finding = PolicyLinter.Lint(snapshot, options).Single(f => f.Code == LintCodes.PolicySelectsNoPod);

        Assert.Equal(new SourceLocation("policies.yaml", 16, 3), finding.Location);
        Assert.StartsWith("policies.yaml:16:3: warning NP4001: NetworkPolicy shop/ghost (spec.podSelector): ", finding.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_DisabledCode_IsNotReported()
    {
        var snapshot = Shop(Ingress("ghost", App("missing"), Rule([PodPeer("web")])));
        var options = new PolicyLintOptions();
        options.DisabledCodes.Add(LintCodes.PolicySelectsNoPod);

        var findings = PolicyLinter.Lint(snapshot, options);

        Assert.DoesNotContain(findings, f => f.Code == LintCodes.PolicySelectsNoPod);
        Assert.Contains(findings, f => f.Code == LintCodes.PodNotIsolated);
    }

    [Fact]
    public void LintRules_ListEveryLintCodeOnce()
    {
        var codes = typeof(LintCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!).Where(c => c.StartsWith("NP40", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

        Assert.Equal(codes, AnalysisRule.LintRules.Select(r => r.Code));
    }
}
