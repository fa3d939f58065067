using System.Text.Json;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Cli.Tests;

public sealed class MatrixCommandTests
{
    private static readonly string[] s_pods =
        ["default/netshoot", "production/frontend", "production/nginx-ingress", "production/payments-api", "production/postgres"];

    // Rows are sources, columns destinations, in the order of s_pods (TCP/8080).
    private static readonly bool[][] s_expected =
    [
        [true, false, false, false, false],
        [true, true, false, false, false],
        [true, false, true, true, false],
        [false, false, false, true, false],
        [true, false, false, false, true],
    ];

    [Fact]
    public void Matrix_FormatJson_HasExactContractShape()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--protocol", "TCP", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Single(run.Stdout.TrimEnd('\n').Split('\n'));
        using var doc = JsonDocument.Parse(run.Stdout);
        var root = doc.RootElement;
        Assert.Equal(["port", "protocol", "pods", "allowed"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(8080, root.GetProperty("port").GetInt32());
        Assert.Equal("TCP", root.GetProperty("protocol").GetString());
        Assert.Equal(s_pods, root.GetProperty("pods").EnumerateArray().Select(p => p.GetString()!));
        var allowed = root.GetProperty("allowed").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetBoolean()).ToArray()).ToArray();
        Assert.Equal(s_expected, allowed);
    }

    [Fact]
    public void Matrix_FormatJson_IsCompactWithKeysInOrder()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "53", "--protocol", "udp", "--format", "json");

        Assert.StartsWith("{\"port\":53,\"protocol\":\"UDP\",\"pods\":[\"default/netshoot\",", run.Stdout);
        Assert.EndsWith("]]}\n", run.Stdout);
    }

    [Fact]
    public void Matrix_FormatMd_PrintsMarkdownTable()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--format", "md");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2 + s_pods.Length, lines.Length);
        Assert.Equal("| from \\ to | " + string.Join(" | ", s_pods) + " |", lines[0]);
        Assert.Equal("|---|" + string.Concat(Enumerable.Repeat(":---:|", s_pods.Length)), lines[1]);
        Assert.Equal("| production/nginx-ingress | ✓ | ✗ | ✓ | ✓ | ✗ |", lines[4]);
    }

    [Fact]
    public void Matrix_FormatCsv_PrintsHeaderRowAndOneRowPerSource()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--format", "csv");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("from," + string.Join(",", s_pods), lines[0]);
        for (var i = 0; i < s_pods.Length; i++)
        {
            Assert.Equal(s_pods[i] + "," + string.Join(",", s_expected[i].Select(v => v ? "true" : "false")), lines[i + 1]);
        }
    }

    [Fact]
    public void Matrix_FormatTable_PrintsDotsAndCrosses()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("TCP/8080", run.Stdout);
        Assert.Matches(@"production/nginx-ingress\s+\. X \. \. X", run.Stdout);
        Assert.Matches(@"production/payments-api\s+X X X \. X", run.Stdout);
    }

    [Fact]
    public void Matrix_EngineReference_IsAccepted()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--engine", "reference", "--format", "json");

        Assert.Equal(0, run.ExitCode);
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("ebpf")]
    public void Matrix_OtherEngine_ExitsTwoListingEngines(string engine)
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--engine", engine);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"--engine '{engine}'", run.Stderr);
        Assert.Contains("available engines: reference, bpf, iptables, nftables.", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    /// <summary>Without root the lab engines refuse with a message naming the privileges and the way out, exit 1, and
    /// print no matrix. As root the test runs the tool in a child process as user nobody with no capabilities
    /// (setpriv), so the check that runs is the real one.</summary>
    [Theory]
    [InlineData("bpf")]
    [InlineData("nftables")]
    public void Matrix_LabEngineWithoutRoot_ExplainsWhatItNeeds(string engine)
    {
        NetpolRun run;
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--engine", engine);
        }
        else
        {
            run = RunAsNobody("matrix", Netpol.PaymentsSample, "--port", "8080", "--engine", engine);
        }

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"netpol: --engine {engine} builds a network-namespace lab", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("runs only as root on Linux (it needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and CAP_BPF for bpf); use --engine reference otherwise.", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stdout);
    }

    /// <summary>Runs the built tool in a child process as user nobody (uid 65534) without capabilities: the tool and
    /// the sample are copied to a folder that user can read, since the checkout may sit under a private home.</summary>
    private static NetpolRun RunAsNobody(params string[] args)
    {
        var root = Path.Combine(Path.GetTempPath(), "netpol-nobody-" + Guid.NewGuid().ToString("N"));
        try
        {
            var bin = Path.Combine(root, "bin");
            Directory.CreateDirectory(bin);
            foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
            {
                File.Copy(file, Path.Combine(bin, Path.GetFileName(file)));
            }

            var sample = Path.Combine(root, "cluster.yaml");
            File.Copy(Netpol.PaymentsSample, sample);
            var home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;
            foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Append(root))
            {
                File.SetUnixFileMode(path, Directory.Exists(path)
                    ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute
                    : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            var start = new System.Diagnostics.ProcessStartInfo("setpriv")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // The test host runs under the dotnet muxer (dotnet test sets DOTNET_HOST_PATH for its children).
            var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet"
                ? self
                : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            foreach (var arg in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", dotnet, Path.Combine(bin, "NetPolicy.Cli.dll")])
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg == Netpol.PaymentsSample ? sample : arg);
            }

            start.Environment["HOME"] = home;
            start.Environment["DOTNET_CLI_HOME"] = home;
            start.Environment["DOTNET_NOLOGO"] = "1";
            using var process = System.Diagnostics.Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(60_000), "netpol as nobody did not finish within 60 s");
            return new NetpolRun(process.ExitCode, stdout.Result, stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [KernelTheory]
    [InlineData("bpf", "TCP", "8080", "conntrack")]
    [InlineData("bpf", "UDP", "53", "strict")]
    [InlineData("bpf", "SCTP", "5432", "conntrack")]
    [InlineData("nftables", "TCP", "8080", "conntrack")]
    [InlineData("nftables", "UDP", "53", "strict")]
    [InlineData("iptables", "TCP", "8080", "strict")]
    [InlineData("iptables", "SCTP", "5432", "conntrack")]
    public void Matrix_LabEngine_PrintsExactlyTheReferenceJson(string engine, string protocol, string port, string mode)
    {
        var reference = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port, "--protocol", protocol, "--format", "json");

        var bpf = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port, "--protocol", protocol, "--format", "json", "--engine", engine, "--mode", mode);

        Assert.True(bpf.ExitCode == 0, bpf.ToString());
        Assert.Equal(reference.Stdout, bpf.Stdout);
        Assert.Contains("false", bpf.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Matrix_MissingPort_ExitsTwo()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--protocol", "TCP");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--port", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("70000")]
    [InlineData("http")]
    public void Matrix_BadPort_ExitsTwo(string port)
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", port);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(port, run.Stderr);
    }

    [Fact]
    public void Matrix_BadProtocol_ExitsTwo()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "80", "--protocol", "QUIC");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'QUIC' is not a protocol; use TCP, UDP or SCTP.", run.Stderr);
    }
}
