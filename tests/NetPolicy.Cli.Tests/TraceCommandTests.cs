using System.Text.Json;

namespace NetPolicy.Cli.Tests;

public sealed class TraceCommandTests
{
    [Fact]
    public void Trace_FrontendToPaymentsApi_DeniedWithExitZero()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/frontend", "--to", "production/payments-api", "--port", "8080", "--protocol", "TCP");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("DENIED: production/frontend -> production/payments-api TCP/8080", run.Stdout);
        Assert.Contains("production/default-deny-ingress has no ingress rules", run.Stdout);
        Assert.Contains("no from peer matches production/frontend", run.Stdout);
    }

    [Fact]
    public void Trace_NginxIngressToPaymentsApi_Allowed()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/nginx-ingress", "--to", "production/payments-api", "--port", "8080", "--protocol", "TCP");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("ALLOWED: production/nginx-ingress -> production/payments-api TCP/8080", run.Stdout);
        Assert.Contains("allowed by production/payments-api-allow spec.ingress[0].from[0] ports[0]", run.Stdout);
    }

    [Fact]
    public void Trace_FormatJson_PrintsStructuredVerdict()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/frontend", "--to", "production/payments-api", "--port", "8080", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.False(root.GetProperty("allowed").GetBoolean());
        Assert.Equal("production/frontend", root.GetProperty("source").GetProperty("pod").GetString());
        Assert.Equal("198.18.1.10", root.GetProperty("source").GetProperty("address").GetString());
        Assert.Equal("production/payments-api", root.GetProperty("destination").GetProperty("pod").GetString());
        Assert.Equal("198.18.1.12", root.GetProperty("destination").GetProperty("address").GetString());
        Assert.Equal("TCP", root.GetProperty("protocol").GetString());
        Assert.Equal(8080, root.GetProperty("port").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("portName").ValueKind);
        Assert.StartsWith("denied by the destination's ingress policies", root.GetProperty("summary").GetString());

        var egress = root.GetProperty("egress");
        Assert.False(egress.GetProperty("isolated").GetBoolean());
        Assert.True(egress.GetProperty("allowed").GetBoolean());

        var ingress = root.GetProperty("ingress");
        Assert.Equal("production/payments-api", ingress.GetProperty("pod").GetString());
        Assert.True(ingress.GetProperty("isolated").GetBoolean());
        Assert.False(ingress.GetProperty("allowed").GetBoolean());
        Assert.Equal(["production/default-deny-ingress", "production/payments-api-allow"], ingress.GetProperty("isolatingPolicies").EnumerateArray().Select(p => p.GetString()));
        Assert.Empty(ingress.GetProperty("allowedBy").EnumerateArray());
        Assert.Equal(2, ingress.GetProperty("reasons").GetArrayLength());
    }

    [Fact]
    public void Trace_FormatJsonAllowed_ListsAllowingRule()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/nginx-ingress", "--to", "production/payments-api", "--port", "8080", "--format", "json");

        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.True(doc.RootElement.GetProperty("allowed").GetBoolean());
        var rule = Assert.Single(doc.RootElement.GetProperty("ingress").GetProperty("allowedBy").EnumerateArray());
        Assert.Equal("production/payments-api-allow", rule.GetProperty("policy").GetString());
        Assert.Equal("ingress", rule.GetProperty("direction").GetString());
        Assert.Equal(0, rule.GetProperty("rule").GetInt32());
        Assert.Equal(0, rule.GetProperty("peer").GetInt32());
        Assert.Equal(0, rule.GetProperty("port").GetInt32());
    }

    [Fact]
    public void Trace_PortName_ResolvesAgainstDestinationPod()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/nginx-ingress", "--to", "production/payments-api", "--port", "http", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(8080, doc.RootElement.GetProperty("port").GetInt32());
        Assert.Equal("http", doc.RootElement.GetProperty("portName").GetString());
        Assert.True(doc.RootElement.GetProperty("allowed").GetBoolean());
    }

    [Fact]
    public void Trace_PortNameText_SaysWhatTheNameResolvedTo()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/payments-api", "--to", "production/postgres", "--port", "postgres");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("port 'postgres' of production/postgres is TCP/5432", run.Stdout);
        Assert.Contains("DENIED: production/payments-api -> production/postgres TCP/5432", run.Stdout);
    }

    [Fact]
    public void Trace_UnknownPortName_ExitsOneNamingPodAndPort()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/frontend", "--to", "production/payments-api", "--port", "grpc");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("production/payments-api", run.Stderr);
        Assert.Contains("'grpc'", run.Stderr);
        Assert.Contains("http=8080/TCP", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public void Trace_PortNameWithWrongProtocol_ExitsOne()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/frontend", "--to", "production/payments-api", "--port", "http", "--protocol", "udp");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no UDP container port named 'http'", run.Stderr);
    }

    [Fact]
    public void Trace_UnknownPod_ExitsOneNamingPod()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/nope", "--to", "production/payments-api", "--port", "8080");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("--from: pod 'production/nope' is not in the input", run.Stderr);
        Assert.Contains("production/frontend", run.Stderr);
    }

    [Fact]
    public void Trace_ByAddress_ResolvesPodsAndExternalAddresses()
    {
        var toPod = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "198.18.1.11", "--to", "198.18.1.12", "--port", "8080");
        var toWorld = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/payments-api", "--to", "203.0.113.7", "--port", "443");

        Assert.StartsWith("ALLOWED: production/nginx-ingress -> production/payments-api TCP/8080", toPod.Stdout);
        Assert.StartsWith("DENIED: production/payments-api -> 203.0.113.7 TCP/443", toWorld.Stdout);
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("UDP")]
    [InlineData("Udp")]
    public void Trace_ProtocolInAnyCase_IsAccepted(string protocol)
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/payments-api", "--to", "default/netshoot", "--port", "53", "--protocol", protocol);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("ALLOWED: production/payments-api -> default/netshoot UDP/53", run.Stdout);
    }

    [Theory]
    [InlineData("--protocol", "ICMP")]
    [InlineData("--port", "0")]
    [InlineData("--port", "70000")]
    [InlineData("--port", "-1")]
    [InlineData("--port", "HTTP_PORT")]
    [InlineData("--from", "frontend")]
    [InlineData("--format", "yaml")]
    public void Trace_BadOptionValue_ExitsTwo(string option, string value)
    {
        var args = new Dictionary<string, string>
        {
            ["--from"] = "production/frontend",
            ["--to"] = "production/payments-api",
            ["--port"] = "8080",
            [option] = value,
        };

        var run = Netpol.Run(["trace", Netpol.PaymentsSample, .. args.SelectMany(a => new[] { a.Key, a.Value })]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(value, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public void Trace_MissingTo_ExitsTwo()
    {
        var run = Netpol.Run("trace", Netpol.PaymentsSample, "--from", "production/frontend", "--port", "8080");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--to", run.Stderr);
    }
}
