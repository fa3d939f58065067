using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader.Nftables;

/// <summary>Applies rendered nftables rulesets with the stock <c>nft</c> tool, in the current network namespace or a named one.</summary>
/// <remarks>
/// <para><see cref="ApplyFull"/> first validates the file (<c>nft -c -f -</c>), then applies it (<c>nft -f -</c>) as one
/// transaction: the ruleset deletes and recreates its own table, so an apply replaces the previous one atomically and a
/// refused file changes nothing. <see cref="Apply"/> does the same with <see cref="NftablesRuleset.DiffFrom"/> once this
/// applier has applied a ruleset to the table: one validated transaction of element additions and deletions and
/// replaced chains, so a pod event costs what changed. Only the ruleset's own <c>inet</c> table is ever created,
/// replaced or deleted.</para>
/// <para>Requires <c>nft</c> (nftables 0.9.3 or later) and CAP_NET_ADMIN; a named namespace also needs iproute2's <c>ip</c>
/// (the tool runs as <c>ip netns exec NAME nft ...</c>).</para>
/// </remarks>
public sealed partial class NftablesApplier
{
    private readonly string? _namespaceName;
    private readonly Dictionary<string, (string Text, Dictionary<string, List<string>> Blocks)> _baselines = new(StringComparer.Ordinal);

    /// <summary>Initializes an applier for the current network namespace or a named one.</summary>
    /// <param name="networkNamespace">The namespace to apply in, or <see langword="null"/> for the current one.</param>
    public NftablesApplier(NetworkNamespace? networkNamespace = null)
    {
        _namespaceName = networkNamespace?.Name;
    }

    /// <summary>Validates and applies a ruleset in one transaction: only what differs from the ruleset this applier applied
    /// to the same table before, otherwise in full (<see cref="ApplyFull"/>).</summary>
    /// <param name="ruleset">The ruleset.</param>
    /// <returns>Whether the apply was full, incremental or found nothing to change.</returns>
    /// <remarks>When nft refuses the delta (the table was changed underneath, for example), the applier applies the
    /// ruleset in full instead. After an incremental apply only the objects it wrote are listed again for the drift baseline.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing, or nft refused the ruleset; the
    /// message quotes the refused line and nft's error.</exception>
    public NetfilterApplyMode Apply(NftablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        (string Text, Dictionary<string, List<string>> Blocks) baseline;
        bool known;
        lock (_baselines)
        {
            known = _baselines.TryGetValue(ruleset.TableName, out baseline);
        }

        if (known)
        {
            NftablesRulesetDelta delta;
            try
            {
                delta = ruleset.DiffFrom(new NftablesRuleset { TableName = ruleset.TableName, Text = baseline.Text });
            }
            catch (ArgumentException)
            {
                // A ruleset not in the renderer's format (written by hand) has no delta: it is applied whole.
                ApplyFull(ruleset);
                return NetfilterApplyMode.Full;
            }

            if (delta.IsEmpty)
            {
                return NetfilterApplyMode.Unchanged;
            }

            if (!delta.IsFullReplacement)
            {
                return NetfilterFallback.DeltaOrFull(
                    () =>
                    {
                        Run(["-c", "-f", "-"], delta.Text, "validating the delta of", ruleset.TableName);
                        Run(["-f", "-"], delta.Text, "applying the delta of", ruleset.TableName);
                        var blocks = new Dictionary<string, List<string>>(baseline.Blocks, StringComparer.Ordinal);
                        foreach (var removed in delta.RemovedObjects)
                        {
                            blocks.Remove(removed);
                        }

                        foreach (var written in delta.WrittenObjects)
                        {
                            var space = written.IndexOf(' ', StringComparison.Ordinal);
                            var listing = Run(["-s", "list", written[..space], "inet", ruleset.TableName, written[(space + 1)..]], null, "listing", ruleset.TableName);
                            foreach (var (key, lines) in ParseListing(listing))
                            {
                                blocks[key] = lines;
                            }
                        }

                        lock (_baselines)
                        {
                            _baselines[ruleset.TableName] = (ruleset.Text, blocks);
                        }
                    },
                    () => Forget(ruleset.TableName),
                    () => ApplyFull(ruleset));
            }
        }

        ApplyFull(ruleset);
        return NetfilterApplyMode.Full;
    }

    /// <summary>Validates and applies a whole ruleset in one transaction, replacing the table it owns.</summary>
    /// <param name="ruleset">The ruleset.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing, or nft refused the ruleset; the
    /// message quotes the refused line and nft's error.</exception>
    public void ApplyFull(NftablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        Forget(ruleset.TableName);
        Run(["-c", "-f", "-"], ruleset.Text, "validating", ruleset.TableName);
        Run(["-f", "-"], ruleset.Text, "applying", ruleset.TableName);
        var listing = List(ruleset.TableName) ?? string.Empty;
        lock (_baselines)
        {
            _baselines[ruleset.TableName] = (ruleset.Text, ParseListing(listing));
        }
    }

    private void Forget(string tableName)
    {
        lock (_baselines)
        {
            _baselines.Remove(tableName);
        }
    }

