using System.Text.Json;
using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Cli.Tests;

public sealed class CompileCommandTests
{
    [Fact]
    public void Compile_WithOut_WritesThreeFilesBpfImagesAndSummary()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp.Path, "out");

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["diagnostics.json", "identities.json", "ip6tables.rules", "ipsets.restore", "iptables.rules", "ir.json", "ruleset.nft"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["maps.bin", "maps.json"], Directory.GetFiles(Path.Combine(output, "bpf")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var lines = run.Stdout.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("5 pods in 2 namespaces, 2 policies", lines[0]);
        Assert.EndsWith($"; wrote identities.json, ir.json, diagnostics.json, ruleset.nft, ipsets.restore, iptables.rules, ip6tables.rules, bpf/maps.json, bpf/maps.bin to {output}", lines[0]);
        Assert.Equal("bpf: ipcache 5 host + 2 lpm, 5 endpoints, 3 rule sets, 4 policy entries, 4 rule ids", lines[1]);
        Assert.Equal(string.Empty, run.Stderr);
    }

    [Fact]
    public void Compile_NoBpf_WritesIrOnlyAndRemovesEarlierImages()
    {
        using var temp = new TempDirectory();
        var output = Path.Combine(temp.Path, "out");
        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", output).ExitCode);

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", output, "--no-bpf");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["diagnostics.json", "identities.json", "ip6tables.rules", "ipsets.restore", "iptables.rules", "ir.json", "ruleset.nft"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(output, "bpf")));
        Assert.EndsWith($"wrote identities.json, ir.json, diagnostics.json, ruleset.nft, ipsets.restore, iptables.rules, ip6tables.rules to {output} (no BPF images: --no-bpf)", run.Stdout.TrimEnd());
    }

    [Fact]
    public void Compile_WithOut_BpfImagesMatchTheLibrary()
    {
        using var temp = new TempDirectory();

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path).ExitCode);

        var images = BpfMapImages.ReadBinary(new MemoryStream(File.ReadAllBytes(Path.Combine(temp.Path, "bpf", "maps.bin"))));
        Assert.Equal(5, images.EndpointIds.Count);
        Assert.Equal(1u, images.EndpointIds["default/netshoot"]);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "bpf", "maps.json")));
        var maps = doc.RootElement.GetProperty("maps").EnumerateArray().ToList();
        Assert.Equal(["np_ipcache_host", "np_ipcache_lpm", "np_endpoints", "np_rulesets", "np_policy"], maps.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(
            ["TCP/53", "TCP/5432", "TCP/8080", "UDP/53"],
            maps[4].GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("ports").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Compile_Node_ImagesProgramOnlyThatNodesPods()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("cluster.yaml", Manifests.PodsOnTwoNodes);
        var a = Path.Combine(temp.Path, "a");
        var b = Path.Combine(temp.Path, "b");

        var runA = Netpol.Run("compile", path, "-o", a, "--node", "node-a");
        var runB = Netpol.Run("compile", path, "-o", b, "--node", "node-b");

        Assert.True(runA.ExitCode == 0, runA.ToString());
        Assert.True(runB.ExitCode == 0, runB.ToString());
        var imagesA = BpfMapImages.ReadBinary(new MemoryStream(File.ReadAllBytes(Path.Combine(a, "bpf", "maps.bin"))));
        var imagesB = BpfMapImages.ReadBinary(new MemoryStream(File.ReadAllBytes(Path.Combine(b, "bpf", "maps.bin"))));
        Assert.Equal(["shop/cache", "shop/db"], imagesA.EndpointIds.Keys);
        Assert.Equal(["shop/web"], imagesB.EndpointIds.Keys);

        // node-a enforces db's ingress (TCP 5432 from web), node-b web's egress (TCP 5432 and UDP 53 to db); both
        // know every pod.
        Assert.Equal([(byte)6], imagesA.Policy.Select(e => e.Key.Protocol).Distinct());
        Assert.All(imagesA.Policy, e => Assert.Equal(BpfConstants.DirectionIngress, e.Key.Direction));
        Assert.Equal(2, imagesB.Policy.Length);
        Assert.All(imagesB.Policy, e => Assert.Equal(BpfConstants.DirectionEgress, e.Key.Direction));
        Assert.Equal(3, imagesA.IPCacheHost.Length);
        Assert.True(imagesA.Maps[0].Equals(imagesB.Maps[0]));
        Assert.Equal(string.Empty, runA.Stderr);
    }

    [Fact]
    public void Compile_NodeWithoutPods_WarnsAndWritesImagesWithoutEndpoints()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("cluster.yaml", Manifests.PodsOnTwoNodes);

        var run = Netpol.Run("compile", path, "-o", temp.Path, "--node", "node-x");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("no pod is scheduled on node 'node-x'", run.Stderr, StringComparison.Ordinal);
        var images = BpfMapImages.ReadBinary(new MemoryStream(File.ReadAllBytes(Path.Combine(temp.Path, "bpf", "maps.bin"))));
        Assert.Empty(images.EndpointIds);
        Assert.Empty(images.Policy);
        Assert.Equal(3, images.IPCacheHost.Length);
    }

    [Fact]
    public void Compile_NodeAddress_IsAHostEntryOfTheIPCache()
    {
        using var temp = new TempDirectory();

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path, "--node-address", "10.0.0.1", "--node-address", "fd00::1");

        Assert.True(run.ExitCode == 0, run.ToString());
        var images = BpfMapImages.ReadBinary(new MemoryStream(File.ReadAllBytes(Path.Combine(temp.Path, "bpf", "maps.bin"))));
        Assert.Equal(
            ["10.0.0.1", "fd00::1"],
            images.IPCacheHost.Where(e => e.Value.Identity == BpfConstants.IdentityHost).Select(e => e.Key.Address.ToString()).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10.0.0.0/8")]
    public void Compile_BadNodeAddress_IsAUsageError(string address)
    {
        using var temp = new TempDirectory();

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path, "--node-address", address);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"'{address}' is not an IPv4 or IPv6 address, for example 10.0.0.1 or fd00::1.", run.Stderr);
    }

    [Fact]
    public void Compile_PodCidrAndNodeAddress_ShapeTheNetfilterArtifacts()
    {
        using var temp = new TempDirectory();
        var closed = Path.Combine(temp.Path, "closed");
        var open = Path.Combine(temp.Path, "open");

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", closed, "--pod-cidr", "198.18.1.0/24", "--node-address", "198.19.0.1");
        var runOpen = Netpol.Run("compile", Netpol.PaymentsSample, "-o", open, "--pod-cidr", "198.18.1.0/24", "--node-address", "198.19.0.1", "--fail-open");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(runOpen.ExitCode == 0, runOpen.ToString());
        var iptables = File.ReadAllText(Path.Combine(closed, "iptables.rules"));
        var nft = File.ReadAllText(Path.Combine(closed, "ruleset.nft"));
        Assert.Contains("-s 198.18.1.0/24 -m set ! --match-set", iptables, StringComparison.Ordinal); // unprogrammed senders dropped
        Assert.Contains("198.19.0.1", iptables, StringComparison.Ordinal);
        Assert.Contains("198.18.1.0/24", nft, StringComparison.Ordinal);
        Assert.Contains("198.19.0.1", nft, StringComparison.Ordinal);
        Assert.DoesNotContain("-s 198.18.1.0/24 -m set ! --match-set", File.ReadAllText(Path.Combine(open, "iptables.rules")), StringComparison.Ordinal);
        Assert.NotEqual(nft, File.ReadAllText(Path.Combine(open, "ruleset.nft")));
    }

    [Theory]
    [InlineData("198.18.1.0")]
    [InlineData("198.18.1.1/24")]
    public void Compile_BadPodCidr_IsAUsageError(string cidr)
    {
        using var temp = new TempDirectory();

        var run = Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path, "--pod-cidr", cidr);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"'{cidr}' is not a CIDR with no host bits set", run.Stderr);
    }

    [Fact]
    public void Compile_TwiceWithOut_WritesByteIdenticalFiles()
    {
        using var temp = new TempDirectory();
        var first = Path.Combine(temp.Path, "first");
        var second = Path.Combine(temp.Path, "second");

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", first).ExitCode);
        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "--out", second).ExitCode);

        foreach (var name in new[] { "identities.json", "ir.json", "diagnostics.json", "ruleset.nft", "ipsets.restore", "iptables.rules", "ip6tables.rules", "bpf/maps.json", "bpf/maps.bin" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, name)), File.ReadAllBytes(Path.Combine(second, name)));
        }
    }

    [Fact]
    public void Compile_WithOut_IdentitiesJsonHasSchemaFields()
    {
        using var temp = new TempDirectory();

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path).ExitCode);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "identities.json")));
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(261u, root.GetProperty("nextIdentity").GetUInt32());
        Assert.Equal(["host", "world"], root.GetProperty("reserved").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        var identities = root.GetProperty("identities").EnumerateArray().ToList();
        Assert.Equal(5, identities.Count);
        var payments = Assert.Single(identities, i => i.GetProperty("pods").EnumerateArray().Any(p => p.GetString() == "production/payments-api"));
        Assert.Equal("production", payments.GetProperty("namespace").GetString());
        Assert.Equal("payments-api", payments.GetProperty("labels").GetProperty("pod").GetProperty("app").GetString());
        Assert.Equal("payments", payments.GetProperty("labels").GetProperty("namespace").GetProperty("team").GetString());
    }

    [Fact]
    public void Compile_WithOut_IrJsonHasEndpointsRuleSetsAndIPCache()
    {
        using var temp = new TempDirectory();

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path).ExitCode);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "ir.json")));
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        foreach (var property in new[] { "addressClasses", "ipcache", "peerSets", "ruleSets", "endpoints" })
        {
            Assert.Equal(JsonValueKind.Array, root.GetProperty(property).ValueKind);
        }

        var endpoints = root.GetProperty("endpoints").EnumerateArray().ToList();
        Assert.Equal(5, endpoints.Count);
        var api = Assert.Single(endpoints, e => e.GetProperty("pod").GetString() == "production/payments-api");
        Assert.Equal(["198.18.1.12"], api.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        var ingress = api.GetProperty("ingress");
        Assert.True(ingress.GetProperty("isolated").GetBoolean());
        Assert.Equal(["production/default-deny-ingress", "production/payments-api-allow"], ingress.GetProperty("policies").EnumerateArray().Select(p => p.GetString()));

        var ruleSetId = ingress.GetProperty("ruleSet").GetInt32();
        var ruleSet = Assert.Single(root.GetProperty("ruleSets").EnumerateArray(), r => r.GetProperty("id").GetInt32() == ruleSetId);
        Assert.Equal("ingress", ruleSet.GetProperty("direction").GetString());
        var rule = Assert.Single(ruleSet.GetProperty("rules").EnumerateArray());
        Assert.Equal("TCP", rule.GetProperty("protocol").GetString());
        Assert.Equal(8080, rule.GetProperty("ports").GetProperty("first").GetInt32());
        Assert.Equal(8080, rule.GetProperty("ports").GetProperty("last").GetInt32());
        Assert.Equal("allow", rule.GetProperty("action").GetString());
        Assert.Equal("production/payments-api-allow", rule.GetProperty("source").GetProperty("policy").GetString());
        Assert.Equal(0, rule.GetProperty("source").GetProperty("peer").GetInt32());
        Assert.False(ruleSet.TryGetProperty("entries", out _)); // only with --entries

        var ipcache = root.GetProperty("ipcache").EnumerateArray().ToList();
        Assert.Contains(ipcache, e => e.GetProperty("prefix").GetString() == "198.18.1.12/32" && e.GetProperty("identity").GetUInt32() == api.GetProperty("identity").GetUInt32());
    }

    [Fact]
    public void Compile_WithEntries_IrJsonHasFlattenedEntriesWithAttribution()
    {
        using var temp = new TempDirectory();

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path, "--entries").ExitCode);

        using var ir = System.Text.Json.JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(temp.Path, "ir.json")));
        var entries = ir.RootElement.GetProperty("ruleSets").EnumerateArray().SelectMany(r => r.GetProperty("entries").EnumerateArray()).ToList();
        Assert.Contains(entries, e => e.GetProperty("kind").GetString() == "identity" && e.GetProperty("attribution").GetArrayLength() == 1);
    }

    [Fact]
    public void Compile_WithOut_DiagnosticsJsonIsEmptyForValidInput()
    {
        using var temp = new TempDirectory();

        Assert.Equal(0, Netpol.Run("compile", Netpol.PaymentsSample, "-o", temp.Path).ExitCode);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(temp.Path, "diagnostics.json")));
        Assert.Equal(1, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("errors").GetInt32());
        Assert.Empty(doc.RootElement.GetProperty("diagnostics").EnumerateArray());
    }

    [Fact]
    public void Compile_InvalidCidr_ExitsOneWithFileLineDiagnostic()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("bad.yaml", Manifests.InvalidCidr);

        var run = Netpol.Run("compile", path);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"{path}:{Manifests.InvalidCidrLine}", run.Stderr);
        Assert.Contains("error NP1006", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public void Compile_InvalidCidrWithOut_WritesDiagnosticsJsonOnly()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("bad.yaml", Manifests.InvalidCidr);
        var output = Path.Combine(temp.Path, "out");

        var run = Netpol.Run("compile", path, "-o", output);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(["diagnostics.json"], Directory.GetFiles(output).Select(Path.GetFileName));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "diagnostics.json")));
        var diagnostic = Assert.Single(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("severity").GetString() == "error");
        Assert.Equal("NP1006", diagnostic.GetProperty("code").GetString());
        Assert.Equal("shop/bad-cidr", diagnostic.GetProperty("object").GetString());
        Assert.Equal("NetworkPolicy", diagnostic.GetProperty("kind").GetString());
        Assert.Equal("spec.ingress[0].from[0].ipBlock.cidr", diagnostic.GetProperty("field").GetString());
        Assert.Equal(path, diagnostic.GetProperty("file").GetString());
        Assert.Equal(Manifests.InvalidCidrLine, diagnostic.GetProperty("line").GetInt32());
    }

    [Fact]
    public void Compile_InvalidCidrWithSkipInvalid_ExitsZeroWithWarning()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("bad.yaml", Manifests.InvalidCidr);

        var run = Netpol.Run("compile", path, "--skip-invalid");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("warning", run.Stderr);
        Assert.Contains("shop/bad-cidr", run.Stderr);
        Assert.DoesNotContain(": error ", run.Stderr);
        Assert.Contains("shop/web", run.Stdout);
    }

    [Fact]
    public void Compile_SkipInvalidWithQuiet_HidesWarnings()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("bad.yaml", Manifests.InvalidCidr);

        var run = Netpol.Run("compile", path, "--skip-invalid", "--quiet");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Stderr);
    }

    [Fact]
    public void Compile_WithoutOut_PrintsIdentityTableAndRules()
    {
        var run = Netpol.Run("compile", Netpol.PaymentsSample);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("IDENTITIES", run.Stdout);
        Assert.Matches(@"259\s+production\s+app=payments-api\s+payments-api", run.Stdout);
        Assert.Contains("production/payments-api  identity 259  198.18.1.12", run.Stdout);
        Assert.Contains("ingress: isolated by default-deny-ingress, payments-api-allow", run.Stdout);
        Assert.Matches(@"allow\s+TCP/8080\s+from production/nginx-ingress\s+by payments-api-allow spec\.ingress\[0\]\.from\[0\] ports\[0\]", run.Stdout);
        Assert.Matches(@"allow\s+UDP/53\s+to any peer", run.Stdout);
        Assert.Contains("ingress: isolated by default-deny-ingress (rule set 1): no rules, all ingress denied", run.Stdout);
        Assert.Contains("egress: not isolated, all egress allowed", run.Stdout);
    }

    [Fact]
    public void Compile_FormatJson_PrintsOneDocumentWithThreeSections()
    {
        var run = Netpol.Run("compile", Netpol.PaymentsSample, "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(["schemaVersion", "identities", "ir", "diagnostics"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(5, doc.RootElement.GetProperty("ir").GetProperty("endpoints").GetArrayLength());
    }

    [Fact]
    public void Compile_Ipv4Pool_AssignsAddressesFromPool()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("pods.yaml", Manifests.PodsWithoutAddresses);

        var run = Netpol.Run("compile", path, "--ipv4-pool", "10.20.0.0/16", "--ipv6-pool", "fd00:20::/64", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var addresses = doc.RootElement.GetProperty("ir").GetProperty("endpoints").EnumerateArray()
            .ToDictionary(e => e.GetProperty("pod").GetString()!, e => e.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).ToList());
        Assert.Equal(["10.20.1.0", "fd00:20::100"], addresses["shop/a"]);
        Assert.Equal(["10.20.1.1", "fd00:20::101"], addresses["shop/b"]);
    }

    [Fact]
    public void Compile_Verbose_PrintsInfoDiagnostics()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("pods.yaml", Manifests.PodsWithoutAddresses);

        var quiet = Netpol.Run("compile", path);
        var verbose = Netpol.Run("compile", path, "--verbose");

        Assert.DoesNotMatch(@"(?m)(^|: )info NP1103", quiet.Stderr);
        Assert.Matches(@"(?m)(^|: )info NP1103", verbose.Stderr);
    }

    [Theory]
    [InlineData("--ipv4-pool", "fd00::/64")]
    [InlineData("--ipv4-pool", "10.0.0.0/33")]
    [InlineData("--ipv6-pool", "10.0.0.0/8")]
    [InlineData("--format", "yaml")]
    public void Compile_BadOptionValue_ExitsTwo(string option, string value)
    {
        var run = Netpol.Run("compile", Netpol.PaymentsSample, option, value);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(value, run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public void Compile_QuietAndVerbose_ExitsTwo()
    {
        var run = Netpol.Run("compile", Netpol.PaymentsSample, "--quiet", "--verbose");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--quiet and --verbose", run.Stderr);
    }
}
