using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Tests.E2e;
using NetPolicy.Compiler.Tests.Support;
using NetPolicy.Loader.Lab;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>Kernel tests both netfilter backends share (the derived classes pick the engine): real packets in a lab for
/// fail closed / fail open on an unprogrammed pod, the host-address exemption for probes from the node, egress named
/// ports, and incremental applies whose matrix equals the reference evaluator's and whose kernel state equals a fresh
/// full apply of the same ruleset.</summary>
public abstract class NetfilterNodeTests
{
    private static readonly NetworkLabOptions s_labOptions = new() { ProbeTimeout = TimeSpan.FromMilliseconds(700) };
    private static readonly IPAddress s_unprogrammed = IPAddress.Parse("198.18.20.10");

    private protected NetfilterNodeTests(NetfilterEngine engine)
    {
        Engine = engine;
    }

    private protected NetfilterEngine Engine { get; }

    [KernelFact]
    public async Task UnprogrammedPod_FailsClosed_AndPassesWithFailOpen()
    {
        var snapshot = NetpolModel.IPv4.Snapshot();
        var pods = snapshot.Pods.Values.Where(p => p.Key is "x/a" or "x/b").Select(p => new LabPod(p.Key, p.Addresses)).Append(new LabPod("new/pod", [s_unprogrammed]));
        await using var lab = await NetworkLab.CreateAsync(pods, s_labOptions);
        var backend = new NetfilterBackend(Engine, lab.Node);
        var policySet = Compile(snapshot);
        var closed = new NetfilterNodeOptions([.. NetfilterScenarios.PodCidrs], [], FailOpen: false);

        Assert.Equal(NetfilterApplyMode.Full, backend.Apply(policySet, closed));

        Assert.True(await lab.ProbeAsync("x/a", NetpolModel.IPv4Of("x/b"), LabProtocol.Tcp, 80), "programmed pods without policy must talk");
        Assert.False(await lab.ProbeAsync("x/a", s_unprogrammed, LabProtocol.Tcp, 80), "traffic to an unprogrammed pod must fail closed");
        Assert.False(await lab.ProbeAsync("new/pod", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80), "traffic from an unprogrammed pod must fail closed");

        Assert.Equal(NetfilterApplyMode.Incremental, backend.Apply(policySet, closed with { FailOpen = true }));

        Assert.True(await lab.ProbeAsync("x/a", s_unprogrammed, LabProtocol.Tcp, 80), "FailOpen lets traffic to an unprogrammed pod pass");
        Assert.True(await lab.ProbeAsync("new/pod", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80), "FailOpen lets traffic from an unprogrammed pod pass");
    }

    [KernelFact]
    public async Task ProbeFromNode_DefaultDeny_PassesOnlyFromHostAddresses()
    {
        var snapshot = NetpolModel.DualStack.Snapshot(Netpol.Policy("x", "deny-ingress").Ingress());
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Where(p => p.Key is "x/a" or "y/a").Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        var backend = new NetfilterBackend(Engine, lab.Node);
        var policySet = Compile(snapshot);

        backend.Apply(policySet, NetfilterNodeOptions.None);

        Assert.False(await lab.ProbeFromNodeAsync(NetpolModel.IPv4Of("x/a"), 80), "without host addresses the node is policed like any source");
        Assert.False(await lab.ProbeFromNodeAsync(NetpolModel.IPv6Of("x/a"), 80), "without host addresses the node is policed like any source (IPv6)");
        Assert.True(await lab.ProbeFromNodeAsync(NetpolModel.IPv4Of("y/a"), 80), "a pod without ingress isolation takes the probe");

        backend.Apply(policySet, new NetfilterNodeOptions([], [NetworkLab.GatewayIPv4, NetworkLab.GatewayIPv6], false));

        Assert.True(await lab.ProbeFromNodeAsync(NetpolModel.IPv4Of("x/a"), 80), "a probe from a host address passes the default deny");
        Assert.True(await lab.ProbeFromNodeAsync(NetpolModel.IPv6Of("x/a"), 80), "a probe from a host address passes the default deny (IPv6)");
        Assert.False(await lab.ProbeAsync("y/a", NetpolModel.IPv4Of("x/a"), LabProtocol.Tcp, 80), "pods are still denied");
    }

