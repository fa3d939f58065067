using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Iptables;
using NetPolicy.Loader.Netns;
using NetPolicy.Loader.Nftables;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>netfilter</c> command: render time and output size of the nftables and iptables backends on a
/// synthetic cluster (default 100k pods, 25k namespaces, 10k policies), and the time to apply the artifacts in a
/// throwaway network namespace, first in full and again after one pod's label changes (on the same shape unless
/// <c>--apply-pods</c> and friends say otherwise; <c>--apply-pods 0</c> skips applying).</summary>
/// <remarks>Rendering is timed as <see cref="NftablesRenderer.Render"/> and <see cref="IptablesRenderer.Render"/> on one
/// compile, median of <c>--runs</c> renders after one warm-up. Applying needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for
/// <c>ip netns add</c>), <c>nft</c>, <c>ipset</c>, <c>iptables-restore</c> and iproute2; it runs on its own (usually
/// smaller) shape: a namespace <c>np-bench-PID</c> is created, <see cref="NftablesApplier.Apply"/> and
/// <see cref="IptablesApplier.Apply"/> write the full artifacts, then each change moves one pod's <c>app</c> label to another app of its namespace or back
/// (<see cref="PolicyCompilerSession.SetPod"/>), re-renders, times <c>DiffFrom</c> on its own and re-applies incrementally
/// (the appliers diff against what they applied and write only the delta); at the end the last ruleset is applied once
/// more in full (<c>ApplyFull</c>, the drift-repair path) for comparison. The namespace is always deleted.</remarks>
[SupportedOSPlatform("linux")]
internal static partial class NetfilterCommand
{
    public static int Run(ReadOnlySpan<string> args)
    {
        var shape = new SyntheticClusterShape(25_000, 100_000, 10_000);
        SyntheticClusterShape? apply = null;
        var seed = 1;
        var runs = 3;
        var changes = 3;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
            var number = int.Parse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--namespaces": shape = shape with { Namespaces = number }; break;
                case "--pods": shape = shape with { Pods = number }; break;
                case "--policies": shape = shape with { Policies = number }; break;
                case "--apply-namespaces": apply = (apply ?? shape) with { Namespaces = number }; break;
                case "--apply-pods": apply = (apply ?? shape) with { Pods = number }; break;
                case "--apply-policies": apply = (apply ?? shape) with { Policies = number }; break;
                case "--seed": seed = number; break;
                case "--runs": runs = number; break;
                case "--changes": changes = number; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        var applyShape = apply ?? shape;
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(changes);
        Console.WriteLine(Invariant($"NetPolicy netfilter: render {shape} (pods/namespaces/policies, seed {seed}), median of {runs} renders; apply {(applyShape.Pods == 0 ? "skipped" : applyShape.ToString())}, {changes} pod-label changes"));
        Console.WriteLine(Invariant($"kernel {BpfPacketCommand.ReadProc("/proc/sys/kernel/osrelease")}, {BpfPacketCommand.CpuModel()}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, load average {BpfPacketCommand.ReadProc("/proc/loadavg")}"));
        Console.WriteLine();

        var (_, policySet, _) = Compile(shape, seed, Console.Out);
        RenderTimes(policySet, runs);

        if (applyShape.Pods > 0)
        {
            Console.WriteLine();
            ApplyTimes(applyShape, seed, changes);
        }

        return 0;
    }

    private static (PolicyCompilerSession Session, CompiledPolicySet PolicySet, SyntheticCluster Cluster) Compile(SyntheticClusterShape shape, int seed, TextWriter log)
    {
        var start = Stopwatch.GetTimestamp();
        var cluster = SyntheticCluster.Generate(shape, seed);
        var generated = Stopwatch.GetTimestamp();
        var session = new PolicyCompilerSession(cluster.ToSnapshot());
        var policySet = session.Current.ThrowIfErrors();
        log.WriteLine(Invariant($"{shape}: generate {Stopwatch.GetElapsedTime(start, generated).TotalSeconds:0.0} s, compile {Stopwatch.GetElapsedTime(generated).TotalSeconds:0.0} s; {policySet.Endpoints.Count:N0} endpoints, {policySet.Identities.Count:N0} identities"));
        return (session, policySet, cluster);
    }

    private static void RenderTimes(CompiledPolicySet policySet, int runs)
    {
        var nft = NftablesRenderer.Render(policySet);
        var ipt = IptablesRenderer.Render(policySet);
        var nftTimes = new List<double>(runs);
        var iptTimes = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            // Alternate, so load from other processes falls on both alike.
            nftTimes.Add(Time(() => nft = NftablesRenderer.Render(policySet)));
            iptTimes.Add(Time(() => ipt = IptablesRenderer.Render(policySet)));
        }

