using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Iptables;

namespace NetPolicy.Loader.Iptables;

/// <summary>Applies <see cref="IptablesRuleset"/> files with the stock tools (<c>ipset</c>, <c>iptables-restore</c>,
/// <c>ip6tables-restore</c>) in a network namespace or the current one, and removes them again.</summary>
/// <remarks>
/// <para>Only chains named <c>NP-FORWARD</c>, <c>NP-OUTPUT</c>, <c>NP-TO-POD</c>, <c>NP-IN-n</c>, <c>NP-EG-n</c>,
/// <c>NP-FE-hash</c> and <c>NP-TP-hash</c> (dispatch shards), sets
/// named <c>NP-PSn-v4|v6-ip|net</c>, <c>NP-EP-v4|v6-ip</c> and <c>NP-NPhash-v4|v6-ipport</c>, and the hook rules
/// <c>-A FORWARD -j NP-FORWARD</c> and <c>-A OUTPUT -j NP-OUTPUT</c> are ever written or deleted; every other chain,
/// rule and set is left alone.</para>
/// <para>A full apply (<see cref="ApplyFull"/>) runs <c>ipset restore</c> (every set rebuilt through a temporary set and
/// swapped in), then for each family <c>iptables-restore --test --noflush</c> and <c>iptables-restore --noflush</c> (one
/// transaction that also deletes our chains the new files no longer declare), inserts the hooks at the top of
/// <c>FORWARD</c> and <c>OUTPUT</c> unless they are there, and destroys our sets the new files no longer create.</para>
/// <para><see cref="Apply"/> is incremental once this applier has applied a ruleset: it writes only
/// <see cref="IptablesRuleset.DiffFrom"/> (member <c>add</c>/<c>del</c> lines of changed sets, new sets, and per family one
/// validated <c>--noflush</c> transaction of the changed chains), so one pod event costs what changed, not the whole
/// ruleset. The ipset part is not one transaction (ipset has none), but every line is idempotent (<c>-exist</c>), and
/// the rules that use a set are written after its members.</para>
/// <para>Needs root (CAP_NET_ADMIN), the ipset and iptables packages (nf_tables or legacy backend) and, for a named
/// namespace, iproute2's <c>ip</c>.</para>
/// </remarks>
public sealed partial class IptablesApplier
{
    private static readonly string[] s_extraPath = ["/usr/local/sbin", "/usr/sbin", "/sbin"];
    private static readonly (string Builtin, string Chain)[] s_hooks = [("FORWARD", IptablesRuleset.ForwardChain), ("OUTPUT", IptablesRuleset.OutputChain)];

    private readonly string? _namespace;
    private readonly Lock _gate = new();
    private IptablesRuleset? _applied;

    /// <summary>Initializes an applier for the current network namespace.</summary>
    public IptablesApplier()
    {
    }

    /// <summary>Initializes an applier that runs the tools in <paramref name="networkNamespace"/> (<c>ip netns exec</c>).</summary>
    /// <param name="networkNamespace">A named network namespace.</param>
    /// <exception cref="ArgumentNullException"><paramref name="networkNamespace"/> is <see langword="null"/>.</exception>
    public IptablesApplier(Netns.NetworkNamespace networkNamespace)
    {
        ArgumentNullException.ThrowIfNull(networkNamespace);
        _namespace = networkNamespace.Name;
    }

    /// <summary>Gets the ruleset this applier applied last, or <see langword="null"/> when it has applied none (or removed it).</summary>
    public IptablesRuleset? AppliedRuleset
    {
        get
        {
            lock (_gate)
            {
                return _applied;
            }
        }
    }

