using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader.Nftables;

/// <summary>Applies rendered nftables rulesets with the stock <c>nft</c> tool, in the current network namespace or a named one.</summary>
/// <remarks>
/// <para><see cref="Apply"/> first validates the file (<c>nft -c -f -</c>), then applies it (<c>nft -f -</c>) as one
/// transaction: the ruleset deletes and recreates its own table, so an apply replaces the previous one atomically and a
/// refused file changes nothing. Only the ruleset's own <c>inet</c> table is ever created, replaced or deleted.</para>
/// <para>Requires <c>nft</c> (nftables 0.9.3 or later) and CAP_NET_ADMIN; a named namespace also needs iproute2's <c>ip</c>
/// (the tool runs as <c>ip netns exec NAME nft ...</c>).</para>
/// </remarks>
public sealed partial class NftablesApplier
{
    private readonly string? _namespaceName;

    /// <summary>Initializes an applier for the current network namespace or a named one.</summary>
    /// <param name="networkNamespace">The namespace to apply in, or <see langword="null"/> for the current one.</param>
    public NftablesApplier(NetworkNamespace? networkNamespace = null)
    {
        _namespaceName = networkNamespace?.Name;
    }

    /// <summary>Validates and applies a ruleset in one transaction, replacing the table it owns.</summary>
    /// <param name="ruleset">The ruleset.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing, or nft refused the ruleset; the
    /// message quotes the refused line and nft's error.</exception>
    public void Apply(NftablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        Run(["-c", "-f", "-"], ruleset.Text, "validating", ruleset.TableName);
        Run(["-f", "-"], ruleset.Text, "applying", ruleset.TableName);
    }

    /// <summary>Deletes the table a ruleset owns, if present; other tables are never touched.</summary>
    /// <param name="tableName">The table name (<see cref="NftablesRuleset.TableName"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="tableName"/> is not a valid table name.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing or refused the deletion.</exception>
    public void Remove(string tableName = "netpolicy")
    {
        if (tableName is null || !TableNamePattern().IsMatch(tableName))
        {
            throw new ArgumentException($"'{tableName}' is not a valid nftables table name.", nameof(tableName));
        }

        // Declaring the table first makes the deletion succeed when it does not exist, in the same transaction.
        Run(["-f", "-"], $"table inet {tableName}\ndelete table inet {tableName}\n", "removing", tableName);
    }

    /// <summary>Returns whether the table exists.</summary>
    /// <param name="tableName">The table name.</param>
    /// <returns><see langword="true"/> when <c>nft list tables inet</c> shows it.</returns>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing or failed.</exception>
    public bool TableExists(string tableName = "netpolicy")
    {
        ArgumentNullException.ThrowIfNull(tableName);
        var output = Run(["list", "tables", "inet"], null, "listing tables for", tableName);
        return output.Split('\n').Any(l => l.Trim() == "table inet " + tableName);
    }

    private string Run(IReadOnlyList<string> arguments, string? input, string action, string tableName)
    {
        var start = new ProcessStartInfo(_namespaceName is null ? "nft" : "ip")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (_namespaceName is not null)
        {
            foreach (var argument in new[] { "netns", "exec", _namespaceName, "nft" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        }
        catch (Win32Exception ex)
        {
            var message = start.FileName == "nft"
                ? "the 'nft' command (nftables) is not installed; install it (Debian: apt-get install nftables)."
                : "iproute2's 'ip' command is not installed; install it (Debian: apt-get install iproute2).";
            throw new KernelOperationException(message, start.FileName, 2, ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
            }

            process.StandardInput.Close();
            process.WaitForExit();
            var error = stderr.GetAwaiter().GetResult().Trim();
            var output = stdout.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                var where = _namespaceName is null ? string.Empty : $" in network namespace '{_namespaceName}'";
                if (_namespaceName is not null && error.Contains("nft", StringComparison.Ordinal) && error.Contains("No such file or directory", StringComparison.Ordinal))
                {
                    throw new KernelOperationException($"the 'nft' command (nftables) is not installed{where}; install it (Debian: apt-get install nftables).", "nft", 2);
                }

                throw new KernelOperationException($"nft failed {action} table inet {tableName}{where}: {Describe(error, input)}", "nft", 0);
            }

            return output;
        }
    }

    private static string Describe(string error, string? input)
    {
        var match = ErrorLinePattern().Match(error);
        if (input is null || !match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return error;
        }

        var lines = input.Split('\n');
        var line = number >= 1 && number <= lines.Length ? lines[number - 1].Trim() : string.Empty;
        var first = error.Split('\n')[0];
        return $"line {number.ToString(CultureInfo.InvariantCulture)} '{line}' was refused: {first[(first.IndexOf("Error:", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..]}";
    }

    [GeneratedRegex(@":(\d+):\d+(?:-\d+)?: Error:")]
    private static partial Regex ErrorLinePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex TableNamePattern();
}