        Console.WriteLine(Invariant($"render (ms)           median      min      max"));
        Console.WriteLine(Invariant($"  nftables        {Median(nftTimes),10:N0} {nftTimes.Min(),8:N0} {nftTimes.Max(),8:N0}"));
        Console.WriteLine(Invariant($"  iptables+ipset  {Median(iptTimes),10:N0} {iptTimes.Min(),8:N0} {iptTimes.Max(),8:N0}"));
        Console.WriteLine(Invariant($"nftables: {Describe(nft)}"));
        Console.WriteLine(Invariant($"iptables: {Describe(ipt)}"));
    }

    private static void ApplyTimes(SyntheticClusterShape shape, int seed, int changes)
    {
        var (session, policySet, cluster) = Compile(shape, seed, Console.Out);
        var nft = NftablesRenderer.Render(policySet);
        var ipt = IptablesRenderer.Render(policySet);
        Console.WriteLine(Invariant($"nftables: {Describe(nft)}"));
        Console.WriteLine(Invariant($"iptables: {Describe(ipt)}"));
        var (pod, variants) = ChooseChange(cluster);

        var name = Invariant($"np-bench-{Environment.ProcessId}");
        using var ns = NetworkNamespace.Create(name);
        var nftApplier = new NftablesApplier(ns);
        var iptApplier = new IptablesApplier(ns);
        var nftFirst = Time(() => nftApplier.Apply(nft));
        var iptFirst = Time(() => iptApplier.Apply(ipt));
        Console.WriteLine(Invariant($"first apply in network namespace {name}: nftables {nftFirst:N0} ms, iptables+ipset {iptFirst:N0} ms"));

        var compile = new List<double>();
        var nftRender = new List<double>();
        var iptRender = new List<double>();
        var nftDiff = new List<double>();
        var iptDiff = new List<double>();
        var nftApply = new List<double>();
        var iptApply = new List<double>();
        for (var i = 0; i < changes; i++)
        {
            var changed = variants[i & 1];
            compile.Add(Time(() => policySet = session.SetPod(changed).ThrowIfErrors()));
            var previousNft = nft;
            var previousIpt = ipt;
            nftRender.Add(Time(() => nft = NftablesRenderer.Render(policySet)));
            iptRender.Add(Time(() => ipt = IptablesRenderer.Render(policySet)));
            NftablesRulesetDelta? nftDelta = null;
            IptablesRulesetDelta? iptDelta = null;
            nftDiff.Add(Time(() => nftDelta = nft.DiffFrom(previousNft)));
            iptDiff.Add(Time(() => iptDelta = ipt.DiffFrom(previousIpt)));

            // Apply computes the same delta again and writes only it (the applier knows what it applied).
            var nftMode = NetPolicy.Loader.NetfilterApplyMode.Full;
            var iptMode = NetPolicy.Loader.NetfilterApplyMode.Full;
            nftApply.Add(Time(() => nftMode = nftApplier.Apply(nft)));
            iptApply.Add(Time(() => iptMode = iptApplier.Apply(ipt)));
            Console.WriteLine(Invariant($"  change {i + 1}: {pod.Key} {Describe(pod, changed)}: SetPod {compile[^1]:N1} ms; nftables render {nftRender[^1]:N0} + diff {nftDiff[^1]:N0} + apply {nftApply[^1]:N0} ms ({nftMode}: {nftDelta}, {Lines(nftDelta!.Text)} lines); iptables render {iptRender[^1]:N0} + diff {iptDiff[^1]:N0} + apply {iptApply[^1]:N0} ms ({iptMode}: {iptDelta}, {Lines(iptDelta!.IpsetRestore + iptDelta.IPv4Rules + iptDelta.IPv6Rules + iptDelta.IpsetCleanup)} lines)"));
        }

        if (changes > 0)
        {
            Console.WriteLine(Invariant($"re-apply after one pod-label change (ms, median of {changes}): SetPod {Median(compile):N1}; nftables render {Median(nftRender):N0} + diff {Median(nftDiff):N0} + incremental apply {Median(nftApply):N0}; iptables render {Median(iptRender):N0} + diff {Median(iptDiff):N0} + incremental apply {Median(iptApply):N0}"));
            var nftFull = Time(() => nftApplier.ApplyFull(nft));
            var iptFull = Time(() => iptApplier.ApplyFull(ipt));
            Console.WriteLine(Invariant($"the same ruleset re-applied in full (ApplyFull, the drift-repair path): nftables {nftFull:N0} ms, iptables+ipset {iptFull:N0} ms"));
        }

        var tables = ns.Run(() => Process(["nft", "list", "tables"]));
        Console.WriteLine(Invariant($"in the namespace: {tables.Trim().Replace('\n', ';')}; deleting it"));
    }

    /// <summary>Chooses the pod to change and its two variants: its <c>app</c> label set to the app of another pod of its
    /// namespace, and back to the original. The pod is the first, from the middle of the cluster on, for which the other
    /// app changes which policies of its namespace select it, so the pod moves to another rule set and the rendered
    /// artifacts really change; when there is none, a CoreDNS pod's <c>k8s-app</c> label, which moves it out of the DNS
    /// peer set (a <c>version</c> flip, which every selector of the generator ignores or matches with
    /// <c>Exists</c>, renders byte-identical files).</summary>
    private static (PodEndpoint Pod, PodEndpoint[] Variants) ChooseChange(SyntheticCluster cluster)
    {
        var policies = cluster.Policies.ToLookup(p => p.Namespace, StringComparer.Ordinal);
        var apps = cluster.Pods.ToLookup(p => p.Namespace, StringComparer.Ordinal);
        var pods = cluster.Pods;
        for (var k = 0; k < pods.Length; k++)
        {
            var pod = pods[(k + (pods.Length / 2)) % pods.Length];
            var selecting = policies[pod.Namespace].ToList();
            if (selecting.Count == 0)
            {
                continue;
            }

            var app = App(pod);
            foreach (var other in apps[pod.Namespace].Select(App).Distinct(StringComparer.Ordinal).Where(a => a != app))
            {
                var changed = SyntheticCluster.WithLabel(pod, "app", other);
                if (selecting.Any(p => p.PodSelector.Matches(pod.Labels) != p.PodSelector.Matches(changed.Labels)))
                {
                    return (pod, [changed, pod]);
                }
            }
        }

        // Few policies per namespace (the 10k-policy shape over 25k namespaces is almost all default-deny and allow-dns):
        // take a CoreDNS pod out of the DNS peer set instead, which changes the members of the peers' address sets.
        var dns = pods.FirstOrDefault(p => p.Labels.TryGetValue("k8s-app", out var v) && v == "kube-dns")
            ?? throw new InvalidOperationException("no pod's label change moves it between policies or peer sets; try another --seed");
        return (dns, [SyntheticCluster.WithLabel(dns, "k8s-app", "kube-dns-canary"), dns]);
    }

    private static string Describe(PodEndpoint original, PodEndpoint changed) =>
        string.Join(",", changed.Labels.Where(l => !original.Labels.TryGetValue(l.Key, out var v) || v != l.Value).Select(l => $"{l.Key}={l.Value}").DefaultIfEmpty("labels restored"));

    private static string App(PodEndpoint pod) => pod.Labels.TryGetValue("app", out var app) ? app : "";

    private static string Process(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.AsSpan(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static string Describe(NftablesRuleset ruleset)
    {
        var text = ruleset.Text;
        return Invariant($"{text.Length / 1e6:0.00} MB, {Lines(text):N0} lines, {NftSet().Count(text):N0} sets, {NftMap().Count(text):N0} verdict maps, {NftChain().Count(text):N0} chains");
    }

    private static string Describe(IptablesRuleset ruleset)
    {
        var rules = ruleset.IPv4Rules + ruleset.IPv6Rules;
        return Invariant($"{(ruleset.IpsetRestore.Length + rules.Length) / 1e6:0.00} MB, {Lines(ruleset.IpsetRestore) + Lines(rules):N0} lines; ipset {ruleset.IpsetRestore.Length / 1e6:0.00} MB, {IpsetSwap().Count(ruleset.IpsetRestore):N0} sets, {IpsetAdd().Count(ruleset.IpsetRestore):N0} members; iptables+ip6tables {rules.Length / 1e6:0.00} MB, {IptChain().Count(rules):N0} chains, {IptRule().Count(rules):N0} rules");
    }

    private static int Lines(string text) => text.Count(c => c == '\n');

    private static int ChangedLines(string before, string after)
    {
        var a = before.Split('\n').GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var changed = 0;
        foreach (var line in after.Split('\n'))
        {
            if (a.TryGetValue(line, out var n) && n > 0)
            {
                a[line] = n - 1;
            }
            else
            {
                changed++;
            }
        }

        return changed + a.Values.Sum();
    }

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var list = values.Order().ToList();
        return list.Count % 2 == 1 ? list[list.Count / 2] : (list[(list.Count / 2) - 1] + list[list.Count / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s*set\s", RegexOptions.Multiline)]
    private static partial Regex NftSet();

    [GeneratedRegex(@"^\s*chain\s", RegexOptions.Multiline)]
    private static partial Regex NftChain();

    [GeneratedRegex(@"^\s*map\s", RegexOptions.Multiline)]
    private static partial Regex NftMap();

    [GeneratedRegex(@"^swap\s", RegexOptions.Multiline)]
    private static partial Regex IpsetSwap();

    [GeneratedRegex(@"^add\s", RegexOptions.Multiline)]
    private static partial Regex IpsetAdd();

    [GeneratedRegex(@"^:", RegexOptions.Multiline)]
    private static partial Regex IptChain();

    [GeneratedRegex(@"^-A\s", RegexOptions.Multiline)]
    private static partial Regex IptRule();
}
