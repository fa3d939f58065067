using System.Globalization;
using System.Text;
using k8s.Models;
using NetPolicy.Compiler;

namespace NetPolicy.Manifests.Tests;

public class ManifestReaderTests
{
    private static readonly string s_clusterPath = Path.Combine(AppContext.BaseDirectory, "TestData", "cluster.yaml");

    private static ManifestSet Read(string yaml, ManifestReaderOptions? options = null) =>
        new ManifestReader(options).Read(yaml, "test.yaml");

    [Fact]
    public void ReadPaths_ClusterFixture_ReadsEveryKindItUses()
    {
        var set = new ManifestReader().ReadPaths([s_clusterPath]);

        Assert.Equal(["shop"], set.Namespaces.Select(n => n.Metadata.Name));
        Assert.Equal(["db", "web"], set.Pods.Select(p => p.Metadata.Name));
        Assert.Equal(["allow-web-to-db"], set.Policies.Select(p => p.Metadata.Name));
        Assert.False(set.HasErrors, string.Join('\n', set.Diagnostics));
        Assert.Contains(set.Diagnostics, d => d.Code == DiagnosticCodes.SkippedKind && d.ObjectKind == "Service" && d.ObjectName == "shop/web");
        Assert.Contains(set.Diagnostics, d => d.Code == DiagnosticCodes.WorkloadExpanded && d.ObjectKind == "Deployment");
    }

    [Fact]
    public void Read_MultiDocumentYaml_ReturnsObjectsInOrderWithDocumentLines()
    {
        var yaml = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n...\n";

        var set = Read(yaml);

        Assert.Equal(["a", "b"], set.Namespaces.Select(n => n.Metadata.Name));
        Assert.Equal(1, set.Sources[set.Namespaces[0]].Location.Line);
        Assert.Equal(9, set.Sources[set.Namespaces[1]].Location.Line);
        Assert.Empty(set.Diagnostics);
    }

    [Fact]
    public void Read_JsonDocument_ReadsPod()
    {
        var json = """
            {
              "apiVersion": "v1",
              "kind": "Pod",
              "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api", "v": "2"}},
              "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
              "status": {"podIPs": [{"ip": "10.0.0.7"}]}
            }
            """;

        var set = new ManifestReader().Read(json, "pod.json");

        var pod = Assert.Single(set.Pods);
        Assert.Equal("shop", pod.Metadata.NamespaceProperty);
        Assert.Equal("2", pod.Metadata.Labels["v"]);
        Assert.Equal(8080, pod.Spec.Containers[0].Ports[0].ContainerPort);
        Assert.Equal("10.0.0.7", pod.Status.PodIPs[0].Ip);
        Assert.Equal(new SourceLocation("pod.json", 5, 85), set.Sources[pod].Fields["spec.containers[0].ports[0].containerPort"]);
    }