    /// <summary>Applies <paramref name="ruleset"/>: only what differs from <see cref="AppliedRuleset"/> when this applier
    /// applied one, otherwise in full (<see cref="ApplyFull"/>).</summary>
    /// <param name="ruleset">The rendered files.</param>
    /// <returns>Whether the apply was full, incremental or found nothing to change.</returns>
    /// <remarks>When the kernel refuses the delta (our objects were changed underneath, for example), the applier forgets
    /// what it applied and applies <paramref name="ruleset"/> in full.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException">A tool is missing (<see cref="KernelOperationException.Errno"/> 2, the
    /// message names it) or refused its input (<see cref="KernelOperationException.Errno"/> 22, the message quotes the refused line).</exception>
    public NetfilterApplyMode Apply(IptablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        var previous = AppliedRuleset;
        if (previous is not null)
        {
            IptablesRulesetDelta delta;
            try
            {
                delta = ruleset.DiffFrom(previous);
            }
            catch (ArgumentException)
            {
                // Files not in the renderer's format (written by hand) have no delta: they are applied whole.
                ApplyFull(ruleset);
                return NetfilterApplyMode.Full;
            }

            if (delta.IsEmpty)
            {
                return NetfilterApplyMode.Unchanged;
            }

            return NetfilterFallback.DeltaOrFull(() => ApplyDelta(delta, ruleset), Forget, () => ApplyFull(ruleset));
        }

        ApplyFull(ruleset);
        return NetfilterApplyMode.Full;
    }

    /// <summary>Applies the sets and rules of <paramref name="ruleset"/> in full, replacing what an earlier apply wrote.</summary>
    /// <param name="ruleset">The rendered files.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException">A tool is missing (<see cref="KernelOperationException.Errno"/> 2, the
    /// message names it) or refused its input (<see cref="KernelOperationException.Errno"/> 22, the message quotes the refused line).</exception>
    public void ApplyFull(IptablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        Forget();
        if (ruleset.IpsetRestore.Length > 0)
        {
            Run("ipset", ["restore"], ruleset.IpsetRestore);
        }

        foreach (var (restore, save, tool, rules) in Families(ruleset))
        {
            var declared = ChainLine().Matches(rules).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            var stale = OurChains(save).Where(c => !declared.Contains(c)).ToList();
            var input = WithDeletedChains(rules, stale);
            Run(restore, ["--test", "--noflush"], input);
            Run(restore, ["--noflush"], input);
            EnsureHooks(tool, declared);
        }

        var created = CreateLine().Matches(ruleset.IpsetRestore).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var set in OurSets().Where(s => !created.Contains(s)))
        {
            Run("ipset", ["destroy", set]);
        }

