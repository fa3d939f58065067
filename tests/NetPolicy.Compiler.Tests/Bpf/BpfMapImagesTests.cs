using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Tests.Support;
using static NetPolicy.Compiler.Tests.Support.Cluster;

namespace NetPolicy.Compiler.Tests.Bpf;

public sealed class BpfMapImagesTests
{
    [Fact]
    public void Maps_AreTheFiveMapsWithTheirDefinitions()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        Assert.Equal(
            [
                "np_ipcache_host (Hash, 16+8 bytes, 5/262144 entries)",
                $"np_ipcache_lpm (LpmTrie, 20+8 bytes, {images.IPCacheLpm.Length}/65536 entries)",
                "np_endpoints (Array, 4+16 bytes, 4/65536 entries)",
                "np_rulesets (Array, 4+16 bytes, 4/262144 entries)",
                $"np_policy (Hash, 16+8 bytes, {images.Policy.Length}/262144 entries)",
            ],
            images.Maps.Select(m => m.ToString()));
        Assert.Equal(1u, images.GetMap(BpfConstants.IPCacheLpmMapName).Flags);
        Assert.All(images.Maps, m => Assert.True(m.Entries.Zip(m.Entries.Skip(1)).All(p => p.First.Key.Span.SequenceCompareTo(p.Second.Key.Span) < 0)));
        Assert.Throws<ArgumentException>(() => images.GetMap("np_conntrack"));
    }

    [Fact]
    public void Maps_TypedViewsAndBytes_AgreeEntryByEntry()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();
        var policy = images.GetMap(BpfConstants.PolicyMapName);

        for (var i = 0; i < policy.Count; i++)
        {
            var key = new byte[BpfPolicyKey.Size];
            images.Policy[i].Key.WriteTo(key);
            Assert.Equal(key, policy.Entries[i].Key.ToArray());
            Assert.True(policy.TryGetValue(key, out var value));
            Assert.Equal(images.Policy[i].Value, BpfPolicyValue.ReadFrom(value.Span));
        }

        Assert.False(policy.TryGetValue(new byte[BpfPolicyKey.Size], out _));
    }

    [Fact]
    public void WriteJson_DecodesEveryMap()
    {
        var ir = BpfFixture.Compile();
        var images = BpfMapRenderer.Render(ir).ThrowIfErrors();

        using var doc = JsonDocument.Parse(Json(images));

        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(1, root.GetProperty("abiVersion").GetInt32());
        var maps = root.GetProperty("maps").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["np_ipcache_host", "np_ipcache_lpm", "np_endpoints", "np_rulesets", "np_policy"], maps.Keys);
        var lpm = maps["np_ipcache_lpm"];
        Assert.Equal("lpmTrie", lpm.GetProperty("type").GetString());
        var anyV4 = Assert.Single(lpm.GetProperty("entries").EnumerateArray(), e => e.GetProperty("prefix").GetString() == "0.0.0.0/0");
        Assert.Equal(96, anyV4.GetProperty("prefixLength").GetInt32());
        Assert.Equal("6000000000000000000000000000ffff00000000", anyV4.GetProperty("key").GetString());
        var db = Assert.Single(maps["np_endpoints"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("pod").GetString() == "a/db");
        Assert.Equal(["present", "ingressIsolated"], db.GetProperty("flagNames").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(ir.Endpoints["a/db"].Identity, db.GetProperty("identity").GetUInt32());
        var udp = Assert.Single(maps["np_policy"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("protocol").GetString() == "UDP");
        Assert.Equal("UDP/8080-8095 (plen 12)", udp.GetProperty("ports").GetString());
        Assert.Equal("identity", udp.GetProperty("remoteKind").GetString());
        Assert.Equal("ingress", udp.GetProperty("direction").GetString());
        Assert.Equal("allow", udp.GetProperty("action").GetString());
        Assert.Contains(maps["np_policy"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("ports").GetString() == "TCP/5432");
        Assert.Contains(maps["np_policy"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("ports").GetString() == "any" && e.GetProperty("remoteKind").GetString() == "any");
        Assert.Contains(maps["np_policy"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("remoteKind").GetString() == "addressClass");
        var rule = Assert.Single(root.GetProperty("ruleAttribution").EnumerateArray(), r => r.GetProperty("ruleId").GetUInt32() == udp.GetProperty("ruleId").GetUInt32());
        Assert.Equal("a/db-ingress spec.ingress[0].from[0] ports[1]", Assert.Single(rule.GetProperty("attribution").EnumerateArray()).GetProperty("text").GetString());
        Assert.Equal(4, root.GetProperty("endpointIds").GetArrayLength());
        var rs = Assert.Single(maps["np_rulesets"].GetProperty("entries").EnumerateArray(), e => e.GetProperty("udpPlens").GetArrayLength() > 0);
        Assert.Equal([12], rs.GetProperty("udpPlens").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal([16], rs.GetProperty("tcpPlens").EnumerateArray().Select(p => p.GetInt32()));
    }

    [Fact]
    public void WriteBinary_ReadBinary_RoundTripsToEqualImagesAndBytes()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxPolicyEntries = 1000 }).ThrowIfErrors();
        var bytes = Binary(images);

        var read = BpfMapImages.ReadBinary(new MemoryStream(bytes));

        Assert.Equal(images, read);
        Assert.Equal(bytes, Binary(read));
        Assert.Equal(Json(images), Json(read));
        Assert.Equal(1000, read.GetMap(BpfConstants.PolicyMapName).MaxEntries);
    }

    [Fact]
    public void WriteBinary_Layout_IsTheDocumentedOne()
    {
        var images = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();
        var bytes = Binary(images);

        Assert.Equal("NPBPFIMG", Encoding.ASCII.GetString(bytes, 0, 8));
        Assert.Equal("0100" + "0100" + "07000000", Convert.ToHexStringLower(bytes.AsSpan(8, 8)));

        // First section: np_ipcache_host.
        var host = images.Maps[0];
        Assert.Equal(1u, BitConverter.ToUInt32(bytes, 16));
        Assert.Equal((ulong)(40 + (host.Count * 24)), BitConverter.ToUInt64(bytes, 24));
        Assert.Equal("np_ipcache_host\0", Encoding.ASCII.GetString(bytes, 32, 16));
        Assert.Equal([1u, 16u, 8u, 262144u, 0u, (uint)host.Count], Enumerable.Range(0, 6).Select(i => BitConverter.ToUInt32(bytes, 48 + (i * 4))));
        Assert.Equal(host.Entries[0].Key.ToArray(), bytes.AsSpan(72, 16).ToArray());
        Assert.Equal(host.Entries[0].Value.ToArray(), bytes.AsSpan(88, 8).ToArray());
    }

    [Theory]
    [InlineData("", "Not a NetPolicy BPF map image: the file does not start with \"NPBPFIMG\".")]
    [InlineData("4e5042504649 4d47 0200 0100 00000000", "The BPF map image has format version 2 and ABI version 1; this library reads format 1, ABI 1.")]
    [InlineData("4e5042504649 4d47 0100 0100 01000000 01000000 00000000 ff00000000000000", "The BPF map image is truncated: section 0 needs 255 bytes at offset 32, and 0 remain.")]
    [InlineData("4e5042504649 4d47 0100 0100 00000000", "The BPF map image must hold each of np_ipcache_host, np_ipcache_lpm, np_endpoints, np_rulesets, np_policy once; missing: np_ipcache_host, np_ipcache_lpm, np_endpoints, np_rulesets, np_policy.")]
    public void ReadBinary_BadData_ThrowsInvalidData(string hex, string message)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

        var exception = Assert.Throws<InvalidDataException>(() => BpfMapImages.ReadBinary(new MemoryStream(bytes)));

        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public void ReadBinary_Truncated_ThrowsInvalidData()
    {
        var bytes = Binary(BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors());

        Assert.Throws<InvalidDataException>(() => BpfMapImages.ReadBinary(new MemoryStream(bytes[..^3])));
    }

    [Fact]
    public void DiffFrom_SameImages_IsEmpty()
    {
        var first = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();
        var second = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        var delta = second.DiffFrom(first);

        Assert.True(delta.IsEmpty);
        Assert.Equal("no changes", delta.ToString());
        Assert.Equal(first, delta.ApplyTo(first));
    }

    [Fact]
    public void DiffFrom_PodRemovedAndAdded_UpsertsThenDeletesInTheDocumentedOrder()
    {
        var snapshot = BpfFixture.Snapshot();
        var first = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var before = BpfMapRenderer.Render(first).ThrowIfErrors();
        var second = new PolicyCompiler().Compile(snapshot.RemovePod("a/api").SetPod(Pod("a", "api2", "198.18.0.31", "app", "api")), first).ThrowIfErrors();
        var after = BpfMapRenderer.Render(second, new BpfRenderOptions { EndpointIds = before.EndpointIds }).ThrowIfErrors();

        var delta = after.DiffFrom(before);

        Assert.Equal(
            ["upsert np_ipcache_host: 1 entries", "upsert np_endpoints: 1 entries", "delete np_endpoints: 1 entries", "delete np_ipcache_host: 1 entries"],
            delta.Changes.Select(c => c.ToString()));
        var zeroed = delta.Changes[2];
        Assert.True(zeroed.WritesValues);
        Assert.Equal(before.EndpointIds["a/api"], BitConverter.ToUInt32(zeroed.Entries.Single().Key.Span));
        Assert.Equal(new byte[BpfEndpointValue.Size], zeroed.Entries.Single().Value.ToArray());
        Assert.False(delta.Changes[3].WritesValues);
        Assert.True(delta.Changes[3].Entries.Single().Value.IsEmpty);
        Assert.Equal(after, delta.ApplyTo(before));
        Assert.Equal((2, 2), (delta.UpsertCount, delta.DeletionCount));
    }

    [Theory]
    [MemberData(nameof(DifferentialSeeds.Few), MemberType = typeof(DifferentialSeeds))]
    public void DiffFrom_RandomClusters_AppliedToOldGivesNew(int seed)
    {
        var first = new PolicyCompiler().Compile(RandomCluster.Create(seed)).ThrowIfErrors();
        var second = new PolicyCompiler().Compile(RandomCluster.Create(seed + 1000), first).ThrowIfErrors();
        var before = BpfMapRenderer.Render(first).ThrowIfErrors();
        var after = BpfMapRenderer.Render(second, new BpfRenderOptions { EndpointIds = before.EndpointIds }).ThrowIfErrors();

        var delta = after.DiffFrom(before);

        Assert.Equal(after, delta.ApplyTo(before));
        Assert.Equal(Binary(after), Binary(delta.ApplyTo(before)));
        Assert.True(after.DiffFrom(after).IsEmpty);
        Assert.Equal(before, before.DiffFrom(after).ApplyTo(after));
        var order = new[]
        {
            "upsert np_policy", "upsert np_rulesets", "upsert np_ipcache_lpm", "upsert np_ipcache_host", "upsert np_endpoints",
            "delete np_endpoints", "delete np_rulesets", "delete np_policy", "delete np_ipcache_host", "delete np_ipcache_lpm",
        };
        var steps = delta.Changes.Select(c => Array.IndexOf(order, $"{(c.Kind == BpfMapChangeKind.Upsert ? "upsert" : "delete")} {c.Map}")).ToList();
        Assert.DoesNotContain(-1, steps);
        Assert.Equal(steps.Order(), steps);
        foreach (var change in delta.Changes.Where(c => c.Kind == BpfMapChangeKind.Upsert))
        {
            var map = after.GetMap(change.Map);
            Assert.All(change.Entries, e => Assert.True(map.TryGetValue(e.Key.Span, out var value) && value.Span.SequenceEqual(e.Value.Span)));
        }
    }

    [Fact]
    public void DiffFrom_OtherCapacity_Throws()
    {
        var small = BpfMapRenderer.Render(BpfFixture.Compile(), new BpfRenderOptions { MaxPolicyEntries = 100 }).ThrowIfErrors();
        var large = BpfMapRenderer.Render(BpfFixture.Compile()).ThrowIfErrors();

        var exception = Assert.Throws<ArgumentException>(() => large.DiffFrom(small));

        Assert.StartsWith($"np_policy was rendered as np_policy (Hash, 16+8 bytes, {small.Policy.Length}/100 entries) and is now", exception.Message);
    }

    internal static byte[] Json(BpfMapImages images)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            images.WriteJson(writer);
        }

        return stream.ToArray();
    }

    internal static byte[] Binary(BpfMapImages images)
    {
        using var stream = new MemoryStream();
        images.WriteBinary(stream);
        return stream.ToArray();
    }
}
