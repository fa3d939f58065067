using NetPolicy.Compiler;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Tests.Bpf;

public sealed class KernelErrorsTests
{
    [Fact]
    public void Create_Eperm_SaysWhichPrivilegesAreMissing()
    {
        var exception = KernelErrors.Create("bpf_object__load", "Loading BPF object 'policy_tc'", Errno.EPERM);

        Assert.Equal(
            "Loading BPF object 'policy_tc' failed: bpf_object__load returned EPERM (Operation not permitted). This needs root, or CAP_BPF + CAP_NET_ADMIN (+ CAP_SYS_ADMIN to mount bpffs and enter network namespaces); run the node agent as root or grant it those capabilities.",
            exception.Message);
        Assert.Equal("bpf_object__load", exception.Operation);
        Assert.Equal(Errno.EPERM, exception.Errno);
        Assert.IsAssignableFrom<NetPolicyException>(exception);
    }

    [Fact]
    public void Create_Eacces_ReadsLikeEperm()
    {
        var exception = KernelErrors.Create("bpf_obj_get", "Opening the BPF map pinned at '/sys/fs/bpf/x'", Errno.EACCES);

        Assert.EndsWith(KernelErrors.PrivilegeAdvice, exception.Message);
    }

    [Fact]
    public void Create_Einval_SaysTheKernelCannotDoIt()
    {
        var exception = KernelErrors.Create("BPF_LINK_CREATE", "Attaching BPF program 'np_to_pod' to tcx egress of interface 7", Errno.EINVAL);

        Assert.Equal(
            "Attaching BPF program 'np_to_pod' to tcx egress of interface 7 failed: BPF_LINK_CREATE returned EINVAL (Invalid argument). The kernel rejected the request as invalid: this kernel cannot do it (too old, or built without the feature), or the arguments do not match the object; compare `uname -r` with the kernel requirements of NetPolicy.Loader.",
            exception.Message);
    }

    [Fact]
    public void Create_EpermAndEinval_ReadDifferently()
    {
        string eperm = KernelErrors.Create("op", "Doing it", Errno.EPERM).Message;
        string einval = KernelErrors.Create("op", "Doing it", Errno.EINVAL).Message;

        Assert.Contains("CAP_BPF", eperm);
        Assert.DoesNotContain("CAP_BPF", einval);
        Assert.Contains("this kernel cannot do it", einval);
        Assert.DoesNotContain("this kernel cannot do it", eperm);
    }

    [Theory]
    [InlineData(Errno.ENOENT, "ENOENT (No such file or directory). The object does not exist")]
    [InlineData(Errno.E2BIG, "E2BIG (Argument list too long). The map is full")]
    [InlineData(Errno.ENODEV, "ENODEV (No such device). There is no such network interface in the calling thread's network namespace")]
    [InlineData(Errno.ENOTSUPP, "ENOTSUPP (Operation not supported by the kernel). This kernel does not support the operation")]
    [InlineData(4001, "libbpf error 4001 (BPF object format invalid). libbpf could not process the object")]
    [InlineData(999, "errno 999 (Unknown error 999). Check the kernel log (dmesg)")]
    public void Create_Errno_NamesItAndAdvises(int errno, string expected)
    {
        var exception = KernelErrors.Create("op", "Doing it", errno);

        Assert.Contains($"Doing it failed: op returned {expected}", exception.Message);
    }

    [Fact]
    public void Create_WithLibBpfDetails_AppendsThem()
    {
        var exception = KernelErrors.Create("bpf_object__load", "Loading", Errno.EINVAL, "libbpf: map 'x': failed to create\n");

        Assert.EndsWith($"(Invalid argument). {KernelErrors.InvalidAdvice}{Environment.NewLine}libbpf: map 'x': failed to create", exception.Message);
    }

    [Fact]
    public void Verifier_QuotesLastLinesAndKeepsTheLog()
    {
        string log = "0: R1=ctx() R10=fp0\n0: (61) r1 = *(u32 *)(r1 +76)\n1: (61) r0 = *(u32 *)(r1 +0)\ninvalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)\nR1 offset is outside of the packet\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

        var exception = KernelErrors.Verifier("bad", "bad_packet_read", Errno.EACCES, log);

        Assert.Equal(
            "The kernel verifier rejected BPF program 'bad_packet_read' of object 'bad' (EACCES, Permission denied): 1: (61) r0 = *(u32 *)(r1 +0) | invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0) | R1 offset is outside of the packet. The program does not pass this kernel's verifier; the full log is in VerifierLog. Rebuild the object for this kernel, or report the log with `uname -r`.",
            exception.Message);
        Assert.Equal(log, exception.VerifierLog);
        Assert.Equal("bad_packet_read", exception.ProgramName);
        Assert.Equal("BPF_PROG_LOAD", exception.Operation);
        Assert.IsAssignableFrom<KernelOperationException>(exception);
    }

    [Fact]
    public void FeatureMissing_CarriesFeatureAndVersion()
    {
        var exception = KernelErrors.FeatureMissing("BPF_LINK_CREATE", "Attaching", Errno.EINVAL, "tcx", new Version(6, 6), "use TcAttachMode.Clsact.");

        Assert.Equal("tcx", exception.Feature);
        Assert.Equal(new Version(6, 6), exception.MinimumKernelVersion);
        Assert.Contains("does not support tcx, which needs Linux 6.6+; use TcAttachMode.Clsact.", exception.Message);
        Assert.IsAssignableFrom<KernelOperationException>(exception);
    }

    [Fact]
    public void PolicyCompilationException_IsNetPolicyException()
    {
        Assert.True(typeof(NetPolicyException).IsAssignableFrom(typeof(PolicyCompilationException)));
        Assert.True(typeof(NetPolicyException).IsAbstract);
    }
}
