namespace NetPolicy.Cli.Tests;

/// <summary>Runs the tool in-process and captures its streams.</summary>
internal static class Netpol
{
    /// <summary>Gets the path of the payments sample (samples/payments/cluster.yaml) in the test output.</summary>
    public static string PaymentsSample { get; } = Path.Combine(AppContext.BaseDirectory, "TestData", "payments", "cluster.yaml");

    public static NetpolRun Run(params string[] args) => RunWithStdin(null, args);

    public static NetpolRun RunWithStdin(string? stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = new StringReader(stdin ?? string.Empty);
        var exitCode = NetpolCommand.Run(args, stdout, stderr, input);
        return new NetpolRun(exitCode, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>The outcome of one in-process run.</summary>
internal sealed record NetpolRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A temporary directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "netpol-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
