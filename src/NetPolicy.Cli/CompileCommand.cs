using System.Collections.Immutable;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Cli;

/// <summary><c>netpol compile</c>: identities and the policy IR, as a report, one JSON document or files (with the BPF map images).</summary>
internal static class CompileCommand
{
    /// <summary>The BPF map images' folder under <c>--out</c>.</summary>
    public const string BpfFolder = "bpf";

    /// <summary>The file names written by <c>--out</c>, relative to the output directory.</summary>
    public static readonly string[] OutputFiles = ["identities.json", "ir.json", "diagnostics.json", "ruleset.nft", "ipsets.restore", "iptables.rules", "ip6tables.rules", BpfFolder + "/maps.json", BpfFolder + "/maps.bin"];

    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("compile", "Compile manifests into security identities, the per-endpoint policy IR and BPF map images.");
        var common = CommonOptions.AddTo(command);
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Write identities.json, ir.json, diagnostics.json, ruleset.nft (nftables), ipsets.restore, iptables.rules, ip6tables.rules (iptables) and bpf/maps.json, bpf/maps.bin (the BPF map images) to this directory (created if missing).",
            HelpName = "DIR",
        };
        var format = new Option<string>("--format")
        {
            Description = "Standard-output format without --out: a readable report (text) or one JSON document (json).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json");
        var entries = new Option<bool>("--entries")
        {
            Description = "Also write each rule set's flattened policy-map entries into ir.json (large: they grow with peers x rules; rules and peerSets already say the same).",
        };
        var nodeAddresses = new Option<IPAddress[]>("--node-address")
        {
            Description = "With --out: a node address (repeatable). The BPF ipcache maps it to the host identity, and the netfilter rules exempt traffic from it to pods from ingress policy (kubelet probes).",
            HelpName = "IP",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ParseAddresses,
        };
        var podCidrs = new Option<IPNetwork[]>("--pod-cidr")
        {
            Description = "With --out: a pod CIDR of the node (node.spec.podCIDRs, repeatable). The netfilter rules drop traffic to and from addresses in it that no compiled pod owns (pods not yet programmed fail closed).",
            HelpName = "CIDR",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ParseNetworks,
        };
        var failOpen = new Option<bool>("--fail-open")
        {
            Description = "With --pod-cidr: let traffic of pods not yet programmed through instead of dropping it.",
        };
        var noBpf = new Option<bool>("--no-bpf")
        {
            Description = "With --out: skip the BPF map images (for cluster-wide compiles whose endpoints and policy entries exceed one node's map capacities).",
        };
        var node = new Option<string>("--node")
        {
            Description = "With --out: render the BPF map images for one node, as its agent programs them: only the pods scheduled on NAME (spec.nodeName) are endpoints, with the rule sets they use; the ipcache keeps every pod.",
            HelpName = "NAME",
        };
        command.Add(output);
        command.Add(noBpf);
        command.Add(node);
        command.Add(format);
        command.Add(entries);
        command.Add(nodeAddresses);
        command.Add(podCidrs);
        command.Add(failOpen);
        command.SetAction(parseResult =>
        {
            var input = common.Load(parseResult, console);
            var result = new PolicyCompiler().Compile(input.Snapshot);
            var diagnostics = input.Diagnostics;
            common.PrintDiagnostics(parseResult, console, diagnostics);
            var policySet = input.HasErrors ? null : result.PolicySet;
            var exitCode = policySet is null ? ExitCodes.InputError : ExitCodes.Success;
            var errors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);

            if (parseResult.GetValue(output) is { } directory)
            {
                Directory.CreateDirectory(directory);
                BpfRenderResult? bpf = null;
                var skipBpf = parseResult.GetValue(noBpf);
                if (policySet is not null && !skipBpf)
                {
                    HashSet<string>? local = null;
                    if (parseResult.GetValue(node) is { } nodeName)
                    {
                        local = input.Snapshot.Pods.Values.Where(p => string.Equals(p.NodeName, nodeName, StringComparison.Ordinal)).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
                        if (local.Count == 0)
                        {
                            console.Error.WriteLine($"netpol: warning: no pod is scheduled on node '{nodeName}' (spec.nodeName); the BPF images hold no endpoint.");
                        }
                    }

                    bpf = BpfMapRenderer.Render(policySet, new BpfRenderOptions { HostAddresses = [.. parseResult.GetValue(nodeAddresses) ?? []], LocalEndpoints = local });
                    common.PrintDiagnostics(parseResult, console, bpf.Diagnostics);
                    diagnostics = diagnostics.AddRange(bpf.Diagnostics);
                }

                JsonOutput.WriteFile(Path.Combine(directory, "diagnostics.json"), indented: true, w => CompileJson.WriteDiagnostics(w, diagnostics));
                if (policySet is null)
                {
                    console.Error.WriteLine($"netpol: compile failed with {errors} error(s); wrote {Path.Combine(directory, "diagnostics.json")} only.");
                    return exitCode;
                }

                var includeEntries = parseResult.GetValue(entries);
                JsonOutput.WriteFile(Path.Combine(directory, "identities.json"), indented: true, w => CompileJson.WriteIdentities(w, policySet));
                JsonOutput.WriteFile(Path.Combine(directory, "ir.json"), indented: true, w => CompileJson.WriteIr(w, policySet, includeEntries));
                ImmutableArray<IPAddress> hosts = [.. parseResult.GetValue(nodeAddresses) ?? []];
                ImmutableArray<IPNetwork> cidrs = [.. parseResult.GetValue(podCidrs) ?? []];
                var open = parseResult.GetValue(failOpen);
                File.WriteAllText(
                    Path.Combine(directory, "ruleset.nft"),
                    NetPolicy.Compiler.Nftables.NftablesRenderer.Render(policySet, new() { HostAddresses = hosts, PodCidrs = cidrs, FailOpen = open }).Text);
                var iptables = NetPolicy.Compiler.Iptables.IptablesRenderer.Render(policySet, new() { HostAddresses = hosts, PodCidrs = cidrs, FailOpen = open });
                File.WriteAllText(Path.Combine(directory, "ipsets.restore"), iptables.IpsetRestore);
                File.WriteAllText(Path.Combine(directory, "iptables.rules"), iptables.IPv4Rules);
                File.WriteAllText(Path.Combine(directory, "ip6tables.rules"), iptables.IPv6Rules);
                var bpfDirectory = Path.Combine(directory, BpfFolder);
                if (bpf is null)
                {
                    DeleteImages(directory, bpfDirectory);
                    console.Out.WriteLine($"{CompileReport.Summary(input.Snapshot, policySet)}; wrote identities.json, ir.json, diagnostics.json, ruleset.nft, ipsets.restore, iptables.rules, ip6tables.rules to {directory} (no BPF images: --no-bpf)");
                    return exitCode;
                }

                if (bpf.Images is not { } images)
                {
                    DeleteImages(directory, bpfDirectory);

                    console.Error.WriteLine(
                        $"netpol: the BPF map images do not fit ({bpf.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error)} error(s)); " +
                        $"wrote identities.json, ir.json, diagnostics.json and the netfilter rules to {directory}, and no {BpfFolder}/ images.");
                    return ExitCodes.InputError;
                }

                Directory.CreateDirectory(bpfDirectory);
                JsonOutput.WriteFile(Path.Combine(bpfDirectory, "maps.json"), indented: true, images.WriteJson);
                using (var stream = new FileStream(Path.Combine(bpfDirectory, "maps.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    images.WriteBinary(stream);
                }

                console.Out.WriteLine($"{CompileReport.Summary(input.Snapshot, policySet)}; wrote {string.Join(", ", OutputFiles)} to {directory}");
                console.Out.WriteLine($"bpf: {images}");
                return exitCode;
            }

            if (parseResult.GetValue(format) == "json")
            {
                JsonOutput.WriteTo(console.Out, indented: true, w => CompileJson.WriteCombined(w, policySet, diagnostics));
                return exitCode;
            }

            if (policySet is null)
            {
                console.Error.WriteLine($"netpol: compile failed with {errors} error(s).");
                return exitCode;
            }

            console.Out.Write(CompileReport.Format(input.Snapshot, policySet));
            return exitCode;
        });
        return command;
    }

    // Never leave images of an earlier run next to this run's IR: a loader must not pick them up.
    private static void DeleteImages(string directory, string bpfDirectory)
    {
        if (Directory.Exists(bpfDirectory))
        {
            foreach (var name in OutputFiles.Where(f => f.StartsWith(BpfFolder + "/", StringComparison.Ordinal)))
            {
                File.Delete(Path.Combine(directory, name));
            }
        }
    }

    private static IPNetwork[] ParseNetworks(ArgumentResult result)
    {
        var networks = new List<IPNetwork>();
        foreach (var token in result.Tokens)
        {
            if (!TryParseNetwork(token.Value, out var network))
            {
                result.AddError($"'{token.Value}' is not a CIDR with no host bits set, for example 10.244.1.0/24 or fd00:198::/64.");
                continue;
            }

            networks.Add(network);
        }

        return [.. networks];
    }

    /// <summary>Parses <c>address/length</c> strictly: the address as written must have no bits set past the prefix.</summary>
    private static bool TryParseNetwork(string text, out IPNetwork network)
    {
        network = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) ||
            address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
        {
            return false;
        }

        var bytes = address.GetAddressBytes();
        if (length > bytes.Length * 8)
        {
            return false;
        }

        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return false;
            }
        }

        network = new IPNetwork(address, length);
        return true;
    }

    private static IPAddress[] ParseAddresses(ArgumentResult result)
    {
        var addresses = new List<IPAddress>();
        foreach (var token in result.Tokens)
        {
            if (token.Value.IndexOfAny(['.', ':']) < 0 || !IPAddress.TryParse(token.Value, out var address) || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                result.AddError($"'{token.Value}' is not an IPv4 or IPv6 address, for example 10.0.0.1 or fd00::1.");
                continue;
            }

            addresses.Add(address);
        }

        return [.. addresses];
    }
}