    [KernelFact]
    public async Task ProbeMatrix_EgressNamedPortWithPortPerPod_EqualsReferenceMatrix()
    {
        var snapshot = NetfilterScenarios.NamedPortEgress();
        var ruleset = NetfilterBackend.Render(Engine, Compile(snapshot), NetfilterNodeOptions.None);
        Assert.Contains(Engine == NetfilterEngine.Iptables ? "hash:ip,port" : "inet_proto . inet_service", NetfilterBackend.TextOf(ruleset), StringComparison.Ordinal);
        await using var lab = await NetworkLab.CreateAsync(snapshot.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        new NetfilterBackend(Engine, lab.Node).Apply(ruleset);

        var failures = await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Tcp, 80, "named port web, TCP 80");
        failures.AddRange(await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Tcp, 81, "named port web, TCP 81"));

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(await lab.ProbeAsync("x/a", NetpolModel.IPv4Of("y/b"), LabProtocol.Tcp, 81));
        Assert.False(await lab.ProbeAsync("x/a", NetpolModel.IPv4Of("y/b"), LabProtocol.Tcp, 80));
    }

    [KernelFact]
    public async Task ApplyIncrementally_ScenarioSequence_MatrixEqualsReferenceAndStateEqualsFreshApply()
    {
        // The most common pod set of the ported e2e scenarios, every fourth scenario in turn, then the named-port one and
        // back; each compile keeps the previous numbering, as a node agent's would.
        static string PodSet(ClusterSnapshot s) => string.Join(";", s.Pods.Values.Select(p => p.Key + "=" + string.Join(',', p.Addresses)));
        var common = E2eScenarios.All.GroupBy(s => PodSet(s.Snapshot)).MaxBy(g => g.Count())!.ToList();
        var sequence = common.Where((_, i) => i % 4 == 1).Take(6).ToList();
        var named = NetfilterScenarios.NamedPortEgress(NetpolModel.IPv4.Addresses);
        if (PodSet(named) == PodSet(sequence[0].Snapshot))
        {
            sequence.Insert(3, ("named port", named));
        }

        var node = new NetfilterNodeOptions([.. NetfilterScenarios.PodCidrs], [NetworkLab.GatewayIPv4], false);
        await using var lab = await NetworkLab.CreateAsync(sequence[0].Snapshot.Pods.Values.Select(p => new LabPod(p.Key, p.Addresses)), s_labOptions);
        using var fresh = NetworkNamespace.Create("npfresh" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var backend = new NetfilterBackend(Engine, lab.Node);
        var failures = new List<string>();
        CompiledPolicySet? previous = null;
        var modes = new List<NetfilterApplyMode>();
        foreach (var (name, snapshot) in sequence)
        {
            var policySet = new PolicyCompiler().Compile(snapshot, previous).ThrowIfErrors();
            previous = policySet;
            var ruleset = NetfilterBackend.Render(Engine, policySet, node);
            modes.Add(backend.Apply(ruleset));
            failures.AddRange(await LabMatrix.CompareAsync(lab, snapshot, LabProtocol.Tcp, 80, name));

            var reference = new NetfilterBackend(Engine, fresh);
            reference.Apply(ruleset);
            var expected = reference.Listing();
            var actual = backend.Listing();
            if (expected != actual)
            {
                failures.Add($"{name}: the state after the incremental apply differs from a fresh full apply:\n--- fresh\n{expected}\n--- incremental\n{actual}");
            }

            RemoveAll(Engine, fresh);
        }

        Assert.Equal(NetfilterApplyMode.Full, modes[0]);
        Assert.True(modes.Skip(1).All(m => m == NetfilterApplyMode.Incremental), string.Join(", ", modes));
        Assert.True(sequence.Count >= 6, $"only {sequence.Count} scenarios");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    [KernelFact]
    public void ApplyIncrementally_RandomClusters_StateEqualsFreshFullApply()
    {
        // Unrelated random clusters one after the other: every delta is large (sets, chains and maps come and go), and
        // after each the kernel must hold exactly what a fresh full apply of the same ruleset gives.
        using var incremental = NetworkNamespace.Create("npinc" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        using var fresh = NetworkNamespace.Create("npfresh" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var backend = new NetfilterBackend(Engine, incremental);
        var node = new NetfilterNodeOptions([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/8")], [IPAddress.Parse("10.255.255.254")], false);
        var failures = new List<string>();
        var modes = new List<NetfilterApplyMode>();
        for (var seed = 1; seed <= 8; seed++)
        {
            var ruleset = NetfilterBackend.Render(Engine, Compile(RandomCluster.Create(seed)), seed % 3 == 0 ? node with { FailOpen = true } : node);
            modes.Add(backend.Apply(ruleset));
            var reference = new NetfilterBackend(Engine, fresh);
            reference.Apply(ruleset);
            if (reference.Listing() is var expected && backend.Listing() is var actual && expected != actual)
            {
                failures.Add($"seed {seed}: the state after the incremental apply differs from a fresh full apply:\n--- fresh\n{expected}\n--- incremental\n{actual}");
            }

            RemoveAll(Engine, fresh);
        }

        // Two seeds may render the same ruleset (Unchanged); no delta may have been refused (Full).
        Assert.True(modes.Skip(1).All(m => m != NetfilterApplyMode.Full) && modes.Count(m => m == NetfilterApplyMode.Incremental) >= 5, string.Join(", ", modes));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(2)));
    }

    [KernelFact]
    public void Apply_DeltaRefusedBecauseStateChangedUnderneath_FallsBackToFullApply()
    {
        using var ns = NetworkNamespace.Create("npinc" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        var backend = new NetfilterBackend(Engine, ns);
        var a = Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress()));
        var b = new PolicyCompiler().Compile(NetpolModel.IPv4.Snapshot(Netpol.Policy("x", "deny").Ingress(), Netpol.Policy("y", "deny-egress").Egress()), a).ThrowIfErrors();
        backend.Apply(a, NetfilterNodeOptions.None);
        RemoveAll(Engine, ns);

        var mode = backend.Apply(b, NetfilterNodeOptions.None);

        // The delta only adds to objects that are gone, so it is refused and the whole ruleset is applied instead.
        Assert.Equal(NetfilterApplyMode.Full, mode);
        var fresh = new NetfilterBackend(Engine, ns);
        Assert.Equal(NetfilterApplyMode.Unchanged, backend.Apply(b, NetfilterNodeOptions.None));
        Assert.NotEmpty(fresh.Listing());
    }

    private static void RemoveAll(NetfilterEngine engine, NetworkNamespace ns)
    {
        if (engine == NetfilterEngine.Iptables)
        {
            new NetPolicy.Loader.Iptables.IptablesApplier(ns).Remove();
        }
        else
        {
            new NetPolicy.Loader.Nftables.NftablesApplier(ns).Remove();
        }
    }

    private static CompiledPolicySet Compile(ClusterSnapshot snapshot) => new PolicyCompiler().Compile(snapshot).ThrowIfErrors();
}
