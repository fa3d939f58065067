using System.Runtime.Versioning;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;
using NetPolicy.Loader;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Cli;

/// <summary>Runs a matrix through a network-namespace lab with a real datapath attached: every pod in a namespace of
/// its own, a server on the port in every pod, and real packets between them.</summary>
[SupportedOSPlatform("linux")]
internal static class LabMatrixEngine
{
    /// <summary>Runs the matrix with the BPF datapath.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="mode">The enforcement mode.</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static async Task<ReachabilityMatrix> RunBpfAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, BpfEnforcementMode mode)
    {
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var images = BpfMapRenderer.Render(policySet).ThrowIfErrors();
        var pods = snapshot.Pods.Values.ToList();
        var keys = pods.Select(p => p.Key).ToList();
        await using var lab = await NetworkLab.CreateAsync(pods.Select(p => new LabPod(p.Key, p.Addresses))).ConfigureAwait(false);
        using var datapath = BpfDatapath.Create(new BpfDatapathOptions { Mode = mode });
        datapath.Apply(images);
        var attachments = new List<BpfEndpointAttachment>();
        try
        {
            foreach (var pod in pods)
            {
                attachments.Add(datapath.Attach(images.EndpointIds[pod.Key], lab.Node, lab.Endpoints[pod.Key].HostInterfaceIndex));
            }

            var rows = await lab.ProbeMatrixAsync(keys, ToLab(protocol), port).ConfigureAwait(false);
            return new ReachabilityMatrix(protocol, port, [.. keys], rows);
        }
        finally
        {
            foreach (var attachment in attachments)
            {
                attachment.Dispose();
            }
        }
    }

    /// <summary>Runs the matrix with the nftables backend applied in the lab's node namespace.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="strict">Whether established flows are re-checked (strict mode).</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static Task<ReachabilityMatrix> RunNftablesAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, bool strict) =>
        RunNetfilterAsync(snapshot, protocol, port, (policySet, lab) =>
        {
            var mode = strict ? NetPolicy.Compiler.Nftables.NftablesEnforcementMode.Strict : NetPolicy.Compiler.Nftables.NftablesEnforcementMode.Conntrack;
            new NetPolicy.Loader.Nftables.NftablesApplier(lab.Node).Apply(
                NetPolicy.Compiler.Nftables.NftablesRenderer.Render(policySet, new NetPolicy.Compiler.Nftables.NftablesRenderOptions { Mode = mode }));
        });

    /// <summary>Runs the matrix with the iptables + ipset backend applied in the lab's node namespace.</summary>
    /// <param name="snapshot">The cluster.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="port">The port.</param>
    /// <param name="strict">Whether established flows are re-checked (strict mode).</param>
    /// <returns>The matrix, in snapshot pod order like the reference engine's.</returns>
    public static Task<ReachabilityMatrix> RunIptablesAsync(ClusterSnapshot snapshot, TransportProtocol protocol, int port, bool strict) =>
        RunNetfilterAsync(snapshot, protocol, port, (policySet, lab) =>
        {
            var mode = strict ? NetPolicy.Compiler.Iptables.IptablesConntrackMode.Strict : NetPolicy.Compiler.Iptables.IptablesConntrackMode.Conntrack;
            new NetPolicy.Loader.Iptables.IptablesApplier(lab.Node).Apply(
                NetPolicy.Compiler.Iptables.IptablesRenderer.Render(policySet, new NetPolicy.Compiler.Iptables.IptablesRenderOptions { ConntrackMode = mode }));
        });

    // The netfilter backends need no attachment: their rules, applied in the node namespace, see every routed packet.
    private static async Task<ReachabilityMatrix> RunNetfilterAsync(
        ClusterSnapshot snapshot, TransportProtocol protocol, int port, Action<NetPolicy.Compiler.Ir.CompiledPolicySet, NetworkLab> apply)
    {
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var pods = snapshot.Pods.Values.ToList();
        var keys = pods.Select(p => p.Key).ToList();
        await using var lab = await NetworkLab.CreateAsync(pods.Select(p => new LabPod(p.Key, p.Addresses))).ConfigureAwait(false);
        apply(policySet, lab);
        var rows = await lab.ProbeMatrixAsync(keys, ToLab(protocol), port).ConfigureAwait(false);
        return new ReachabilityMatrix(protocol, port, [.. keys], rows);
    }

    private static LabProtocol ToLab(TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => LabProtocol.Tcp,
        TransportProtocol.Udp => LabProtocol.Udp,
        _ => LabProtocol.Sctp,
    };
}
