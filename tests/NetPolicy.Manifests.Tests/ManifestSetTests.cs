using NetPolicy.Compiler;

namespace NetPolicy.Manifests.Tests;

public class ManifestSetTests
{
    private const string BadCidrPolicy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: egress
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: web
          policyTypes:
          - Egress
          egress:
          - to:
            - ipBlock:
                cidr: 10.0.0.0/8
            - ipBlock:
                cidr: 10.0.0.300/33
          - ports:
            - port: 53
              protocol: UDP
        """;

    [Fact]
    public void KindOf_PodAndWorkloads_ReturnsTheKindTheyWereReadFrom()
    {
        var set = new ManifestReader().Read(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n---\n" +
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s, namespace: shop}\nspec: {template: {metadata: {labels: {app: s}}}}\n",
            "kinds.yaml");

        var merged = set.Merge(ManifestSet.Empty);

        Assert.Equal("Pod", set.KindOf(set.Pods.Single(p => p.Metadata.Name == "p")));
        Assert.Equal("StatefulSet", set.KindOf(set.Pods.Single(p => p.Metadata.Name == "s")));
        Assert.Equal("StatefulSet", merged.KindOf(merged.Pods.Single(p => p.Metadata.Name == "s")));
        Assert.Throws<ArgumentNullException>(() => set.KindOf(null!));
    }

    [Fact]
    public void ToSnapshot_BadCidr_DiagnosticPointsAtItsLine()
    {
        var set = new ManifestReader().Read(BadCidrPolicy, "policy.yaml");

        var (snapshot, diagnostics) = set.ToSnapshot();

        var diagnostic = Assert.Single(diagnostics, d => d.Code == DiagnosticCodes.InvalidCidr);
        Assert.Equal("spec.egress[0].to[1].ipBlock.cidr", diagnostic.FieldPath);
        Assert.Equal(new SourceLocation("policy.yaml", 17, 15), diagnostic.Location);
        Assert.Contains(diagnostic, snapshot.Diagnostics);
        Assert.True(snapshot.HasErrors);
    }

    [Fact]
    public void ClusterSnapshotCreate_WithSources_PointsAtTheLine()
    {
        var set = new ManifestReader().Read(BadCidrPolicy, "policy.yaml");

        var snapshot = ClusterSnapshot.Create(set.Policies, set.Pods, set.Namespaces, new ClusterSnapshotOptions { Sources = set.Sources });

        Assert.Equal(17, Assert.Single(snapshot.Diagnostics, d => d.Code == DiagnosticCodes.InvalidCidr).Location!.Line);
    }

    [Fact]
    public void ToSnapshot_InvalidPortNameInDeployment_PointsAtTheTemplateLine()
    {
        var yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: c\n        ports:\n        - name: Not_A_Port_Name\n          containerPort: 80\n";

        var result = new ManifestReader().Read(yaml, "deploy.yaml").ToSnapshot();

        var diagnostic = Assert.Single(result.Diagnostics, d => d.Code == DiagnosticCodes.InvalidPortName);
        Assert.Equal(15, diagnostic.Location!.Line);
        Assert.Equal("shop/web", diagnostic.ObjectName);
    }

    [Fact]
    public void ToSnapshot_ReaderDiagnostics_ComeFirst()
    {
        var set = new ManifestReader().Read("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" + BadCidrPolicy, "mixed.yaml");

        var result = set.ToSnapshot();

        Assert.Equal(DiagnosticCodes.SkippedKind, result.Diagnostics[0].Code);
        Assert.Equal(set.Diagnostics.Length + result.Snapshot.Diagnostics.Length, result.Diagnostics.Length);
        Assert.True(result.HasErrors);
    }

    [Fact]
    public void ToSnapshot_SkipInvalidObjects_DropsObjectsWithWrongFieldTypes()
    {
        var yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  labels: [x]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: good\n";
        var set = new ManifestReader().Read(yaml, "pods.yaml");

        var result = set.ToSnapshot(new ClusterSnapshotOptions { InvalidObjects = InvalidObjectHandling.Skip });

        Assert.False(result.HasErrors);
        Assert.Equal(["default/good"], result.Snapshot.Pods.Keys);
        Assert.Contains(result.Diagnostics, d => d.Code == DiagnosticCodes.WrongFieldType && d.Severity == DiagnosticSeverity.Warning);
        Assert.Contains(result.Diagnostics, d => d.Code == DiagnosticCodes.DroppedInvalidObject && d.ObjectName == "default/bad");
        Assert.True(set.HasErrors);
    }

    [Fact]
    public void Merge_TwoSets_KeepsOrderSourcesAndReportsWorkloadClashes()
    {
        var reader = new ManifestReader();
        var first = reader.Read("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: {labels: {a: b}}}}\n", "a.yaml");
        var second = reader.Read("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: other}\n", "b.yaml");

        var merged = first.Merge(second);

        Assert.Equal(["web", "other"], merged.Pods.Select(p => p.Metadata.Name));
        Assert.Equal("a.yaml", merged.Sources[merged.Pods[0]].Location.File);
        Assert.Equal("b.yaml", merged.Sources[merged.Pods[1]].Location.File);
        var duplicate = Assert.Single(merged.Diagnostics, d => d.Code == DiagnosticCodes.DuplicateObject);
        Assert.Equal("b.yaml", duplicate.Location!.File);
        Assert.Same(ManifestSet.Empty.Merge(first).Pods[0], first.Pods[0]);
    }
}
