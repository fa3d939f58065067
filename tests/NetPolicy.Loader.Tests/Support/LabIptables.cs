using NetPolicy.Compiler;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Loader.Iptables;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>A network-namespace lab (no BPF datapath) with iptables and ipset rules applied in its node namespace, which
/// routes between the pods so FORWARD sees pod-to-pod traffic; disposing removes the rules and deletes the lab.</summary>
internal sealed class LabIptables : IAsyncDisposable
{
    private LabIptables(NetworkLab lab, IptablesRenderOptions? options)
    {
        Lab = lab;
        Options = options;
        Applier = new IptablesApplier(lab.Node);
    }

    public NetworkLab Lab { get; }

    public IptablesApplier Applier { get; }

    public IptablesRenderOptions? Options { get; }

    /// <summary>Builds a lab of the snapshot's pods (or those <paramref name="pods"/> keeps) and applies the snapshot's rules.</summary>
    public static async Task<LabIptables> StartAsync(ClusterSnapshot snapshot, Func<string, bool>? pods = null, IptablesRenderOptions? options = null)
    {
        var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => pods?.Invoke(p.Key) ?? true).Select(p => new LabPod(p.Key, p.Addresses)), LabDatapath.LabOptions);
        try
        {
            var run = new LabIptables(lab, options);
            run.Apply(snapshot);
            return run;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Compiles, renders and applies a snapshot; returns the applied files.</summary>
    public IptablesRuleset Apply(ClusterSnapshot snapshot)
    {
        var ruleset = IptablesRenderer.Render(new PolicyCompiler().Compile(snapshot).ThrowIfErrors(), Options);
        Applier.Apply(ruleset);
        return ruleset;
    }

    public async ValueTask DisposeAsync() => await Lab.DisposeAsync();
}