    [Fact]
    public void Read_KindList_ReadsItemsIncludingNestedLists()
    {
        var yaml = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Pod
              metadata: {name: a}
            - apiVersion: v1
              kind: PodList
              items:
              - apiVersion: v1
                kind: Pod
                metadata: {name: b}
            - apiVersion: v1
              kind: ConfigMap
              metadata: {name: c}
            metadata: {}
            """;

        var set = Read(yaml);

        Assert.Equal(["a", "b"], set.Pods.Select(p => p.Metadata.Name));
        Assert.Equal(4, set.Sources[set.Pods[0]].Location.Line);
        Assert.Equal(10, set.Sources[set.Pods[1]].Location.Line);
        Assert.Single(set.Diagnostics, d => d.Code == DiagnosticCodes.SkippedKind && d.ObjectName == "c");
    }

    [Fact]
    public void Read_JsonListFromKubectl_ReadsItems()
    {
        var json = """
            {
                "apiVersion": "v1",
                "items": [
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x"}}},
                    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}}}
                ],
                "kind": "List",
                "metadata": {"resourceVersion": ""}
            }
            """;

        var set = new ManifestReader().Read(json, "list.json");

        Assert.Equal("x", Assert.Single(set.Namespaces).Metadata.Name);
        var policy = Assert.Single(set.Policies);
        Assert.NotNull(policy.Spec.PodSelector);
        Assert.Null(policy.Spec.PodSelector.MatchLabels);
        Assert.Empty(set.Diagnostics);
    }

    [Fact]
    public void ReadPaths_Directory_ReadsManifestFilesRecursivelyInOrdinalOrder()
    {
        var root = Directory.CreateTempSubdirectory("manifests-");
        try
        {
            void Write(string relative, string name)
            {
                var path = Path.Combine(root.FullName, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
            }

            Write("b/z.yaml", "bz");
            Write("a.yml", "a");
            Write("B.json", "upper-b");
            Write("b/a/deep.YAML", "deep");
            Write("notes.txt", "ignored");
            Write(".hidden/x.yaml", "hidden");

            var set = new ManifestReader().ReadPaths([root.FullName]);

            Assert.Equal(["upper-b", "a", "deep", "bz"], set.Namespaces.Select(n => n.Metadata.Name));
            Assert.Equal(Path.Join(root.FullName, "b/a/deep.YAML"), set.Sources[set.Namespaces[2]].Location.File);
            Assert.Empty(set.Diagnostics);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void ReadPaths_MissingPath_ReportsUnreadableInputAndGoesOn()
    {
        var set = new ManifestReader().ReadPaths(["/no/such/file.yaml", s_clusterPath]);

        var diagnostic = Assert.Single(set.Diagnostics, d => d.Code == DiagnosticCodes.UnreadableInput);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("/no/such/file.yaml", diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(2, set.Pods.Length);
    }

    [Fact]
    public void ReadPaths_Dash_ReadsStandardInput()
    {
        var options = new ManifestReaderOptions { StandardInput = new StringReader("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: stdin\n") };

        var set = new ManifestReader(options).ReadPaths(["-"]);

        Assert.Equal("stdin", Assert.Single(set.Namespaces).Metadata.Name);
        Assert.Equal("-", set.Sources[set.Namespaces[0]].Location.File);
    }

    public static TheoryData<string, string, string> Workloads => new()
    {
        { "Deployment", "apps/v1", "spec:\n  template:\n" },
        { "StatefulSet", "apps/v1", "spec:\n  template:\n" },
        { "DaemonSet", "apps/v1", "spec:\n  template:\n" },
        { "ReplicaSet", "apps/v1", "spec:\n  template:\n" },
        { "ReplicationController", "v1", "spec:\n  template:\n" },
        { "Job", "batch/v1", "spec:\n  template:\n" },
        { "CronJob", "batch/v1", "spec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n" },
    };

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Read_Workload_BecomesOnePodWithTemplateLabelsAndPorts(string kind, string apiVersion, string specToTemplate)
    {
        var indent = new string(' ', specToTemplate.Split('\n')[^2].Length - specToTemplate.Split('\n')[^2].TrimStart().Length + 2);
        var template = $"metadata:\n  labels:\n    app: w\n    tier: \"1\"\nspec:\n  containers:\n  - name: c\n    ports:\n    - name: http\n      containerPort: 8080\n  initContainers:\n  - name: i\n    ports:\n    - containerPort: 9000\n      protocol: UDP\n";
        var yaml = $"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: w\n  namespace: apps\n  labels:\n    workload: label\n{specToTemplate}" +
            string.Concat(template.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => indent + l + "\n"));

        var set = Read(yaml);

        var pod = Assert.Single(set.Pods);
        Assert.Equal("w", pod.Metadata.Name);
        Assert.Equal("apps", pod.Metadata.NamespaceProperty);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "w", ["tier"] = "1" }, pod.Metadata.Labels);
        Assert.Equal("http", pod.Spec.Containers[0].Ports[0].Name);
        Assert.Equal(8080, pod.Spec.Containers[0].Ports[0].ContainerPort);
        Assert.Equal("UDP", pod.Spec.InitContainers[0].Ports[0].Protocol);
        var info = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.WorkloadExpanded, info.Code);
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.Equal(kind, info.ObjectKind);
        Assert.Equal("apps/w", info.ObjectName);

        var fields = set.Sources[pod].Fields;
        var portLine = yaml.Split('\n').ToList().FindIndex(l => l.Contains("containerPort: 8080", StringComparison.Ordinal)) + 1;
        Assert.Equal(portLine, fields["spec.containers[0].ports[0].containerPort"].Line);
        Assert.True(fields.ContainsKey("metadata.labels.app"));
        Assert.False(fields.ContainsKey("metadata.labels.workload"));
    }

    [Fact]
    public void Read_WorkloadWithoutExpansion_IsSkipped()
    {
        var set = Read("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {template: {}}\n", new ManifestReaderOptions { ExpandWorkloads = false });

        Assert.Empty(set.Pods);
        Assert.Equal(DiagnosticCodes.SkippedKind, Assert.Single(set.Diagnostics).Code);
    }

    [Fact]
    public void Read_WorkloadNameClash_KeepsFirstAndReportsDuplicate()
    {
        var yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: shop, labels: {from: pod}}
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: web, namespace: shop}
            spec:
              template:
                metadata: {labels: {from: statefulset}}
            """;

        var set = Read(yaml);

        var pod = Assert.Single(set.Pods);
        Assert.Equal("pod", pod.Metadata.Labels["from"]);
        var duplicate = Assert.Single(set.Diagnostics, d => d.Code == DiagnosticCodes.DuplicateObject);
        Assert.Equal(DiagnosticSeverity.Error, duplicate.Severity);
        Assert.Equal("StatefulSet", duplicate.ObjectKind);
        Assert.Equal(5, duplicate.Location!.Line);
        Assert.Contains("Pod shop/web (test.yaml:1:1)", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WorkloadWithoutTemplate_ReportsMissingField()
    {
        var set = Read("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: 1}\n");

        Assert.Empty(set.Pods);
        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.MissingField, diagnostic.Code);
        Assert.Equal("spec.template", diagnostic.FieldPath);
    }

    [Theory]
    [InlineData("Service")]
    [InlineData("ConfigMap")]
    [InlineData("ClusterRole")]
    public void Read_OtherKind_IsSkippedWithInfo(string kind)
    {
        var set = Read($"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n  namespace: y\ndata:\n  key: |\n    line one\n    line two\n");

        Assert.Empty(set.Pods);
        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.SkippedKind, diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Info, diagnostic.Severity);
        Assert.Equal(kind, diagnostic.ObjectKind);
        Assert.Equal("y/x", diagnostic.ObjectName);
        Assert.Equal(new SourceLocation("test.yaml", 1, 1), diagnostic.Location);
    }

    [Fact]
    public void Read_EmptyAndNullDocuments_AreIgnored()
    {
        var set = Read("---\n~\n---\n\n---\nnull\n---\n# nothing\n");

        Assert.Empty(set.Diagnostics);
        Assert.Empty(set.Pods);
    }

    [Fact]
    public void Read_MissingKind_ReportsMissingKind()
    {
        var set = Read("apiVersion: v1\nmetadata:\n  name: x\n");

        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.MissingKind, diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(1, diagnostic.Location!.Line);
    }

    [Fact]
    public void Read_MissingApiVersion_WarnsAndReadsTheObject()
    {
        var set = Read("kind: Namespace\nmetadata:\n  name: x\n");

        Assert.Single(set.Namespaces);
        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.MissingKind, diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
    }

    [Fact]
    public void Read_SyntaxError_ReportsLineAndReadsTheOtherDocuments()
    {
        var yaml = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: [b\n  labels: {}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n";

        var set = Read(yaml);

        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.SyntaxError, diagnostic.Code);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("test.yaml", diagnostic.Location!.File);
        Assert.InRange(diagnostic.Location.Line, 9, 11);
        Assert.Equal(["a", "c"], set.Namespaces.Select(n => n.Metadata.Name));
    }

    [Fact]
    public void Read_BadIndentation_ReportsSyntaxErrorAtItsLine()
    {
        var set = Read("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   namespace: b\n");

        var diagnostic = Assert.Single(set.Diagnostics);
        Assert.Equal(DiagnosticCodes.SyntaxError, diagnostic.Code);
        Assert.Equal(5, diagnostic.Location!.Line);
    }

    [Fact]
    public void ReadPaths_SyntaxErrorInOneFile_ReadsTheNextFile()
    {
        var root = Directory.CreateTempSubdirectory("manifests-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, "a.yaml"), "kind: Pod\nmetadata: {name: \"unterminated\n");
            File.WriteAllText(Path.Combine(root.FullName, "b.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");

            var set = new ManifestReader().ReadPaths([root.FullName]);

            Assert.Equal(DiagnosticCodes.SyntaxError, Assert.Single(set.Diagnostics).Code);
            Assert.Single(set.Namespaces);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("  labels: [a]\n", "metadata.labels", 4)]
    [InlineData("spec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: abc\n", "spec.containers[0].ports[0].containerPort", 9)]
    [InlineData("spec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: \"80\"\n", "spec.containers[0].ports[0].containerPort", 9)]
    [InlineData("spec:\n  containers: {a: b}\n", "spec.containers", 6)]
    [InlineData("spec:\n  hostNetwork: maybe\n", "spec.hostNetwork", 6)]
    [InlineData("status:\n  podIPs:\n  - ip: {a: 1}\n", "status.podIPs[0].ip", 7)]
    public void Read_WrongFieldType_ReportsWrongFieldTypeWithPathAndLine(string tail, string path, int line)
    {
        var set = Read("apiVersion: v1\nkind: Pod\nmetadata:\n" + (tail.StartsWith("  labels", StringComparison.Ordinal) ? tail : "  name: p\n" + tail));

        var diagnostic = Assert.Single(set.Diagnostics, d => d.Code == DiagnosticCodes.WrongFieldType);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(path, diagnostic.FieldPath);
        Assert.Equal(line, diagnostic.Location!.Line);
        Assert.Equal("Pod", diagnostic.ObjectKind);
        Assert.Single(set.Pods);
        Assert.True(set.HasErrors);
    }

    [Fact]
    public void Read_WrongTypeInsideWorkloadTemplate_ReportsTheWorkloadPath()
    {
        var set = Read("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers:\n      - ports:\n        - containerPort: x\n");

        var diagnostic = Assert.Single(set.Diagnostics, d => d.Code == DiagnosticCodes.WrongFieldType);
        Assert.Equal("spec.template.spec.containers[0].ports[0].containerPort", diagnostic.FieldPath);
        Assert.Equal("Deployment", diagnostic.ObjectKind);
        Assert.Equal(9, diagnostic.Location!.Line);
    }

    [Fact]
    public void Read_DocumentThatIsNotAMap_ReportsWrongFieldType()
    {
        var set = Read("- a\n- b\n");

        Assert.Equal(DiagnosticCodes.WrongFieldType, Assert.Single(set.Diagnostics).Code);
    }

    [Fact]
    public void Read_ScalarLabelValues_AreTheirText()
    {
        var set = Read("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    a: true\n    b: 1\n    c: null\n    d: ~\n    e: '007'\n    f: 1.50\n");

        Assert.Equal(
            new Dictionary<string, string> { ["a"] = "true", ["b"] = "1", ["c"] = "", ["d"] = "", ["e"] = "007", ["f"] = "1.50" },
            Assert.Single(set.Pods).Metadata.Labels);
    }

    [Fact]
    public void Read_PodIPs_ReadsPodIPAndEveryPodIP()
    {
        var set = new ManifestReader().ReadPaths([s_clusterPath]);

        var db = set.Pods.Single(p => p.Metadata.Name == "db");
        Assert.Equal("10.0.0.5", db.Status.PodIP);
        Assert.Equal(["10.0.0.5", "fd00::5"], db.Status.PodIPs.Select(ip => ip.Ip));
        Assert.Equal(27, set.Sources[db].Fields["status.podIPs[1].ip"].Line);
    }

    [Fact]
    public void Read_PolicyPorts_ReadsNumbersAndNamesAsIntOrString()
    {
        var set = new ManifestReader().ReadPaths([s_clusterPath]);

        var policy = Assert.Single(set.Policies);
        var ports = policy.Spec.Ingress[0].Ports;
        Assert.Equal("pg", ports[0].Port.Value);
        Assert.Equal("TCP", ports[0].Protocol);
        Assert.Equal("5433", ports[1].Port.Value);
        Assert.Equal(5440, ports[1].EndPort);
        Assert.Null(ports[1].Protocol);
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        var peer = policy.Spec.Ingress[0].FromProperty[1];
        Assert.Equal("In", peer.NamespaceSelector.MatchExpressions[0].OperatorProperty);
        Assert.Equal(["payments", "ops"], peer.NamespaceSelector.MatchExpressions[0].Values);
        Assert.Equal("10.0.0.0/8", policy.Spec.Egress[0].To[0].IpBlock.Cidr);
        Assert.Equal(["10.1.0.0/16"], policy.Spec.Egress[0].To[0].IpBlock.Except);
    }

    [Fact]
    public void Read_AnchorsAndFoldedScalars_UseTheFullParser()
    {
        var yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              labels: &labels
                app: web
              annotations:
                note: >
                  folded
                  text
            spec:
              containers:
              - name: c
                ports:
                - &port {name: http, containerPort: 80}
              initContainers:
              - name: i
                ports:
                - *port
            """;

        var set = Read(yaml);

        var pod = Assert.Single(set.Pods);
        Assert.Equal("web", pod.Metadata.Labels["app"]);
        Assert.Equal(80, pod.Spec.InitContainers[0].Ports[0].ContainerPort);
        Assert.Equal(15, set.Sources[pod].Fields["spec.containers[0].ports[0].containerPort"].Line);
        Assert.Empty(set.Diagnostics);
    }

    [Fact]
    public void Read_AliasBomb_ReportsSyntaxErrorInsteadOfExpanding()
    {
        var sb = new StringBuilder("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n");
        for (var i = 1; i < 12; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }

        var set = Read(sb.ToString());

        Assert.Equal(DiagnosticCodes.SyntaxError, Assert.Single(set.Diagnostics).Code);
    }

    [Fact]
    public void Read_GeneratedTwentyThousandDocuments_ReadsEveryObject()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 10_000; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{i % 10}\n  labels:\n    app: a{i % 7}\nspec:\n  containers:\n  - name: c\n    ports:\n    - name: http\n      containerPort: 8080\nstatus:\n  podIPs:\n  - ip: 10.{i / 65536}.{i / 256 % 256}.{i % 256}\n---\n");
            sb.Append(CultureInfo.InvariantCulture, $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{i}\n  namespace: ns{i % 10}\nspec:\n  podSelector:\n    matchLabels:\n      app: a{i % 7}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.{i % 256}.0.0/16\n    ports:\n    - port: http\n---\n");
        }

        var set = Read(sb.ToString());

        Assert.Equal(10_000, set.Pods.Length);
        Assert.Equal(10_000, set.Policies.Length);
        Assert.Empty(set.Diagnostics);
        Assert.Equal("p9999", set.Pods[^1].Metadata.Name);
        Assert.Equal((9_999 * 33) + 18, set.Sources[set.Policies[^1]].Location.Line);
        var snapshot = set.ToSnapshot();
        Assert.False(snapshot.HasErrors);
        Assert.Equal(10_000, snapshot.Snapshot.Pods.Count);
    }

    [Fact]
    public void Read_TruncatedOrGarbledInput_NeverThrows()
    {
        var text = File.ReadAllText(s_clusterPath);
        var reader = new ManifestReader();
        for (var length = 0; length < text.Length; length += 3)
        {
            reader.Read(text[..length], "cut.yaml");
        }

        var random = new Random(42);
        const string Alphabet = "ab: -[]{},\"'#&*!|>\n  \t?%@`~0";
        for (var i = 0; i < 2_000; i++)
        {
            var chars = new char[random.Next(1, 80)];
            for (var c = 0; c < chars.Length; c++)
            {
                chars[c] = Alphabet[random.Next(Alphabet.Length)];
            }

            reader.Read("kind: Pod\nmetadata:\n  name: x\nspec:\n  " + new string(chars), "random.yaml");
        }
    }
}
