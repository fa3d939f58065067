// MinimalNodeAgent: the smallest node agent built on NetPolicy.Compiler, NetPolicy.Manifests and NetPolicy.Loader.
// Read manifests -> compile (incremental session) -> render BPF map images -> apply them -> attach every endpoint ->
// stream verdict events -> on a pod event, recompile and apply only the delta (programs are never reloaded).
//
//   sudo dotnet run --project samples/MinimalNodeAgent -- samples/payments/cluster.yaml
using System.Net;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader;
using NetPolicy.Loader.Lab;
using NetPolicy.Manifests;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")] // a node agent is Linux-only, as NetPolicy.Loader is

const string Frontend = "production/frontend", Ingress = "production/nginx-ingress", Api = "production/payments-api";
const int ApiPort = 8080;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: MinimalNodeAgent <manifest files or directories...>   (e.g. samples/payments/cluster.yaml)");
    return 2;
}

if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("MinimalNodeAgent loads BPF programs and creates network namespaces, so it runs only as root on Linux " +
        "(CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN): sudo dotnet run --project samples/MinimalNodeAgent -- samples/payments/cluster.yaml");
    return 1;
}

// 1. Read the cluster. A real agent gets these objects from its API-server watch instead.
var loaded = new ManifestReader().ReadPaths(args).ToSnapshot();
foreach (var diagnostic in loaded.Diagnostics)
{
    Console.Error.WriteLine(diagnostic);
}

if (loaded.HasErrors)
{
    return 1;
}

if (!new[] { Frontend, Ingress, Api }.All(loaded.Snapshot.Pods.ContainsKey))
{
    Console.Error.WriteLine($"this sample's scenario needs the pods {Frontend}, {Ingress} and {Api} (samples/payments/cluster.yaml).");
    return 1;
}

// 2. Compile once; later pod events go through the same session and only what changed is recompiled.
var session = new PolicyCompilerSession(loaded.Snapshot);
var policySet = session.Current.ThrowIfErrors();
Console.WriteLine($"compiled {loaded.Snapshot.Pods.Count} pods: {policySet.Identities.Count} identities, {policySet.RuleSets.Count} rule sets");

// 3. Create the node's datapath (shared maps, once per node) and apply the first map images in full.
using var datapath = BpfDatapath.Create(new BpfDatapathOptions { Mode = BpfEnforcementMode.Conntrack });
// Every pod of this sample runs in the lab on this "node"; a real agent passes LocalEndpoints = the keys of the pods whose
// PodEndpoint.NodeName is its node, so its maps hold only local endpoints and the rule sets they use (the ipcache keeps
// every pod, since any pod can be a peer).
BpfMapImages Render(CompilationResult result) => BpfMapRenderer.Render(
    result.ThrowIfErrors(), new BpfRenderOptions { EndpointIds = datapath.Images?.EndpointIds, LocalEndpoints = null }).ThrowIfErrors(); // keep endpoint ids stable
var images = Render(session.Current);
var applied = datapath.Apply(images);
Console.WriteLine($"applied map images: {applied.Upserted} entries written in {applied.Elapsed.TotalMilliseconds:0.##} ms");

