namespace NetPolicy.Loader.Bpf;

/// <summary>The NetPolicy datapath object embedded in this assembly (bpf-templates/out/policy_tc.bpf.o).</summary>
/// <remarks>
/// The object holds two SEC("tc") programs, <c>np_from_pod</c> (tc ingress of the host-side veth: the pod's egress
/// policy) and <c>np_to_pod</c> (tc egress of the host-side veth: the pod's ingress policy), the maps of
/// bpf-templates/include/netpolicy_maps.h, and a 16-byte <c>.rodata</c> (<c>struct np_config</c>) set per endpoint
/// with <see cref="BpfObject.SetReadOnlyData{T}(in T)"/>.
/// </remarks>
public static class DatapathObject
{
    /// <summary>The object name libbpf uses for the datapath (prefix of its internal map names).</summary>
    public const string Name = "policy_tc";

    /// <summary>The program attached to tc ingress of the host-side veth (packets the pod sends).</summary>
    public const string FromPodProgram = "np_from_pod";

    /// <summary>The program attached to tc egress of the host-side veth (packets the pod receives).</summary>
    public const string ToPodProgram = "np_to_pod";

    private const string ResourcePrefix = "NetPolicy.Loader.Datapath.";

    private static readonly Lazy<byte[]> s_elf = new(() => ReadResource(Name + ".bpf.o"));
    private static readonly Lazy<string> s_buildInfo = new(() => System.Text.Encoding.UTF8.GetString(ReadResource(Name + ".bpf.o.info")));

    /// <summary>Gets the ELF bytes of the datapath object.</summary>
    public static ReadOnlyMemory<byte> Elf => s_elf.Value;

    /// <summary>Gets the build record of the object: its source and object SHA-256 and the clang that built it.</summary>
    public static string BuildInfo => s_buildInfo.Value;

    private static byte[] ReadResource(string name)
    {
        using var stream = typeof(DatapathObject).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The embedded resource '{ResourcePrefix}{name}' is missing from NetPolicy.Loader; rebuild the package with bpf-templates/out present.");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
