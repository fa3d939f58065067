using System.Text.Json;

namespace NetPolicy.Cli.Tests;

public sealed class NetpolCommandTests
{
    [Fact]
    public void Run_StdinInput_ReadsManifestsFromStandardInput()
    {
        var yaml = File.ReadAllText(Netpol.PaymentsSample);

        var run = Netpol.RunWithStdin(yaml, "matrix", "-", "--port", "8080", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(5, doc.RootElement.GetProperty("pods").GetArrayLength());
    }

    [Fact]
    public void Run_StdinAndFile_CombinesInputs()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("pods.yaml", Manifests.PodsWithoutAddresses);

        var run = Netpol.RunWithStdin(File.ReadAllText(Netpol.PaymentsSample), "matrix", "-", path, "--port", "80", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(7, doc.RootElement.GetProperty("pods").GetArrayLength());
    }

    [Fact]
    public void Run_StdinWithInvalidCidr_ReportsStdinLocation()
    {
        var run = Netpol.RunWithStdin(Manifests.InvalidCidr, "compile", "-");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"-:{Manifests.InvalidCidrLine}", run.Stderr);
    }

    [Fact]
    public void Run_Directory_ReadsEveryManifest()
    {
        using var temp = new TempDirectory();
        File.Copy(Netpol.PaymentsSample, Path.Combine(temp.Path, "cluster.yaml"));

        var run = Netpol.Run("matrix", temp.Path, "--port", "8080", "--format", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(5, doc.RootElement.GetProperty("pods").GetArrayLength());
    }

    [Fact]
    public void Run_UnknownOption_ExitsTwoWithoutStackTrace()
    {
        var run = Netpol.Run("compile", Netpol.PaymentsSample, "--frobnicate");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--frobnicate", run.Stderr);
        Assert.Contains("netpol compile --help", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public void Run_UnknownCommand_ExitsTwo()
    {
        // "lint" was the example of an unknown command until it became one.
        var run = Netpol.Run("frobnicate", Netpol.PaymentsSample);

        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public void Run_NoArguments_ExitsTwo()
    {
        var run = Netpol.Run();

        Assert.Equal(2, run.ExitCode);
        Assert.NotEqual(string.Empty, run.Stderr);
    }

    [Fact]
    public void Run_NoInputs_ExitsTwo()
    {
        var run = Netpol.Run("compile");

        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public void Run_MissingFile_ExitsOneWithOneLine()
    {
        using var temp = new TempDirectory();
        var missing = Path.Combine(temp.Path, "missing.yaml");

        var run = Netpol.Run("compile", missing);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("missing.yaml", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void Run_Help_ExitsZeroAndListsCommands()
    {
        var run = Netpol.Run("--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("compile", run.Stdout);
        Assert.Contains("trace", run.Stdout);
        Assert.Contains("matrix", run.Stdout);
    }

    [Fact]
    public void Run_CommandHelp_ExitsZeroAndListsOptions()
    {
        var run = Netpol.Run("trace", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--from", run.Stdout);
        Assert.Contains("--skip-invalid", run.Stdout);
    }

    [Fact]
    public void Run_DebugOnSubcommand_IsAccepted()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--debug");

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void Run_ProtocolDefault_IsTcp()
    {
        var run = Netpol.Run("matrix", Netpol.PaymentsSample, "--port", "8080", "--format", "json");

        Assert.StartsWith("{\"port\":8080,\"protocol\":\"TCP\",", run.Stdout);
    }
}