// Ctrl+C cancels whatever runs and still tears everything down (a killed process would leave the lab's namespaces).
using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopping.Cancel(); };
var pods = loaded.Snapshot.Pods.Values.Where(p => !p.Addresses.IsDefaultOrEmpty).ToList();
var podByAddress = pods.SelectMany(p => p.Addresses.Select(a => (a, p.Key))).ToDictionary(x => x.a, x => x.Key);
string Name(IPAddress address) => podByAddress.TryGetValue(address, out var pod) ? pod : address.ToString();
NetworkLab? lab = null;
var attachments = new List<BpfEndpointAttachment>();
Task? eventLoop = null;
var exitCode = 0;
try
{
    // 4. Pod interfaces. A REAL AGENT DOES NOT DO THIS: its CNI plugin / container runtime tells it the interface index
    // of each pod's veth (host side, in the node's network namespace) when the pod's sandbox is created, and it calls
    // datapath.Attach(endpointId, hostInterfaceIndex) then. A sample must not touch real pods, so it builds a lab
    // instead: a network namespace per pod, joined by a veth pair to a "node" namespace that routes between them
    // (addresses must be in 198.18.0.0/15 or fd00::/8, as in samples/payments), with servers in the pods and probes.
    var podNetwork = lab = await NetworkLab.CreateAsync(pods.Select(p => new LabPod(p.Key, p.Addresses)), cancellationToken: stopping.Token);
    Console.WriteLine($"lab: {pods.Count} pod namespaces around node namespace {podNetwork.Node.Name} (stands in for the node)");

    // 5. Attach every endpoint's program pair to the host side of its veth (here in the lab's node namespace).
    foreach (var endpoint in podNetwork.Endpoints.Values)
    {
        attachments.Add(datapath.Attach(images.EndpointIds[endpoint.Key], podNetwork.Node, endpoint.HostInterfaceIndex));
    }

    Console.WriteLine($"attached {attachments.Count} endpoints ({attachments[0].Mode})");

    // 6. Verdict events: drops (and allowed flows with BpfDatapathOptions.EmitAllowEvents), polled on a background task.
    eventLoop = Task.Run(() =>
    {
        using var events = datapath.OpenEvents(e => Console.WriteLine(
            $"  event: {(e.Dropped ? "drop" : "allow")} {e.Direction} {Name(e.Source)}:{e.Raw.SourcePort} -> {Name(e.Destination)}:{e.Raw.DestinationPort} " +
            $"{e.Raw.Protocol switch { 6 => "TCP", 17 => "UDP", 132 => "SCTP", var p => "proto " + p }} ({e.Reason})"));
        while (!stopping.IsCancellationRequested)
        {
            events.Poll(TimeSpan.FromMilliseconds(100));
        }
    });

    var api = loaded.Snapshot.Pods[Api].Addresses[0];
    async Task Probe(string from)
    {
        var allowed = await podNetwork.ProbeAsync(from, api, LabProtocol.Tcp, ApiPort, stopping.Token);
        await Task.Delay(200, stopping.Token); // let the event loop print what the probe caused first
        Console.WriteLine($"probe {from} -> {Api}:{ApiPort}/TCP: {(allowed ? "allowed" : "denied")}");
    }

    await Probe(Frontend);
    await Probe(Ingress);

    // 7. A pod event: frontend is relabelled app=nginx-ingress. The session recompiles only what the pod affects, the
    // renderer gives new images with the same endpoint ids, and Apply writes only the entries that differ.
    var frontend = session.Snapshot.Pods[Frontend];
    var next = session.SetPod(frontend with { Labels = frontend.Labels.With("app", "nginx-ingress") });
    Console.WriteLine($"pod event: {Frontend} relabelled app=nginx-ingress; compile delta: {next.Delta}");
    applied = datapath.Apply(Render(next));
    Console.WriteLine($"applied delta: {applied.Upserted} entries written, {applied.Deleted} deleted in " +
        $"{applied.Elapsed.TotalMilliseconds:0.##} ms, no program reload");
    await Probe(Frontend);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.WriteLine("interrupted");
    exitCode = 130;
}
finally
{
    // 8. Teardown: detach every endpoint, delete the lab's namespaces, stop the event loop; the datapath (maps and
    // programs) goes when it is disposed as the program ends.
    await stopping.CancelAsync();
    attachments.ForEach(a => a.Dispose());
    if (lab is not null)
    {
        await lab.DisposeAsync();
    }

    Console.WriteLine($"teardown: {attachments.Count} attachments disposed, lab removed");
    if (eventLoop is not null)
    {
        await eventLoop;
    }
}

return exitCode;
