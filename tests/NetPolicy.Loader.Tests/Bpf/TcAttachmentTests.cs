using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Native;
using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Bpf;

[Collection(KernelCollectionDefinition.Name)]
public sealed class TcAttachmentTests
{
    [KernelFact]
    public void AttachTc_Tcx_AttachesInNamespaceAndDetaches()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        var toPod = obj.GetProgram(DatapathObject.ToPodProgram);
        var fromPod = obj.GetProgram(DatapathObject.FromPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);

        var (egress, ingress) = ns.Run(() => (
            toPod.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Tcx),
            fromPod.AttachTc(ifindex, TcDirection.Ingress, TcAttachMode.Tcx)));
        var attachedEgress = TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_EGRESS);
        var attachedIngress = TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_INGRESS);
        egress.Dispose();
        ingress.Dispose();
        egress.Dispose();

        Assert.Equal((TcAttachMode.Tcx, ifindex, TcDirection.Egress, toPod.Id), (egress.Mode, egress.InterfaceIndex, egress.Direction, egress.ProgramId));
        Assert.Equal([toPod.Id], attachedEgress);
        Assert.Equal([fromPod.Id], attachedIngress);
        Assert.Empty(TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_EGRESS));
        Assert.Empty(TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_INGRESS));
        Assert.False(egress.IsAttached);
    }

    [KernelFact]
    public void AttachTc_Auto_UsesTcxOnThisKernel()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);

        using var attachment = ns.Run(() => program.AttachTc(ifindex, TcDirection.Egress));

        Assert.Equal(Environment.OSVersion.Version >= TcAttachment.TcxMinimumKernelVersion ? TcAttachMode.Tcx : TcAttachMode.Clsact, attachment.Mode);
    }

    [KernelFact]
    public void AttachTc_TcxTwiceOnOneHook_KeepsBothUntilEachDetaches()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        var other = obj.GetProgram(DatapathObject.FromPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);

        using var first = ns.Run(() => program.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Tcx));
        var second = ns.Run(() => other.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Tcx));
        second.Dispose();

        Assert.Equal([program.Id], TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_EGRESS));
    }

    [KernelFact]
    public void AttachTc_UnknownInterface_ThrowsEnodev()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);

        var exception = Assert.Throws<KernelOperationException>(() => ns.Run(() => program.AttachTc(99999, TcDirection.Egress, TcAttachMode.Tcx)));

        Assert.Equal(Errno.ENODEV, exception.Errno);
        Assert.Equal("BPF_LINK_CREATE", exception.Operation);
        Assert.StartsWith("Attaching BPF program 'np_to_pod' to tcx egress of interface 99999 failed: BPF_LINK_CREATE returned ENODEV (No such device). There is no such network interface in the calling thread's network namespace;", exception.Message);
    }

    [KernelFact]
    public void AttachTc_NotLoaded_ThrowsInvalidOperation()
    {
        using var obj = TestDatapath.Open();

        Assert.Throws<InvalidOperationException>(() => obj.GetProgram(DatapathObject.ToPodProgram).AttachTc(1, TcDirection.Egress));
    }

    [KernelFact]
    public void AttachTc_Clsact_LeavesForeignFilterAndQdiscOnDetach()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        ns.Tc("qdisc", "add", "dev", TestNetworkNamespace.Host, "clsact");
        ns.Tc("filter", "add", "dev", TestNetworkNamespace.Host, "ingress", "protocol", "all", "prio", "1", "u32", "match", "u32", "0", "0");
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.FromPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);

        var attachment = ns.Run(() => program.AttachTc(ifindex, TcDirection.Ingress, TcAttachMode.Clsact));
        string attached = ns.Tc("filter", "show", "dev", TestNetworkNamespace.Host, "ingress");
        attachment.Dispose(); // from this thread, outside the namespace: it must enter the remembered one
        string detached = ns.Tc("filter", "show", "dev", TestNetworkNamespace.Host, "ingress");

        Assert.Equal(TcAttachMode.Clsact, attachment.Mode);
        Assert.NotEqual(0u, attachment.FilterHandle);
        Assert.NotEqual(0u, attachment.FilterPriority);
        Assert.Contains("np_from_pod", attached);
        Assert.Contains("u32", attached);
        Assert.DoesNotContain("np_from_pod", detached);
        Assert.Contains("u32", detached);
        Assert.Contains("clsact", ns.Tc("qdisc", "show", "dev", TestNetworkNamespace.Host));
    }

    [KernelFact]
    public void AttachTc_ClsactCreatedQdisc_RemovedWhenOurLastFilterDetaches()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        var toPod = obj.GetProgram(DatapathObject.ToPodProgram);
        var fromPod = obj.GetProgram(DatapathObject.FromPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);

        var (egress, ingress) = ns.Run(() => (
            toPod.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Clsact),
            fromPod.AttachTc(ifindex, TcDirection.Ingress, TcAttachMode.Clsact)));
        string bothAttached = ns.Tc("filter", "show", "dev", TestNetworkNamespace.Host, "egress");
        ns.Run(() =>
        {
            egress.Dispose();
            return true;
        });
        string qdiscAfterFirst = ns.Tc("qdisc", "show", "dev", TestNetworkNamespace.Host);
        string ingressAfterFirst = ns.Tc("filter", "show", "dev", TestNetworkNamespace.Host, "ingress");
        ingress.Dispose();
        ingress.Dispose();
        string qdiscAfterBoth = ns.Tc("qdisc", "show", "dev", TestNetworkNamespace.Host);

        Assert.Contains("np_to_pod", bothAttached);
        Assert.Contains("clsact", qdiscAfterFirst);
        Assert.Contains("np_from_pod", ingressAfterFirst);
        Assert.DoesNotContain("clsact", qdiscAfterBoth);
    }

    [KernelFact]
    public void AttachTc_ClsactFilterReplacedBySomeoneElse_IsLeftAlone()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var obj = TestDatapath.Load();
        using var other = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        var replacement = other.GetProgram(DatapathObject.ToPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);
        var attachment = ns.Run(() => program.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Clsact));
        using var bpffs = new TestBpfFileSystem();
        string pin = Path.Combine(bpffs.Path, "replacement");
        replacement.Pin(pin);
        ns.Tc("filter", "replace", "dev", TestNetworkNamespace.Host, "egress", "protocol", "all", "pref", attachment.FilterPriority.ToString(),
            "handle", $"0x{attachment.FilterHandle:x}", "bpf", "direct-action", "object-pinned", pin);

        attachment.Dispose();
        string filters = ns.Tc("filter", "show", "dev", TestNetworkNamespace.Host, "egress");
        replacement.Unpin();

        Assert.Contains($"id {replacement.Id}", filters);
    }

    [KernelFact]
    public void PinLink_OpenPinnedLink_DetachesAndRemovesPin()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var bpffs = new TestBpfFileSystem();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);
        string path = Path.Combine(bpffs.Path, "link");
        var attachment = ns.Run(() => program.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Tcx));

        attachment.PinLink(path);
        var reopened = TcAttachment.OpenPinnedLink(path);
        reopened.Dispose();
        var afterDetach = TcxPrograms(ns, ifindex, BpfSyscall.BPF_TCX_EGRESS);
        attachment.Dispose();

        Assert.Equal((TcAttachMode.Tcx, ifindex, TcDirection.Egress, program.Id, path), (reopened.Mode, reopened.InterfaceIndex, reopened.Direction, reopened.ProgramId, reopened.LinkPinPath is null ? path : reopened.LinkPinPath));
        Assert.Empty(afterDetach);
        Assert.False(File.Exists(path));
    }

    [KernelFact]
    public void PinLink_Clsact_ThrowsInvalidOperation()
    {
        using var ns = TestNetworkNamespace.CreateWithVeth();
        using var bpffs = new TestBpfFileSystem();
        using var obj = TestDatapath.Load();
        var program = obj.GetProgram(DatapathObject.ToPodProgram);
        int ifindex = ns.InterfaceIndex(TestNetworkNamespace.Host);
        using var attachment = ns.Run(() => program.AttachTc(ifindex, TcDirection.Egress, TcAttachMode.Clsact));

        Assert.Throws<InvalidOperationException>(() => attachment.PinLink(Path.Combine(bpffs.Path, "link")));
    }

    private static uint[] TcxPrograms(TestNetworkNamespace ns, int ifindex, uint attachType) => ns.Run(() =>
    {
        int result = BpfSyscall.TcxQuery(ifindex, attachType, out uint[] ids);
        Assert.True(result >= 0, $"BPF_PROG_QUERY failed: {Errno.Name(-result)}");
        return ids;
    });
}
