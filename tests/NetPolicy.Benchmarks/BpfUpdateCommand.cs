using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Loader;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>bpf-update</c> command: how long a policy change takes from the changed object to enforcement in the
/// kernel, on a synthetic cluster (default 10k pods, 1k namespaces, 3k policies) applied to a <see cref="BpfDatapath"/>.</summary>
/// <remarks>Each change adds TCP port 7777 to the first ingress rule of one policy, or takes it away again (16 policies
/// spread over the cluster, each change a real one). A change is timed as <see cref="PolicyCompilerSession.SetPolicy"/>
/// (applied in place) + <see cref="BpfMapRenderer.RenderChanges"/> (patching the applied images with the delta) +
/// <see cref="BpfDatapath.Apply"/> (diff against the applied images and batch map writes; programs are never reloaded).
/// Enforcement is shown with <c>BPF_PROG_TEST_RUN</c>: a TCP SYN to 7777 between two pods flips from drop to pass and back.</remarks>
[SupportedOSPlatform("linux")]
internal static class BpfUpdateCommand
{
    public static int Run(ReadOnlySpan<string> args)
    {
        var shape = new SyntheticClusterShape(1_000, 10_000, 3_000);
        var seed = 1;
        var changes = 100;
        var warmup = 6;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
            var number = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--namespaces": shape = shape with { Namespaces = number }; break;
                case "--pods": shape = shape with { Pods = number }; break;
                case "--policies": shape = shape with { Policies = number }; break;
                case "--seed": seed = number; break;
                case "--changes": changes = number; break;
                case "--warmup": warmup = number; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(changes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        Console.WriteLine(Invariant($"NetPolicy bpf-update: policy change -> enforced, {shape} (pods/namespaces/policies, seed {seed}), {changes} changes after {warmup} warm-up changes"));
        Console.WriteLine(Invariant($"kernel {BpfPacketCommand.ReadProc("/proc/sys/kernel/osrelease")}, {BpfPacketCommand.CpuModel()}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, load average {BpfPacketCommand.ReadProc("/proc/loadavg")}"));

        using var rig = PolicyUpdateRig.Create(shape, seed, Console.Out);
        Console.WriteLine();

        // Enforcement: drop before the change, pass after it, drop again after the change is undone.
        var proof = rig.Proof;
        var packet = TestPacket.Build(proof.Source.AddressOf(AddressFamily.InterNetwork)!, proof.Destination.AddressOf(AddressFamily.InterNetwork)!, TestPacket.Tcp, 43210, PolicyUpdateRig.TogglePort);
        var program = rig.Datapath.LoadEndpoint(rig.Datapath.Images!.EndpointIds[proof.Destination.Key]).ToPod;
        var before = program.TestRun(packet).ReturnValue;
        var added = rig.Change(0);
        var after = program.TestRun(packet).ReturnValue;
        var removed = rig.Change(1);
        var reverted = program.TestRun(packet).ReturnValue;
        Console.WriteLine(Invariant($"enforcement: {proof.Source.Key} -> {proof.Destination.Key} TCP SYN :{PolicyUpdateRig.TogglePort} through np_to_pod of {proof.Destination.Key} ({proof.Policy.Key}, rule 0 gains/loses port {PolicyUpdateRig.TogglePort})"));
        Console.WriteLine(Invariant($"  before: {Verdict(before)}; after the change: {Verdict(after)} (total {added.Total.TotalMilliseconds:0.0} ms, {added.Upserted} upserted, {added.Deleted} deleted); after undoing it: {Verdict(reverted)} ({removed.Total.TotalMilliseconds:0.0} ms)"));
        var flipped = before == 2 && after == -1 && reverted == 2;
        Console.WriteLine(flipped ? "  verdict flipped as expected" : "  UNEXPECTED: the verdict did not flip");

        for (var i = 0; i < warmup; i++)
        {
            rig.Change(2 + i);
        }

        var samples = new List<ChangeTiming>(changes);
        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        for (var i = 0; i < changes; i++)
        {
            samples.Add(rig.Change(2 + warmup + i));
        }

        Console.WriteLine();
        Console.WriteLine(Invariant($"{changes} policy changes (ms)        median      p95      min      max"));
        Row("total (compile+render+apply)", samples.Select(s => s.Total));
        Row("  compile (SetPolicy)", samples.Select(s => s.Compile));
        Row("  render", samples.Select(s => s.Render));
        Row("  apply (BpfDatapath.Apply)", samples.Select(s => s.Apply));
        Row("  (DiffFrom alone, re-run warm)", samples.Select(s => s.Diff));
        Console.WriteLine(Invariant($"allocated per change: median {Median(samples.Select(s => s.Allocated / 1e6)):0.0} MB; GCs during the changes: gen0/1/2 {GC.CollectionCount(0) - gc0}/{GC.CollectionCount(1) - gc1}/{GC.CollectionCount(2) - gc2}"));
        Console.WriteLine(Invariant($"map delta per change: median {Median(samples.Select(s => (double)s.Upserted)):0} upserted, {Median(samples.Select(s => (double)s.Deleted)):0} deleted (max {samples.Max(s => s.Upserted + s.Deleted)} entries)"));
        Console.WriteLine(Invariant($"target: total <= 10 ms median -> {(Median(samples.Select(s => s.Total.TotalMilliseconds)) <= 10 ? "met" : "missed")}"));
        return flipped ? 0 : 1;

        static string Verdict(int value) => value switch { -1 => "pass", 2 => "drop", _ => value.ToString(CultureInfo.InvariantCulture) };
    }

    private static void Row(string name, IEnumerable<TimeSpan> values)
    {
        var ms = values.Select(v => v.TotalMilliseconds).Order().ToList();
        Console.WriteLine(Invariant($"  {name,-30}{Median(ms),8:0.00} {ms[Math.Max(0, (int)Math.Ceiling(ms.Count * 0.95) - 1)],8:0.00} {ms[0],8:0.00} {ms[^1],8:0.00}"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var list = values.Order().ToList();
        return list.Count % 2 == 1 ? list[list.Count / 2] : (list[(list.Count / 2) - 1] + list[list.Count / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The timings of one policy change.</summary>
/// <param name="Compile"><see cref="PolicyCompilerSession.SetPolicy"/>, applied in place.</param>
/// <param name="Render">Rendering the map images by patching the applied ones (<see cref="BpfMapRenderer.RenderChanges"/>).</param>
/// <param name="Apply">The wall time of <see cref="BpfDatapath.Apply"/> (diff against the applied images + map writes).</param>
/// <param name="Diff">The time <see cref="BpfMapImages.DiffFrom"/> takes on its own (measured after the change, not part of it).</param>
/// <param name="Upserted">Entries written.</param>
/// <param name="Deleted">Entries deleted.</param>
/// <param name="Allocated">Bytes the change allocated on the calling thread.</param>
internal sealed record ChangeTiming(TimeSpan Compile, TimeSpan Render, TimeSpan Apply, TimeSpan Diff, int Upserted, int Deleted, long Allocated)
{
    public TimeSpan Total => Compile + Render + Apply;
}

/// <summary>A compiled synthetic cluster applied to a <see cref="BpfDatapath"/>, and the policy changes to time:
/// shared by the <c>bpf-update</c> command and <see cref="BpfPolicyUpdateBenchmarks"/>.</summary>
[SupportedOSPlatform("linux")]
internal sealed class PolicyUpdateRig : IDisposable
{
    /// <summary>The port a change adds to, or removes from, a policy's first ingress rule.</summary>
    public const ushort TogglePort = 7777;

    private readonly PolicyCompilerSession _session;
    private readonly (NetworkPolicyDefinition Original, NetworkPolicyDefinition Changed)[] _policies;

    private PolicyUpdateRig(PolicyCompilerSession session, BpfDatapath datapath, (NetworkPolicyDefinition, NetworkPolicyDefinition)[] policies, ProofFlow proof)
    {
        _session = session;
        Datapath = datapath;
        _policies = policies;
        Proof = proof;
    }

    public BpfDatapath Datapath { get; }

    /// <summary>Gets the flow that policy 0's change flips (ingress of the destination), found with the reference evaluator.</summary>
    public ProofFlow Proof { get; }

    public static PolicyUpdateRig Create(SyntheticClusterShape shape, int seed, TextWriter? log)
    {
        var sw = Stopwatch.StartNew();
        var cluster = SyntheticCluster.Generate(shape, seed);
        var session = new PolicyCompilerSession(cluster.ToSnapshot());
        var policySet = session.Current.ThrowIfErrors();
        var compile = sw.Elapsed;
        var images = BpfMapRenderer.Render(policySet).ThrowIfErrors();
        var render = sw.Elapsed - compile;
        var datapath = BpfDatapath.Create();
        try
        {
            var full = datapath.Apply(images);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cold: generate + compile {compile.TotalMilliseconds:N0} ms, render {render.TotalMilliseconds:N0} ms, first Apply {full.Elapsed.TotalMilliseconds:N0} ms ({full.Upserted:N0} entries)"));
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"maps: {images.IPCacheHost.Length:N0} ipcache host, {images.IPCacheLpm.Length:N0} ipcache lpm, {images.Endpoints.Length:N0} endpoints, {images.RuleSets.Length:N0} rule sets, {images.Policy.Length:N0} policy entries; {policySet.Identities.Count:N0} identities"));

            var (policies, proof) = ChoosePolicies(session.Snapshot);
            return new PolicyUpdateRig(session, datapath, policies, proof);
        }
        catch
        {
            datapath.Dispose();
            throw;
        }
    }

    /// <summary>Makes change number <paramref name="index"/>: even numbers add the port to a policy, odd ones take it
    /// away again; the policy moves on every second change.</summary>
    /// <param name="index">The change number, from 0.</param>
    /// <returns>The timings.</returns>
    public ChangeTiming Change(int index)
    {
        var (original, changed) = _policies[(index >> 1) % _policies.Length];
        var policy = (index & 1) == 0 ? changed : original;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var result = _session.SetPolicy(policy);
        var policySet = result.ThrowIfErrors();
        var compiled = Stopwatch.GetTimestamp();
        var images = BpfMapRenderer.RenderChanges(policySet, result.Delta!, Datapath.Images!).ThrowIfErrors();
        var rendered = Stopwatch.GetTimestamp();
        var previous = Datapath.Images!;
        var applied = Datapath.Apply(images);
        var end = Stopwatch.GetTimestamp();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        // Not part of the change: the diff again, on its own, to split Apply into diffing and map writes.
        var diffStart = Stopwatch.GetTimestamp();
        _ = images.DiffFrom(previous);
        var diff = Stopwatch.GetElapsedTime(diffStart);
        return new ChangeTiming(
            Stopwatch.GetElapsedTime(start, compiled), Stopwatch.GetElapsedTime(compiled, rendered), Stopwatch.GetElapsedTime(rendered, end),
            diff, applied.Upserted, applied.Deleted, allocated);
    }

    public void Dispose() => Datapath.Dispose();

    /// <summary>Chooses up to 16 policies spread over the cluster whose first ingress rule has peers and ports, and for the
    /// first of them a pod pair whose ingress verdict on TCP 7777 the change flips.</summary>
    private static ((NetworkPolicyDefinition, NetworkPolicyDefinition)[] Policies, ProofFlow Proof) ChoosePolicies(ClusterSnapshot snapshot)
    {
        var candidates = snapshot.Policies.Values
            .Where(p => p.AffectsIngress && p.Ingress.Length > 0 && p.Ingress[0].Peers.Length > 0 && p.Ingress[0].Ports.Length > 0 &&
                        p.Ingress[0].Peers.All(peer => peer.IPBlock is null && peer.NamespaceSelector is null))
            .ToList();
        var step = Math.Max(1, candidates.Count / 16);
        var chosen = candidates.Where((_, i) => i % step == 0).Take(16).ToList();
        var before = new PolicyEvaluator(snapshot);
        foreach (var policy in chosen)
        {
            var changed = WithPort(policy);
            var after = new PolicyEvaluator(snapshot.SetPolicy(changed));
            var pods = snapshot.Pods.Values.Where(p => p.Namespace == policy.Namespace).ToList();
            foreach (var destination in pods.Where(p => policy.PodSelector.Matches(p.Labels)))
            {
                foreach (var source in pods.Where(p => p.Key != destination.Key))
                {
                    var from = FlowEndpoint.ForPod(source);
                    var to = FlowEndpoint.ForPod(destination);
                    if (before.Evaluate(from, to, TransportProtocol.Tcp, TogglePort, AddressFamily.InterNetwork).Ingress is { Allowed: false } &&
                        after.Evaluate(from, to, TransportProtocol.Tcp, TogglePort, AddressFamily.InterNetwork).Ingress is { Allowed: true })
                    {
                        // The proof policy goes first, so changes 0 and 1 flip the proof flow.
                        var ordered = chosen.Where(p => p != policy).Prepend(policy).Select(p => (p, WithPort(p))).ToArray();
                        return (ordered, new ProofFlow(policy, source, destination));
                    }
                }
            }
        }

        throw new InvalidOperationException("no policy of the cluster has a flow that gaining port 7777 would flip; try another --seed");
    }

    private static NetworkPolicyDefinition WithPort(NetworkPolicyDefinition policy) =>
        policy with { Ingress = policy.Ingress.SetItem(0, policy.Ingress[0] with { Ports = policy.Ingress[0].Ports.Add(new NetworkPolicyPort { Port = TogglePort }) }) };

    /// <summary>A flow whose verdict the first policy's change flips.</summary>
    /// <param name="Policy">The policy.</param>
    /// <param name="Source">The source pod.</param>
    /// <param name="Destination">The destination pod (selected by the policy).</param>
    public sealed record ProofFlow(NetworkPolicyDefinition Policy, PodEndpoint Source, PodEndpoint Destination);
}