        lock (_gate)
        {
            _applied = ruleset;
        }
    }

    private void ApplyDelta(IptablesRulesetDelta delta, IptablesRuleset ruleset)
    {
        if (delta.IpsetRestore.Length > 0)
        {
            Run("ipset", ["restore"], delta.IpsetRestore);
        }

        foreach (var ((restore, _, tool, rules), input) in Families(ruleset).Zip([delta.IPv4Rules, delta.IPv6Rules]))
        {
            if (input.Length > 0)
            {
                Run(restore, ["--test", "--noflush"], input);
                Run(restore, ["--noflush"], input);
            }

            EnsureHooks(tool, ChainLine().Matches(rules).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal));
        }

        if (delta.IpsetCleanup.Length > 0)
        {
            Run("ipset", ["restore"], delta.IpsetCleanup);
        }

        lock (_gate)
        {
            _applied = ruleset;
        }
    }

    private void EnsureHooks(string tool, HashSet<string> declared)
    {
        foreach (var (builtin, chain) in s_hooks)
        {
            if (declared.Contains(chain) && !TryRun(tool, ["-C", builtin, "-j", chain]))
            {
                Run(tool, ["-I", builtin, "1", "-j", chain]);
            }
        }
    }

    private void Forget()
    {
        lock (_gate)
        {
            _applied = null;
        }
    }

    /// <summary>Removes the hook, our chains and our sets; does nothing where nothing of ours is left.</summary>
    /// <exception cref="KernelOperationException">A tool is missing or failed.</exception>
    public void Remove()
    {
        Forget();
        foreach (var (restore, save, tool, _) in Families(null))
        {
            foreach (var (builtin, chain) in s_hooks)
            {
                while (TryRun(tool, ["-C", builtin, "-j", chain]))
                {
                    Run(tool, ["-D", builtin, "-j", chain]);
                }
            }

            var chains = OurChains(save);
            if (chains.Count > 0)
            {
                var input = WithDeletedChains("*filter\nCOMMIT\n", chains);
                Run(restore, ["--noflush"], input);
            }
        }

        foreach (var set in OurSets())
        {
            Run("ipset", ["destroy", set]);
        }
    }

    /// <summary>Compares our chains, rules, hook and sets in the kernel with what <paramref name="ruleset"/> declares.</summary>
    /// <param name="ruleset">The rendered files that were applied.</param>
    /// <returns>The differences: missing or extra chains of ours, rules missing from or added to our chains (matched by
    /// their <c>np:&lt;hash&gt;</c> comment stamps; a rule without a known stamp is extra), rules out of order, a missing
    /// <c>FORWARD</c> hook, and missing, extra or changed sets of ours (type or members).</returns>
    /// <remarks>Reads <c>iptables-save -t filter</c>, <c>ip6tables-save -t filter</c> and <c>ipset save</c>; only chains and
    /// sets named like ours and the hook rule are looked at, so other chains, rules and sets are never reported.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException">A tool is missing or failed.</exception>
    public DriftReport Check(IptablesRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        var items = new List<DriftItem>();
        foreach (var (_, save, tool, rules) in Families(ruleset))
        {
            var expected = ParseChains(rules);
            var saved = Run(save, ["-t", "filter"]);
            var actual = ParseChains(saved);
            foreach (var (chain, wanted) in expected)
            {
                if (!actual.TryGetValue(chain, out var found))
                {
                    items.Add(new DriftItem(DriftKind.Missing, "chain", chain, tool));
                    continue;
                }

                var missing = Subtract(wanted, found);
                var extra = Subtract(found, wanted);
                items.AddRange(missing.Select(r => new DriftItem(DriftKind.Missing, "rule", chain, $"{tool}: {r.Text}")));
                items.AddRange(extra.Select(r => new DriftItem(DriftKind.Extra, "rule", chain, $"{tool}: {r.Text}")));
                if (missing.Count == 0 && extra.Count == 0 && !wanted.Select(r => r.Key).SequenceEqual(found.Select(r => r.Key), StringComparer.Ordinal))
                {
                    items.Add(new DriftItem(DriftKind.Changed, "chain", chain, $"{tool}: the rules are out of order"));
                }
            }

            foreach (var chain in actual.Keys.Where(c => !expected.ContainsKey(c)).Order(StringComparer.Ordinal))
            {
                items.Add(new DriftItem(DriftKind.Extra, "chain", chain, tool));
            }

            foreach (var (builtin, chain) in s_hooks)
            {
                var hook = $"-A {builtin} -j {chain}";
                if (expected.ContainsKey(chain) && !saved.Split('\n').Any(l => l.TrimEnd() == hook))
                {
                    items.Add(new DriftItem(DriftKind.Missing, "hook", builtin, $"{tool}: {hook}"));
                }
            }
        }

        var expectedSets = ParseSets(ruleset.IpsetRestore, temporary: true);
        var actualSets = ParseSets(Run("ipset", ["save"]), temporary: false);
        foreach (var (name, (type, members)) in expectedSets)
        {
            if (!actualSets.TryGetValue(name, out var found))
            {
                items.Add(new DriftItem(DriftKind.Missing, "set", name, type));
            }
            else if (found.Type != type)
            {
                items.Add(new DriftItem(DriftKind.Changed, "set", name, $"type {found.Type}, expected {type}"));
            }
            else if (!found.Members.SetEquals(members))
            {
                var missing = members.Except(found.Members).Order(StringComparer.Ordinal).ToList();
                var extra = found.Members.Except(members).Order(StringComparer.Ordinal).ToList();
                items.Add(new DriftItem(DriftKind.Changed, "set", name, $"{missing.Count} missing member(s) [{string.Join(", ", missing.Take(5))}], {extra.Count} extra member(s) [{string.Join(", ", extra.Take(5))}]"));
            }
        }

        foreach (var name in actualSets.Keys.Where(s => !expectedSets.ContainsKey(s)).Order(StringComparer.Ordinal))
        {
            items.Add(new DriftItem(DriftKind.Extra, "set", name, actualSets[name].Type));
        }

        return new DriftReport(items);
    }

    /// <summary>Checks for drift (<see cref="Check"/>) and, only when some is found, applies <paramref name="ruleset"/> again
    /// in full (<see cref="ApplyFull"/>: one <c>ipset restore</c> with swaps and one <c>iptables-restore --noflush</c> transaction per family).</summary>
    /// <param name="ruleset">The rendered files that should be in force.</param>
    /// <returns><see langword="true"/> when drift was found and the ruleset re-applied; <see langword="false"/> when nothing differed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ruleset"/> is <see langword="null"/>.</exception>
    /// <exception cref="KernelOperationException">A tool is missing, failed or refused its input.</exception>
    public bool Repair(IptablesRuleset ruleset)
    {
        if (!Check(ruleset).HasDrift)
        {
            return false;
        }

        ApplyFull(ruleset);
        return true;
    }

    /// <summary>Parses our chains of a restore or save file: chain name to its rules in order, each keyed by its stamp
    /// (or, without a stamp, by its text).</summary>
    internal static Dictionary<string, List<(string Key, string Text)>> ParseChains(string text)
    {
        var chains = new Dictionary<string, List<(string Key, string Text)>>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (ChainLine().Match(line + " ") is { Success: true } declaration && IsOurChain(declaration.Groups[1].Value))
            {
                chains.TryAdd(declaration.Groups[1].Value, []);
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                var chain = line.Split(' ')[1];
                if (IsOurChain(chain))
                {
                    var stamp = Stamp().Match(line);
                    var key = stamp.Success ? "np:" + stamp.Groups[1].Value : line;
                    if (!chains.TryGetValue(chain, out var rules))
                    {
                        chains[chain] = rules = [];
                    }

                    rules.Add((key, line));
                }
            }
        }

        return chains;
    }

    /// <summary>Parses our sets of an <c>ipset restore</c> file (members added to the <c>-tmp</c> twin count for the set)
    /// or of <c>ipset save</c> output: set name to type and normalised members.</summary>
    internal static Dictionary<string, (string Type, HashSet<string> Members)> ParseSets(string text, bool temporary)
    {
        var sets = new Dictionary<string, (string Type, HashSet<string> Members)>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var parts = raw.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 3 || !OurSet().IsMatch(parts[1]))
            {
                continue;
            }

            var isTemporary = parts[1].EndsWith("-tmp", StringComparison.Ordinal);
            var name = isTemporary ? parts[1][..^4] : parts[1];
            if (parts[0] == "create" && !isTemporary)
            {
                sets.TryAdd(name, (parts[2], new HashSet<string>(StringComparer.Ordinal)));
            }
            else if (parts[0] == "add" && isTemporary == temporary && sets.TryGetValue(name, out var set))
            {
                set.Members.Add(NormaliseMember(parts[2]));
            }
        }

        return sets;
    }

    private static string NormaliseMember(string member)
    {
        var text = member.Contains('/', StringComparison.Ordinal) ? member : member + (member.Contains(':', StringComparison.Ordinal) ? "/128" : "/32");
        return System.Net.IPNetwork.TryParse(text, out var network) ? network.ToString() : member;
    }

    private static List<(string Key, string Text)> Subtract(List<(string Key, string Text)> from, List<(string Key, string Text)> remove)
    {
        var counts = remove.GroupBy(r => r.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<(string Key, string Text)>();
        foreach (var rule in from)
        {
            if (counts.TryGetValue(rule.Key, out var count) && count > 0)
            {
                counts[rule.Key] = count - 1;
            }
            else
            {
                result.Add(rule);
            }
        }

        return result;
    }

    /// <summary>Gets the names of our chains in the filter table of one family (<c>iptables-save</c> or <c>ip6tables-save</c>), ordinal order.</summary>
    internal List<string> OurChains(string saveTool)
    {
        var text = Run(saveTool, ["-t", "filter"]);
        return [.. ChainLine().Matches(text).Select(m => m.Groups[1].Value).Where(IsOurChain).Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>Gets the names of our sets, ordinal order.</summary>
    internal List<string> OurSets()
    {
        var text = Run("ipset", ["list", "-n"]);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => OurSet().IsMatch(s)).Order(StringComparer.Ordinal)];
    }

    internal static bool IsOurChain(string name) =>
        name is IptablesRuleset.ForwardChain or IptablesRuleset.OutputChain or IptablesRuleset.ToPodChain || OurChain().IsMatch(name);

    /// <summary>Adds <c>:chain</c> (flush) and <c>-X chain</c> (delete) lines for <paramref name="chains"/> to a restore file.</summary>
    internal static string WithDeletedChains(string rules, List<string> chains)
    {
        if (chains.Count == 0)
        {
            return rules;
        }

        var header = "*filter\n";
        var commit = "COMMIT\n";
        if (!rules.StartsWith(header, StringComparison.Ordinal) || !rules.EndsWith(commit, StringComparison.Ordinal))
        {
            throw new ArgumentException("the rules must be one '*filter' table ending in 'COMMIT'", nameof(rules));
        }

        var text = new StringBuilder(header);
        foreach (var chain in chains)
        {
            text.Append(':').Append(chain).Append(" - [0:0]\n");
        }

        text.Append(rules, header.Length, rules.Length - header.Length - commit.Length);
        foreach (var chain in chains)
        {
            text.Append("-X ").Append(chain).Append('\n');
        }

        return text.Append(commit).ToString();
    }

    private static IEnumerable<(string Restore, string Save, string Tool, string Rules)> Families(IptablesRuleset? ruleset)
    {
        yield return ("iptables-restore", "iptables-save", "iptables", ruleset?.IPv4Rules ?? string.Empty);
        yield return ("ip6tables-restore", "ip6tables-save", "ip6tables", ruleset?.IPv6Rules ?? string.Empty);
    }

    private bool TryRun(string tool, string[] arguments) => Execute(tool, arguments, null).ExitCode == 0;

    private string Run(string tool, string[] arguments, string? input = null)
    {
        var (exitCode, output, error) = Execute(tool, arguments, input);
        if (exitCode == 0)
        {
            return output;
        }

        var command = $"{tool} {string.Join(' ', arguments)}";
        var where = _namespace is null ? "the current network namespace" : $"network namespace {_namespace}";
        var message = $"'{command}' in {where} exited with {exitCode}: {error.Trim()}";
        if (input is not null && LineNumber().Match(error) is { Success: true } match &&
            int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var line))
        {
            var lines = input.Split('\n');
            if (line >= 1 && line <= lines.Length)
            {
                message += $"; refused line {line}: {lines[line - 1]}";
            }
        }

        throw new KernelOperationException(message, command, 22);
    }

    private (int ExitCode, string Output, string Error) Execute(string tool, string[] arguments, string? input)
    {
        var path = FindTool(tool);
        ProcessStartInfo start;
        if (_namespace is null)
        {
            start = new ProcessStartInfo(path);
        }
        else
        {
            start = new ProcessStartInfo(FindTool("ip"));
            start.ArgumentList.Add("netns");
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(_namespace);
            start.ArgumentList.Add(path);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new KernelOperationException($"{tool} did not start", tool, 0);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }

        process.StandardInput.Close();
        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    internal static string FindTool(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(s_extraPath))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var package = tool switch
        {
            "ipset" => "ipset",
            "ip" => "iproute2",
            _ => "iptables",
        };
        throw new KernelOperationException(
            $"'{tool}' was not found on PATH or in {string.Join(", ", s_extraPath)}; install the {package} package (Debian: apt-get install {package}).", tool, 2);
    }

    [GeneratedRegex(@"^:(NP-[A-Za-z0-9-]+) ", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex ChainLine();

    [GeneratedRegex(@"^NP-((IN|EG)-[0-9]+|(FE|TP)-[0-9a-f]{8})$", RegexOptions.CultureInvariant)]
    private static partial Regex OurChain();

    [GeneratedRegex(@"^NP-(PS[0-9]+-v[46]-(ip|net)|EP-v[46]-ip|NP[0-9a-f]{8}-v[46]-ipport)(-tmp)?$", RegexOptions.CultureInvariant)]
    private static partial Regex OurSet();

    [GeneratedRegex(@"^create (NP-(?:PS[0-9]+-v[46]-(?:ip|net)|EP-v[46]-ip|NP[0-9a-f]{8}-v[46]-ipport)) ", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex CreateLine();

    [GeneratedRegex(@"--comment ""?np:([0-9a-f]{8})""?(?: |$)", RegexOptions.CultureInvariant)]
    private static partial Regex Stamp();

    [GeneratedRegex(@"line:? ([0-9]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LineNumber();
}
