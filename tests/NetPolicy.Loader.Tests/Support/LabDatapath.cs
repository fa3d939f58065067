using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>A network-namespace lab with the BPF datapath attached to every pod's veth; disposing detaches, releases the
/// maps and deletes the lab.</summary>
internal sealed class LabDatapath : IAsyncDisposable
{
    public static readonly NetworkLabOptions LabOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };

    private readonly List<BpfEndpointAttachment> _attachments = [];

    private LabDatapath(NetworkLab lab, BpfDatapath datapath)
    {
        Lab = lab;
        Datapath = datapath;
    }

    public NetworkLab Lab { get; }

    public BpfDatapath Datapath { get; }

    public BpfMapImages Images => Datapath.Images!;

    /// <summary>Builds a lab of the snapshot's pods (or those <paramref name="pods"/> keeps), applies the snapshot's
    /// images and attaches every lab pod.</summary>
    public static async Task<LabDatapath> StartAsync(ClusterSnapshot snapshot, Func<string, bool>? pods = null, BpfDatapathOptions? options = null)
    {
        var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => pods?.Invoke(p.Key) ?? true).Select(p => new LabPod(p.Key, p.Addresses)), LabOptions);
        BpfDatapath? datapath = null;
        try
        {
            datapath = BpfDatapath.Create(options);
            var run = new LabDatapath(lab, datapath);
            run.Apply(snapshot);
            foreach (var pod in lab.Endpoints.Values)
            {
                run._attachments.Add(datapath.Attach(run.Images.EndpointIds[pod.Key], lab.Node, pod.HostInterfaceIndex));
            }

            return run;
        }
        catch
        {
            datapath?.Dispose();
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Compiles and renders a snapshot (endpoint ids kept) and applies it as a map delta.</summary>
    public BpfApplyResult Apply(ClusterSnapshot snapshot)
    {
        var policySet = new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
        var images = BpfMapRenderer.Render(policySet, new BpfRenderOptions { EndpointIds = Datapath.Images?.EndpointIds }).ThrowIfErrors();
        return Datapath.Apply(images);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _attachments.ForEach(a => a.Dispose());
            Datapath.Dispose();
        }
        finally
        {
            await Lab.DisposeAsync();
        }
    }
}
