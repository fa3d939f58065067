using NetPolicy.Compiler;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Loader.Iptables;
using NetPolicy.Loader.Lab;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>A <see cref="PolicyLab"/> (no BPF datapath) with iptables and ipset rules applied in its node namespace, which
/// routes between the pods so FORWARD sees pod-to-pod traffic; disposing removes the rules and deletes the lab.</summary>
internal sealed class LabIptables : IAsyncDisposable
{
    private readonly PolicyLab _run;

    private LabIptables(PolicyLab run, IptablesRenderOptions? options)
    {
        _run = run;
        Options = options;
    }

    public NetworkLab Lab => _run.Lab;

    public IptablesApplier Applier => _run.IptablesApplier!;

    public IptablesRenderOptions? Options { get; }

    /// <summary>Builds a lab of the snapshot's pods (or those <paramref name="pods"/> keeps) and applies the snapshot's rules.</summary>
    public static async Task<LabIptables> StartAsync(ClusterSnapshot snapshot, Func<string, bool>? pods = null, IptablesRenderOptions? options = null) =>
        new(await PolicyLab.StartAsync(snapshot, new PolicyLabOptions { Backend = LabBackend.Iptables, Pods = pods, Iptables = options, Lab = LabDatapath.LabOptions }), options);

    /// <summary>Compiles, renders and applies a snapshot; returns the applied files.</summary>
    public IptablesRuleset Apply(ClusterSnapshot snapshot) => _run.Apply(snapshot).Iptables!;

    public ValueTask DisposeAsync() => _run.DisposeAsync();
}
