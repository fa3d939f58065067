using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Benchmarks;

/// <summary>The <c>verify</c> command: checks that the three outputs of <see cref="SyntheticCluster"/> (model objects,
/// <c>k8s.Models</c> objects and the YAML manifest read back with <c>KubernetesYaml</c>) compile without errors to equal
/// policy sets, and that the IR decides a sample of flows as the reference evaluator does.</summary>
internal static class VerifyCommand
{
    public static int Run(Options options)
    {
        var failures = 0;
        var cluster = SyntheticCluster.Generate(options.Shape, options.Seed);
        Console.WriteLine(Invariant($"verify: {options.Shape}, seed {options.Seed}"));

        var fromModel = Compile("model objects (FromModel)", cluster.ToSnapshot(), ref failures);
        var objects = cluster.ToKubernetesObjects();
        var fromObjects = Compile("k8s.Models objects (Create)", ClusterSnapshot.Create(objects.Policies, objects.Pods, objects.Namespaces), ref failures);

        var writer = new StringWriter(CultureInfo.InvariantCulture);
        cluster.WriteYaml(writer);
        var yaml = writer.ToString();
        var sw = Stopwatch.StartNew();
        var loaded = LoadAll(yaml);
        Console.WriteLine(Invariant($"  YAML: {yaml.Length / 1e6:0.0} MB, {loaded.Count:N0} documents, parsed in {sw.Elapsed.TotalMilliseconds:N0} ms"));
        var fromYaml = Compile("YAML manifest (KubernetesYaml + Create)", ClusterSnapshot.Create(loaded.OfType<V1NetworkPolicy>(), loaded.OfType<V1Pod>(), loaded.OfType<V1Namespace>()), ref failures);

        if (fromModel is not null && fromObjects is not null && fromYaml is not null)
        {
            Check("k8s.Models objects compile to the same policy set as the model objects", fromModel.Equals(fromObjects), ref failures);
            Check("the YAML manifest compiles to the same policy set as the model objects", fromModel.Equals(fromYaml), ref failures);
        }

        if (fromModel is not null)
        {
            // A differential spot check on a deterministic sample of flows.
            var snapshot = cluster.ToSnapshot();
            var evaluator = new PolicyEvaluator(snapshot);
            var pods = snapshot.Pods.Values.ToArray();
            var random = new Random(options.Seed);
            int allowed = 0, checkedFlows = 0, mismatches = 0;
            int[] ports = [53, 80, 443, 5432, 8080, 9090, 9100, 30080];
            for (var i = 0; i < 20_000; i++)
            {
                var from = pods[random.Next(pods.Length)];
                var to = i % 3 == 0 ? pods.FirstOrDefault(p => p.Namespace == from.Namespace && p.Key != from.Key) ?? pods[random.Next(pods.Length)] : pods[random.Next(pods.Length)];
                var protocol = random.Next(5) == 0 ? TransportProtocol.Udp : TransportProtocol.Tcp;
                var port = ports[random.Next(ports.Length)];
                var family = AddressFamily.InterNetwork;
                var expected = evaluator.Evaluate(FlowEndpoint.ForPod(from), FlowEndpoint.ForPod(to), protocol, port, family).Allowed;
                var actual = fromModel.Decide(from.AddressOf(family)!, to.AddressOf(family)!, protocol, port);
                checkedFlows++;
                allowed += expected ? 1 : 0;
                if (expected != actual && mismatches++ < 5)
                {
                    Console.WriteLine(Invariant($"  mismatch: {from.Key} -> {to.Key} {protocol}/{port}: reference {expected}, IR {actual}"));
                }
            }

            Check(Invariant($"IR agrees with the reference evaluator on {checkedFlows:N0} sampled flows ({allowed:N0} allowed)"), mismatches == 0, ref failures);
        }

        Console.WriteLine(failures == 0 ? "verify: OK" : Invariant($"verify: {failures} check(s) FAILED"));
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Loads a multi-document manifest in batches of documents: <c>KubernetesYaml.LoadAllFromString</c> stops at
    /// YamlDotNet's limit of 100,000 parsing events per call (about 2,000 of our pods), so a whole cluster cannot be
    /// read in one call.</summary>
    private static List<object> LoadAll(string yaml)
    {
        var result = new List<object>();
        var documents = yaml.Split("\n---\n", StringSplitOptions.RemoveEmptyEntries);
        const int batch = 500;
        for (var i = 0; i < documents.Length; i += batch)
        {
            result.AddRange(KubernetesYaml.LoadAllFromString(string.Join("\n---\n", documents.Skip(i).Take(batch))));
        }

        return result;
    }

    private static NetPolicy.Compiler.Ir.CompiledPolicySet? Compile(string label, ClusterSnapshot snapshot, ref int failures)
    {
        var result = new PolicyCompiler().Compile(snapshot);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var others = result.Diagnostics.Length - errors.Count;
        Console.WriteLine(Invariant($"  {label}: {(result.Success ? "compiled" : "FAILED")}, {errors.Count} errors, {others} other diagnostics") +
            (result.PolicySet is { } set ? Invariant($"; {set.Endpoints.Count:N0} endpoints, {set.Identities.Count:N0} identities, {set.RuleSets.Count:N0} rule sets, {set.AddressClasses.Length:N0} address classes, {set.IPCache.Count:N0} ipcache entries") : string.Empty));
        foreach (var diagnostic in result.Diagnostics.Take(5))
        {
            Console.WriteLine("    " + diagnostic);
        }

        if (!result.Success)
        {
            failures++;
        }

        return result.PolicySet;
    }

    private static void Check(string what, bool ok, ref int failures)
    {
        Console.WriteLine((ok ? "  ok:   " : "  FAIL: ") + what);
        if (!ok)
        {
            failures++;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
