using System.Diagnostics;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>Runs ip, tc and umount for the kernel tests.</summary>
internal static class Shell
{
    public static string Run(string fileName, params string[] arguments)
    {
        var (exitCode, output, error) = TryRun(fileName, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'{fileName} {string.Join(' ', arguments)}' exited with {exitCode}: {error.Trim()}");
        }

        return output;
    }

    public static (int ExitCode, string Output, string Error) TryRun(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.GetAwaiter().GetResult());
    }
}
