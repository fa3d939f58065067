using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>A <see cref="PolicyLab"/> with the BPF datapath attached to every pod's veth, with the datapath's members at
/// hand; disposing detaches, releases the maps and deletes the lab.</summary>
internal sealed class LabDatapath : IAsyncDisposable
{
    public static readonly NetworkLabOptions LabOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    private readonly PolicyLab _run;

    private LabDatapath(PolicyLab run) => _run = run;

    public NetworkLab Lab => _run.Lab;

    public BpfDatapath Datapath => _run.Datapath!;

    public BpfMapImages Images => Datapath.Images!;

    /// <summary>Builds a lab of the snapshot's pods (or those <paramref name="pods"/> keeps), applies the snapshot's
    /// images and attaches every lab pod.</summary>
    public static async Task<LabDatapath> StartAsync(ClusterSnapshot snapshot, Func<string, bool>? pods = null, BpfDatapathOptions? options = null) =>
        new(await PolicyLab.StartAsync(snapshot, new PolicyLabOptions { Backend = LabBackend.Bpf, Pods = pods, Bpf = options, Lab = LabOptions }));

    /// <summary>Compiles and renders a snapshot (endpoint ids kept) and applies it as a map delta.</summary>
    public BpfApplyResult Apply(ClusterSnapshot snapshot) => _run.Apply(snapshot).Bpf!;

    public ValueTask DisposeAsync() => _run.DisposeAsync();
}
