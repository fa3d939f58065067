using System.Runtime.Versioning;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Model;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Cli;

/// <summary>Runs a matrix through a <see cref="PolicyLab"/>: every pod in a namespace of its own, a real backend
/// enforcing the policies, a server on the port in every pod, and real packets between them.</summary>
[SupportedOSPlatform("linux")]
internal static class LabMatrixEngine
{
    /// <summary>Runs the matrix with the BPF datapath.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="mode">The enforcement mode.</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static Task<ReachabilityMatrix> RunBpfAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, BpfEnforcementMode mode) =>
        RunAsync(snapshot, protocol, port, new PolicyLabOptions { Backend = LabBackend.Bpf, Bpf = new BpfDatapathOptions { Mode = mode } });

    /// <summary>Runs the matrix with the nftables backend applied in the lab's node namespace.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="strict">Whether established flows are re-checked (strict mode).</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static Task<ReachabilityMatrix> RunNftablesAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, bool strict) =>
        RunAsync(snapshot, protocol, port, new PolicyLabOptions
        {
            Backend = LabBackend.Nftables,
            Nftables = new NftablesRenderOptions { Mode = strict ? NftablesEnforcementMode.Strict : NftablesEnforcementMode.Conntrack },
        });

    /// <summary>Runs the matrix with the iptables + ipset backend applied in the lab's node namespace.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="strict">Whether established flows are re-checked (strict mode).</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static Task<ReachabilityMatrix> RunIptablesAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, bool strict) =>
        RunAsync(snapshot, protocol, port, new PolicyLabOptions
        {
            Backend = LabBackend.Iptables,
            Iptables = new IptablesRenderOptions { ConntrackMode = strict ? IptablesConntrackMode.Strict : IptablesConntrackMode.Conntrack },
        });

    private static async Task<ReachabilityMatrix> RunAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, PolicyLabOptions options)
    {
        // The tool keeps the lab's default probe timeout (1 s): a matrix on a loaded machine must not pass for denials.
        options.Lab = new NetworkLabOptions();
        await using var lab = await PolicyLab.StartAsync(snapshot, options).ConfigureAwait(false);
        return await lab.ProbeMatrixAsync(protocol, port).ConfigureAwait(false);
    }
}