    /// <summary>Compares the ruleset's table in the kernel with the listing this applier read back right after it applied
    /// the same ruleset.</summary>
    /// <param name="ruleset">The ruleset that should be in force.</param>
    /// <returns>The differences: a missing table; missing or extra chains, sets and maps; rules missing from or added to a
    /// chain; chains whose rules are out of order; sets and maps whose elements or definition changed.</returns>
    /// <remarks>
    /// <para>The rendered ruleset carries no per-rule stamps, and <c>nft</c> prints a table in its own canonical form (it
    /// merges intervals, rewrites statements), so the rendered text cannot be compared with a listing. Instead
    /// <see cref="Apply"/> reads the table back (<c>nft -s list table inet NAME</c>; stateless, so counters never count as
    /// drift) and keeps that listing with the ruleset text; <see cref="Check"/> lists the table again and compares the two
    /// block by block. When this applier has not applied exactly this ruleset (another process applied it, or the applier was
    /// recreated) there is no baseline: the table is reported as <see cref="DriftKind.Changed"/> with that reason, and
    /// <see cref="Repair"/> re-applies it, which records a baseline.</para>
    /// <para>Only the ruleset's own table is listed; other tables are never read or reported.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing or failed.</exception>
    public DriftReport Check(NftablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        var table = ruleset.TableName;
        var items = new List<DriftItem>();
        var actual = List(table);
        (string Text, Dictionary<string, List<string>> Blocks) baseline;
        bool known;
        lock (_baselines)
        {
            known = _baselines.TryGetValue(table, out baseline);
        }

        if (actual is null)
        {
            items.Add(new DriftItem(DriftKind.Missing, "table", table, "inet"));
        }
        else if (!known || baseline.Text != ruleset.Text)
        {
            items.Add(new DriftItem(DriftKind.Changed, "table", table, "no baseline: this applier has not applied this ruleset"));
        }
        else
        {
            Compare(baseline.Blocks, ParseListing(actual), items);
        }

        return new DriftReport(items);
    }

    /// <summary>Checks for drift (<see cref="Check"/>) and, only when some is found, applies the ruleset again
    /// in full (<see cref="ApplyFull"/>: one transaction that deletes and recreates the table).</summary>
    /// <param name="ruleset">The ruleset that should be in force.</param>
    /// <returns><see langword="true"/> when drift was found and the ruleset re-applied; <see langword="false"/> when nothing differed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException"><c>nft</c> (or <c>ip</c>) is missing or refused the ruleset.</exception>
    public bool Repair(NftablesRuleset ruleset)
    {
        if (!Check(ruleset).HasDrift)
        {
            return false;
        }

        ApplyFull(ruleset);
        return true;
    }

    /// <summary>Returns the stateless listing of the table, or <see langword="null"/> when it does not exist.</summary>
    private string? List(string tableName)
    {
        try
        {
            return Run(["-s", "list", "table", "inet", tableName], null, "listing", tableName);
        }
        catch (KernelOperationException ex) when (ex.Errno == 0 && !TableExists(tableName))
        {
            return null;
        }
    }

    /// <summary>Splits a table listing into its blocks: key <c>chain NAME</c>, <c>set NAME</c> or <c>map NAME</c>, value the
    /// block's lines (trimmed, in order; a multi-line element list is joined into one line).</summary>
    internal static Dictionary<string, List<string>> ParseListing(string listing)
    {
        var blocks = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        var depth = 0;
        var pending = new System.Text.StringBuilder();
        foreach (var raw in listing.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var opens = line.Count(c => c == '{');
            var closes = line.Count(c => c == '}');
            if (depth == 1 && current is null && line.EndsWith('{'))
            {
                current = [];
                blocks[line[..^1].Trim()] = current;
            }
            else if (current is not null && depth + opens - closes >= 2)
            {
                // A multi-line element list (100k elements in a dispatch map) is joined in one builder, never by
                // concatenating strings, which is quadratic in the list's length.
                (pending.Length == 0 ? pending : pending.Append(' ')).Append(line);
                if (depth + opens - closes == 2)
                {
                    current.Add(pending.ToString());
                    pending.Clear();
                }
            }
            else if (current is not null && depth + opens - closes == 1)
            {
                current = null;
            }

            depth += opens - closes;
        }

        return blocks;
    }

    private static void Compare(Dictionary<string, List<string>> expected, Dictionary<string, List<string>> actual, List<DriftItem> items)
    {
        static (string Type, string Name) Split(string key) => key.IndexOf(' ', StringComparison.Ordinal) is var i and > 0 ? (key[..i], key[(i + 1)..]) : (key, key);
        foreach (var (key, lines) in expected)
        {
            var (type, name) = Split(key);
            if (!actual.TryGetValue(key, out var found))
            {
                items.Add(new DriftItem(DriftKind.Missing, type, name, key));
            }
            else if (type == "chain")
            {
                var missing = Subtract(lines, found);
                var extra = Subtract(found, lines);
                items.AddRange(missing.Select(l => new DriftItem(DriftKind.Missing, "rule", name, l)));
                items.AddRange(extra.Select(l => new DriftItem(DriftKind.Extra, "rule", name, l)));
                if (missing.Count == 0 && extra.Count == 0 && !lines.SequenceEqual(found, StringComparer.Ordinal))
                {
                    items.Add(new DriftItem(DriftKind.Changed, "chain", name, "the rules are out of order"));
                }
            }
            else if (!lines.SequenceEqual(found, StringComparer.Ordinal))
            {
                var missing = Subtract(lines, found);
                var extra = Subtract(found, lines);
                items.Add(new DriftItem(DriftKind.Changed, type, name, $"expected [{string.Join("; ", missing)}], found [{string.Join("; ", extra)}]"));
            }
        }

        foreach (var key in actual.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal))
        {
            var (type, name) = Split(key);
            items.Add(new DriftItem(DriftKind.Extra, type, name, key));
        }
    }

    private static List<string> Subtract(List<string> from, List<string> remove)
    {
        var counts = remove.GroupBy(r => r, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var line in from)
        {
            if (counts.TryGetValue(line, out var count) && count > 0)
            {
                counts[line] = count - 1;
            }
            else
            {
                result.Add(line);
            }
        }

        return result;
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
        Forget(tableName);
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
