using System.Diagnostics;
using System.Text;

namespace NetPolicy.Loader.Netns;

/// <summary>Runs iproute2's <c>ip</c>, reporting its refusals as <see cref="KernelOperationException"/>.</summary>
internal static class IpCommand
{
    public static void Run(string? netns, string arguments) => Batch(netns, [arguments]);

    public static void Batch(string? netns, IEnumerable<string> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var lines = commands.ToList();
        if (lines.Count == 0)
        {
            return;
        }

        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (netns is not null)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(netns);
        }

        start.ArgumentList.Add("-batch");
        start.ArgumentList.Add("-");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("ip did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new KernelOperationException("iproute2's 'ip' command is not installed; install it (Debian: apt-get install iproute2).", "ip", 2, ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var input = new StringBuilder();
            foreach (var line in lines)
            {
                input.Append(line).Append('\n');
            }

            process.StandardInput.Write(input.ToString());
            process.StandardInput.Close();
            process.WaitForExit();
            var error = stderr.GetAwaiter().GetResult().Trim();
            _ = stdout.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                var where = netns is null ? string.Empty : $" in network namespace '{netns}'";
                var refused = lines.Count == 1 ? $"'ip {lines[0]}'" : $"ip batch of {lines.Count} commands";
                throw new KernelOperationException($"{refused}{where} failed: {error}", "ip", 0);
            }
        }
    }
}
