using System.Collections.Immutable;
using System.Runtime.InteropServices;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class BpfProgramTests
{
    private const int TcActUnspec = -1;
    private const int TcActShot = 2;
    private const uint StatDropped = 1;
    private const uint StatNonIP = 3;
    private const byte TcpSyn = 0x02;

    [KernelFact]
    public void TestRun_ArpFrame_PassesAsNonIP()
    {
        using var obj = TestDatapath.Load();
        var stats = obj.GetMap("np_stats");

        var result = obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Arp());

        Assert.Equal(TcActUnspec, result.ReturnValue);
        Assert.Equal(Packets.Arp(), result.Data.ToArray());
        Assert.Equal(1UL, Sum(stats, StatNonIP));
        Assert.Equal(0UL, Sum(stats, StatDropped));
    }

    [KernelFact]
    public void TestRun_TcpSynToUnprogrammedEndpoint_DropsAndEmitsEvent()
    {
        using var obj = TestDatapath.Load(endpoint: 7);
        var events = new List<BpfEvent>();
        using var reader = new RingBufferReader(obj.GetMap("np_events"), record => events.Add(BpfEvent.ReadFrom(record)));

        var result = obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Tcp(40000, 80, TcpSyn));
        int consumed = reader.Consume();

        Assert.Equal(TcActShot, result.ReturnValue);
        Assert.Equal(1, consumed);
        var e = Assert.Single(events);
        Assert.Equal(7u, e.Endpoint);
        Assert.Equal(0xFFFFFFFEu, e.RuleId);          // NP_RULE_NOT_PROGRAMMED
        Assert.Equal((ushort)17, e.Reason);           // NP_REASON_NOT_PROGRAMMED
        Assert.Equal((byte)1, e.Verdict);             // NP_VERDICT_DROP
        Assert.Equal((byte)0, e.Direction);           // NP_DIR_INGRESS: np_to_pod polices the pod's ingress
        Assert.Equal((byte)4, e.Family);
        Assert.Equal((byte)6, e.Protocol);
        Assert.Equal((ushort)40000, e.SourcePort);
        Assert.Equal((ushort)80, e.DestinationPort);
        Assert.Equal((0u, 0u, 0u), (e.LocalIdentity, e.RemoteIdentity, e.RemoteClass));
        Assert.NotEqual(0UL, e.TimestampNanoseconds);
        Assert.Equal(Packets.Mapped(Packets.Source), Address(e, source: true));
        Assert.Equal(Packets.Mapped(Packets.Destination), Address(e, source: false));
        Assert.Equal(1UL, Sum(obj.GetMap("np_stats"), StatDropped));
    }

    [KernelFact]
    public void TestRun_TcpSynFromProgrammedOpenEndpoint_PassesAndRecordsFlow()
    {
        using var obj = TestDatapath.Open(endpoint: 3);
        obj.SetReadOnlyData(new BpfConfig(endpoint: 3, mode: 0, flags: 1, abi: 1)); // NP_CFG_EMIT_ALLOW
        obj.Load();
        obj.GetMap("np_endpoints").Update(3u, new BpfEndpointValue(identity: 100, ingressRuleSet: 0, egressRuleSet: 0, flags: 1)); // NP_EP_PRESENT
        // Anti-spoofing: the packet's source address must be the endpoint's (np_ipcache_host, IPv4-mapped).
        byte[] source = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, .. Packets.Source];
        obj.GetMap("np_ipcache_host").Update(source, MemoryMarshal.AsBytes(new[] { new BpfIPCacheValue(identity: 100, addressClass: 1u << 24) }.AsSpan()));
        var events = new List<BpfEvent>();
        using var reader = new RingBufferReader(obj.GetMap("np_events"), record => events.Add(BpfEvent.ReadFrom(record)));

        var result = obj.GetProgram(DatapathObject.FromPodProgram).TestRun(Packets.Tcp(40000, 443, TcpSyn));
        reader.Poll(TimeSpan.FromSeconds(1));

        Assert.Equal(TcActUnspec, result.ReturnValue);
        var e = Assert.Single(events);
        Assert.Equal((byte)0, e.Verdict);          // NP_VERDICT_ALLOW
        Assert.Equal((ushort)1, e.Reason);         // NP_REASON_NOT_ISOLATED
        Assert.Equal((byte)1, e.Direction);        // NP_DIR_EGRESS
        Assert.Equal(100u, e.LocalIdentity);
        Assert.Single(obj.GetMap("np_conntrack").GetKeys());
    }

    [KernelFact]
    public void TestRun_Repeat_ReportsPerRunDuration()
    {
        using var obj = TestDatapath.Load();

        var result = obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Arp(), repeat: 100);

        Assert.Equal(TcActUnspec, result.ReturnValue);
        Assert.InRange(result.DurationNanoseconds, 0, 1_000_000);
        Assert.Equal(100UL, Sum(obj.GetMap("np_stats"), StatNonIP));
    }

    [KernelFact]
    public void TestRun_PacketShorterThanEthernetHeader_ThrowsEinval()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<KernelOperationException>(() => obj.GetProgram(DatapathObject.ToPodProgram).TestRun(new byte[4]));

        Assert.Equal(Errno.EINVAL, exception.Errno);
        Assert.StartsWith("Test-running BPF program 'np_to_pod' on a 4-byte packet failed: bpf_prog_test_run_opts returned EINVAL", exception.Message);
    }

    [KernelFact]
    public void TestRun_NotLoaded_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Open();

        Assert.Throws<InvalidOperationException>(() => obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Arp()));
        Assert.Throws<ArgumentOutOfRangeException>(() => obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Arp(), repeat: 0));
    }

    [KernelFact]
    public void RingBufferReader_CallbackThrows_PollRethrowsAndKeepsLaterRecords()
    {
        using var obj = TestDatapath.Load();
        int calls = 0;
        using var reader = new RingBufferReader(obj.GetMap("np_events"), _ =>
        {
            if (calls++ == 0)
            {
                throw new InvalidOperationException("boom");
            }
        });
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        program.TestRun(Packets.Tcp(1000, 80, TcpSyn));
        program.TestRun(Packets.Tcp(1001, 80, TcpSyn));

        var exception = Assert.Throws<InvalidOperationException>(() => reader.Poll(TimeSpan.Zero));
        int rest = reader.Consume();

        Assert.Equal("boom", exception.Message);
        Assert.Equal(1, rest);
        Assert.Equal(2, calls);
    }

    [KernelFact]
    public void RingBufferReader_Empty_PollTimesOutWithZero()
    {
        using var obj = TestDatapath.Load();
        using var reader = new RingBufferReader(obj.GetMap("np_events"), _ => Assert.Fail("no record expected"));

        Assert.Equal(0, reader.Poll(TimeSpan.FromMilliseconds(20)));
        Assert.Equal(0, reader.Consume());
    }

    [KernelFact]
    public void RingBufferReader_NotARingBuffer_ThrowsArgumentException()
    {
        using var obj = TestDatapath.Load();

        var exception = Assert.Throws<ArgumentException>(() => new RingBufferReader(obj.GetMap("np_policy"), _ => { }));

        Assert.Equal("BPF map 'np_policy' is a Hash map, not a ring buffer. (Parameter 'map')", exception.Message);
    }

    [KernelFact]
    public void RingBufferReader_Disposed_ThrowsObjectDisposedAndKeepsObjectUsable()
    {
        using var obj = TestDatapath.Load();
        var reader = new RingBufferReader(obj.GetMap("np_events"), _ => { });

        reader.Dispose();
        reader.Dispose();

        Assert.Throws<ObjectDisposedException>(() => reader.Consume());
        Assert.True(obj.GetMap("np_events").IsCreated);
    }

    [KernelFact]
    public void RingBufferReader_OutlivesItsObject_StillReads()
    {
        var obj = TestDatapath.Load();
        int records = 0;
        using var reader = new RingBufferReader(obj.GetMap("np_events"), _ => records++);
        obj.GetProgram(DatapathObject.ToPodProgram).TestRun(Packets.Tcp(1000, 80, TcpSyn));

        obj.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.Equal(1, reader.Consume());
        Assert.Equal(1, records);
    }

    [KernelFact]
    public void Pin_ThenUnpin_InOwnBpfFileSystem()
    {
        using var bpffs = new TestBpfFileSystem();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        string path = Path.Combine(bpffs.Path, "np_to_pod");

        program.Pin(path);
        bool pinned = File.Exists(path);
        program.Unpin();

        Assert.True(pinned);
        Assert.False(File.Exists(path));
        Assert.Null(program.PinPath);
    }

    private static ulong Sum(BpfMap stats, uint index) =>
        stats.TryLookupPerCpu(index, out ImmutableArray<ulong> values) ? values.Aggregate(0UL, (a, v) => a + v) : 0;

    private static byte[] Address(BpfEvent e, bool source)
    {
        var address = source ? e.SourceAddress : e.DestinationAddress;
        ReadOnlySpan<byte> bytes = address;
        return bytes.ToArray();
    }
}
