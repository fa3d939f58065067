using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader;
using NetPolicy.Loader.Bpf;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>bpf-packet</c> command: the datapath's cost per packet, as <c>BPF_PROG_TEST_RUN</c> measures it (the
/// kernel's average duration of one run over <c>repeat</c> runs), for a sweep of policy-map sizes.</summary>
/// <remarks>
/// <para>The maps are written directly (<see cref="BpfMap.UpdateBatch{TKey, TValue}(ReadOnlySpan{TKey}, ReadOnlySpan{TValue})"/>
/// with the key and value structs of <c>NetPolicy.Compiler.Bpf</c>, the ones <see cref="BpfMapRenderer"/> writes), so
/// every size is exact: a compiled cluster cannot be steered to exactly N entries in one rule set.</para>
/// <list type="bullet">
/// <item><description><c>np_ipcache_host</c>: <c>--ipcache</c> pod entries (default 100,000): pod i has IPv4
/// 100.64.0.0 + 256 + i; the first tenth are dual stack and also get fd00:100::(i + 1), within the same total (so
/// 90,000 IPv4 + 10,000 IPv6 by default). Pod i has identity 256 + (i mod 16,384) and address class 2^24 (not in any
/// policy entry). <c>np_ipcache_lpm</c> is empty, as a host hit never reaches it.</description></item>
/// <item><description><c>np_endpoints</c>: endpoint 1, isolated in both directions, ingress rule set 1; endpoint 2, not
/// isolated (no rule set), for case (d).</description></item>
/// <item><description><c>np_rulesets</c>: rule set 1 with remote identities and address classes
/// (<c>PRESENT | REMOTE_IDENTITY | REMOTE_CLASS</c>) and exact ports only (port prefix length 16 for TCP and UDP).</description></item>
/// <item><description><c>np_policy</c>: exactly N entries of rule set 1 (ingress): entry k has remote identity 256 + k / 8
/// and the k mod 8-th of TCP 80, 443, 8080, 8443, 9090, 9100, 5432 and UDP 53. The last entry's remote may carry fewer
/// than 8. Nothing else is in the map.</description></item>
/// </list>
/// <para>Cases, all through <c>np_to_pod</c> of endpoint 1 (its ingress policy): (a) a TCP SYN from an allowed pod to
/// 8080, IPv4 and IPv6 (a SYN never passes on a conntrack entry: ipcache, rule set and policy lookups plus a conntrack
/// write every run); (b) a TCP SYN from a pod whose identity has no entry (default deny: two policy lookups miss and a
/// ring-buffer event is emitted); (c) UDP from an allowed pod to 53 (the first run creates the conntrack entry, every
/// later run passes on it); (d) the TCP SYN of (a) through <c>np_to_pod</c> of endpoint 2, which is not isolated: no
/// ipcache or policy lookup, only parsing, the endpoint entry and the conntrack insert every new flow makes, so it is the
/// least a flow's first packet can cost with an LRU conntrack table.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class BpfPacketCommand
{
    private const uint EndpointId = 1;
    private const uint OpenEndpointId = 2;
    private const uint RuleSetId = 1;
    private const uint FirstIdentity = 256;
    private const int IdentityCount = 16384;
    private const int EntriesPerRemote = 8;
    private const ushort SourcePort = 43210;
    private const int EventSize = 96;
    private const int RingBytes = 1 << 20;
    private const int Warmup = 1000;

    private static readonly (byte Protocol, ushort Port)[] s_ports =
    [
        (TestPacket.Tcp, 80), (TestPacket.Tcp, 443), (TestPacket.Tcp, 8080), (TestPacket.Tcp, 8443),
        (TestPacket.Tcp, 9090), (TestPacket.Tcp, 9100), (TestPacket.Tcp, 5432), (TestPacket.Udp, 53),
    ];

    public static int Run(ReadOnlySpan<string> args)
    {
        var ipcache = 100_000;
        var repeat = 1_000_000;
        var runs = 5;
        int[] sizes = [100, 1_000, 4_096, 16_384, 65_536];
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
            switch (args[i])
            {
                case "--ipcache": ipcache = Number(value); break;
                case "--repeat": repeat = Number(value); break;
                case "--runs": runs = Number(value); break;
                case "--entries": sizes = [.. value.Split(',').Select(Number)]; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        if (ipcache < 20_000 || sizes.Any(n => n < 60 || n > IdentityCount / 2 * EntriesPerRemote))
        {
            throw new ArgumentException($"--ipcache must be at least 20,000 and every --entries size within 60..{IdentityCount / 2 * EntriesPerRemote}.");
        }

        Console.WriteLine(Invariant($"NetPolicy bpf-packet: BPF_PROG_TEST_RUN ns/packet (kernel's average per run), repeat {repeat:N0}, median of {runs} runs"));
        Console.WriteLine(Invariant($"kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, {CpuModel()}, {Environment.ProcessorCount} CPUs, bpf_jit_enable={ReadProc("/proc/sys/net/core/bpf_jit_enable")}, bpf_stats_enabled={ReadProc("/proc/sys/kernel/bpf_stats_enabled")}, load average {ReadProc("/proc/loadavg")}"));

        using var datapath = BpfDatapath.Create();
        var (v4Count, v6Count) = WriteIPCache(datapath, ipcache);
        WriteEndpointAndRuleSet(datapath);
        var programs = datapath.LoadEndpoint(EndpointId);
        var toPod = programs.ToPod;
        var openToPod = datapath.LoadEndpoint(OpenEndpointId).ToPod;
        Console.WriteLine(Invariant($"np_ipcache_host: {v4Count:N0} IPv4 + {v6Count:N0} IPv6 = {v4Count + v6Count:N0} entries; np_policy max_entries {datapath.GetMap(BpfConstants.PolicyMapName).MaxEntries:N0}"));
        Console.WriteLine();

        // Addresses: the endpoint is pod 15,000; the allowed peer is the pod of identity 256 + 6 (a remote of every N >= 60);
        // the denied peer the pod of identity 256 + 16,383 (never a remote: at most 8,192 remotes).
        var local = PodIPv4(15_000);
        var local6 = PodIPv6(5_000);
        const int allowedPod = 6;
        const int deniedPod = IdentityCount - 1;
        var allowedSyn = TestPacket.Build(PodIPv4(allowedPod), local, TestPacket.Tcp, SourcePort, 8080);
        var allowedSyn6 = TestPacket.Build(PodIPv6(allowedPod), local6, TestPacket.Tcp, SourcePort, 8080);
        var deniedSyn = TestPacket.Build(PodIPv4(deniedPod), local, TestPacket.Tcp, SourcePort, 8080);
        var established = TestPacket.Build(PodIPv4(allowedPod), local, TestPacket.Udp, SourcePort, 53);
        var arp = TestPacket.Arp();

        long received = 0;
        using var events = new RingBufferReader(datapath.GetMap(BpfConstants.EventsMapName), _ => received++);
        var rows = sizes.Select(n => new Row(n)).ToList();
        var roomRepeat = (RingBytes / (EventSize + 8)) - 64;
        BpfPolicyKey[] previous = [];

        // Rounds: every round goes through every size once, so load from other processes spreads over all sizes alike.
        for (var round = 0; round < runs; round++)
        {
            foreach (var row in rows)
            {
                previous = WritePolicy(datapath, row.Entries, previous);
                datapath.FlushConntrack();
                events.Consume();

                // The floor: an ARP frame (not IP) is parsed and passed with one per-CPU counter increment; the rest is
                // the cost of BPF_PROG_TEST_RUN's own loop.
                row.Add(Case.Floor, Measure(toPod, arp, repeat, Expect.NonIP, datapath, out _));
                row.Add(Case.Allowed, Measure(toPod, allowedSyn, repeat, Expect.Pass, datapath, out _));
                row.Add(Case.Allowed6, Measure(toPod, allowedSyn6, repeat, Expect.Pass, datapath, out _));
                row.Add(Case.NotIsolated, Measure(openToPod, allowedSyn, repeat, Expect.Pass, datapath, out _));

                // (b) with a consumer draining the ring buffer on another thread, as an agent would.
                received = 0;
                var stop = 0;
                var drainer = new Thread(() =>
                {
                    while (Volatile.Read(ref stop) == 0)
                    {
                        events.Poll(TimeSpan.FromMilliseconds(20));
                    }

                    events.Consume();
                })
                { IsBackground = true, Name = "np_events drainer" };
                drainer.Start();
                row.Add(Case.Denied, Measure(toPod, deniedSyn, repeat, Expect.Drop, datapath, out var denied));
                Volatile.Write(ref stop, 1);
                drainer.Join();
                row.DeniedRuns += denied.Runs;
                row.DeniedEvents += received - Warmup; // the warm-up's events all arrive: the ring was drained before it
                row.DeniedLost += denied.EventsLost;

                // (b) when the ring buffer has room for every event of the run (drained before it; nobody consumes during it).
                row.Add(Case.DeniedRoom, Measure(toPod, deniedSyn, roomRepeat, Expect.Drop, datapath, out var room, before: () => events.Consume()));
                events.Consume();
                row.RoomLost += room.EventsLost;

                // (b) with the ring buffer full: every reservation fails and only the lost-event counter moves.
                FillRing(toPod, deniedSyn);
                row.Add(Case.DeniedFull, Measure(toPod, deniedSyn, repeat, Expect.Drop, datapath, out _));
                events.Consume();

                // (c) the first packet creates the conntrack entry; every packet of the measured runs passes on it.
                datapath.FlushConntrack();
                toPod.TestRun(established);
                row.Add(Case.Established, Measure(toPod, established, repeat, Expect.Pass, datapath, out _));
                row.ConntrackEntries = datapath.GetMap(BpfConstants.ConntrackMapName).GetKeys().Count();
            }

            Console.WriteLine(Invariant($"  round {round + 1}/{runs}: ") + string.Join("; ", rows.Select(r =>
                Invariant($"N={r.Entries}: {r.Last(Case.Allowed)}/{r.Last(Case.Allowed6)}/{r.Last(Case.NotIsolated)}/{r.Last(Case.Denied)}/{r.Last(Case.DeniedRoom)}/{r.Last(Case.DeniedFull)}/{r.Last(Case.Established)}/{r.Last(Case.Floor)}"))));
        }

        Print(rows, repeat, runs, roomRepeat);
        return 0;
    }

    private static void Print(List<Row> rows, int repeat, int runs, int roomRepeat)
    {
        Console.WriteLine();
        Console.WriteLine(Invariant($"ns/packet, median of {runs} BPF_PROG_TEST_RUN runs of np_to_pod (repeat {repeat:N0}; 'ring has room': repeat {roomRepeat:N0})"));
        Table(rows, r => r.Median);
        Console.WriteLine();
        Console.WriteLine("the same, minimum of the runs (the least disturbed by other load)");
        Table(rows, r => r.Min);

        Console.WriteLine();
        foreach (var r in rows)
        {
            Console.WriteLine(Invariant($"N = {r.Entries:N0}: (b) draining: {r.DeniedRuns:N0} drops, {r.DeniedEvents:N0} events received, {r.DeniedLost:N0} lost (ring full); ring has room: {r.RoomLost:N0} lost; conntrack entries during (c): {r.ConntrackEntries}"));
        }

        var baseRow = rows.Find(r => r.Entries == 100);
        var target = rows.Find(r => r.Entries is 16_384 or 16_000);
        if (baseRow is not null && target is not null)
        {
            Console.WriteLine();
            Console.WriteLine(Invariant($"growth of the median 100 -> {target.Entries:N0} entries (target <= +10%): ") +
                string.Join(", ", Enum.GetValues<Case>().Select(c => Invariant($"{c} {Growth(baseRow.Median(c), target.Median(c))}"))));
            Console.WriteLine(Invariant($"at {target.Entries:N0} entries (target <= 100 ns): ") +
                string.Join(", ", Enum.GetValues<Case>().Select(c => Invariant($"{c} {target.Median(c):0} ns"))));
        }

        static string Growth(double from, double to) => ((to / from) - 1).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture);
    }

    private static void Table(List<Row> rows, Func<Row, Func<Case, double>> statistic)
    {
        Console.WriteLine();
        Console.WriteLine("| np_policy entries | (a) new TCP flow, allowed by exact port, IPv4 | (a) same, IPv6 | (d) new TCP flow, endpoint not isolated: conntrack insert only | (b) default deny + event, consumer draining | (b) event, ring has room | (b) ring full, event lost | (c) established UDP, conntrack hit | floor: ARP, not policed |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var v = statistic(r);
            Console.WriteLine(Invariant($"| {r.Entries:N0} | {v(Case.Allowed):0} | {v(Case.Allowed6):0} | {v(Case.NotIsolated):0} | {v(Case.Denied):0} | {v(Case.DeniedRoom):0} | {v(Case.DeniedFull):0} | {v(Case.Established):0} | {v(Case.Floor):0} |"));
        }
    }

    /// <summary>Runs a packet <paramref name="repeat"/> times in one <c>BPF_PROG_TEST_RUN</c> call; returns the kernel's
    /// average per run and checks every verdict with the per-CPU counters.</summary>
    private static long Measure(BpfProgram program, byte[] packet, int repeat, Expect expect, BpfDatapath datapath, out Counters counters, Action? before = null)
    {
        program.TestRun(packet, Warmup); // warm caches and the branch predictor
        before?.Invoke();
        var start = datapath.ReadStatistics();
        var result = program.TestRun(packet, repeat);
        var end = datapath.ReadStatistics();
        if (result.ReturnValue != (expect == Expect.Drop ? 2 : -1))
        {
            throw new InvalidOperationException($"unexpected verdict {result.ReturnValue} (expected {(expect == Expect.Drop ? "drop, 2" : "pass, -1")})");
        }

        counters = new Counters(repeat, (long)(end.Allowed - start.Allowed), (long)(end.Dropped - start.Dropped), (long)(end.EventsLost - start.EventsLost), (long)(end.NonIP - start.NonIP));
        var counted = expect switch { Expect.Pass => counters.Allowed, Expect.Drop => counters.Dropped, _ => counters.NonIP };
        if (counted != counters.Runs)
        {
            throw new InvalidOperationException($"counters disagree: {counters}");
        }

        return result.DurationNanoseconds;
    }

    private static void FillRing(BpfProgram program, byte[] packet) => program.TestRun(packet, (RingBytes / (EventSize + 8)) + 1000);

    private static (int V4, int V6) WriteIPCache(BpfDatapath datapath, int total)
    {
        var v6 = total / 10;
        var v4 = total - v6;
        var keys = new BpfIPCacheHostKey[total];
        var values = new BpfIPCacheValue[total];
        for (var i = 0; i < v4; i++)
        {
            keys[i] = BpfIPCacheHostKey.FromIPAddress(PodIPv4(i));
            values[i] = new BpfIPCacheValue(Identity(i), BpfConstants.FirstAddressClass);
        }

        for (var i = 0; i < v6; i++)
        {
            keys[v4 + i] = BpfIPCacheHostKey.FromIPAddress(PodIPv6(i));
            values[v4 + i] = new BpfIPCacheValue(Identity(i), BpfConstants.FirstAddressClass);
        }

        datapath.GetMap(BpfConstants.IPCacheHostMapName).UpdateBatch<BpfIPCacheHostKey, BpfIPCacheValue>(keys, values);
        return (v4, v6);
    }

    private static void WriteEndpointAndRuleSet(BpfDatapath datapath)
    {
        var endpoint = new BpfEndpointValue(Identity(15_000), RuleSetId, 0,
            BpfConstants.EndpointPresent | BpfConstants.EndpointIngressIsolated | BpfConstants.EndpointEgressIsolated);
        datapath.GetMap(BpfConstants.EndpointsMapName).Update(EndpointId, endpoint);
        datapath.GetMap(BpfConstants.EndpointsMapName).Update(OpenEndpointId, new BpfEndpointValue(Identity(15_001), 0, 0, BpfConstants.EndpointPresent));
        var plen16 = 1u << 16;
        var ruleSet = new BpfRuleSetValue(BpfConstants.RuleSetPresent | BpfConstants.RuleSetRemoteIdentity | BpfConstants.RuleSetRemoteClass, plen16, plen16, 0);
        datapath.GetMap(BpfConstants.RuleSetsMapName).Update(RuleSetId, ruleSet);
    }

    /// <summary>Replaces the policy map's entries with exactly <paramref name="count"/> entries of rule set 1.</summary>
    private static BpfPolicyKey[] WritePolicy(BpfDatapath datapath, int count, BpfPolicyKey[] previous)
    {
        var map = datapath.GetMap(BpfConstants.PolicyMapName);
        map.DeleteBatch<BpfPolicyKey>(previous);
        var keys = new BpfPolicyKey[count];
        var values = new BpfPolicyValue[count];
        for (var k = 0; k < count; k++)
        {
            var (protocol, port) = s_ports[k % EntriesPerRemote];
            keys[k] = new BpfPolicyKey(RuleSetId, FirstIdentity + (uint)(k / EntriesPerRemote), port, protocol, 16, BpfConstants.DirectionIngress);
            values[k] = new BpfPolicyValue(1000 + (uint)k, BpfConstants.ActionAllow, 1, 0);
        }

        map.UpdateBatch<BpfPolicyKey, BpfPolicyValue>(keys, values);
        var present = map.GetKeys().Count();
        if (present != count)
        {
            throw new InvalidOperationException($"np_policy holds {present} entries, expected {count}");
        }

        return keys;
    }

    private static uint Identity(int pod) => FirstIdentity + (uint)(pod % IdentityCount);

    private static IPAddress PodIPv4(int pod)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (100u << 24) | ((64u << 16) + 256u + (uint)pod));
        return new IPAddress(bytes);
    }

    private static IPAddress PodIPv6(int pod)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes[0] = 0xfd;
        bytes[2] = 0x01; // fd00:100::/48
        BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], (uint)pod + 1);
        return new IPAddress(bytes);
    }

    internal static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    internal static string ReadProc(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "n/a";

    private static int Number(string value) => int.Parse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private enum Case
    {
        Allowed,
        Allowed6,
        NotIsolated,
        Denied,
        DeniedRoom,
        DeniedFull,
        Established,
        Floor,
    }

    private enum Expect
    {
        Pass,
        Drop,
        NonIP,
    }

    private sealed record Counters(long Runs, long Allowed, long Dropped, long EventsLost, long NonIP);

    private sealed class Row(int entries)
    {
        private readonly Dictionary<Case, List<long>> _samples = [];

        public int Entries { get; } = entries;

        public long DeniedRuns { get; set; }

        public long DeniedEvents { get; set; }

        public long DeniedLost { get; set; }

        public long RoomLost { get; set; }

        public int ConntrackEntries { get; set; }

        public void Add(Case @case, long nanoseconds)
        {
            if (!_samples.TryGetValue(@case, out var list))
            {
                _samples[@case] = list = [];
            }

            list.Add(nanoseconds);
        }

        public long Last(Case @case) => _samples[@case][^1];

        public double Median(Case @case)
        {
            var sorted = _samples[@case].Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2.0;
        }

        public double Min(Case @case) => _samples[@case].Min();
    }
}
