using System.CommandLine;
using System.Text;
using System.Text.Json;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary><c>netpol matrix</c>: which pods can reach which, for one port and protocol.</summary>
internal static class MatrixCommand
{
    /// <summary>The engines <c>--engine</c> accepts today.</summary>
    public static readonly string[] Engines = ["reference", "bpf", "iptables", "nftables"];


    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("matrix", "Print the pod-to-pod reachability matrix for one port and protocol.");
        var common = CommonOptions.AddTo(command);
        var port = new Option<int>("--port", "-p")
        {
            Description = "The destination port, 1-65535.",
            HelpName = "N",
            Required = true,
            CustomParser = ProtocolOption.ParsePort,
        };
        var protocol = ProtocolOption.Create();
        var engine = new Option<string>("--engine")
        {
            Description = "What decides the verdicts: reference (the reference evaluator), or bpf, iptables or nftables (real packets through a network-namespace lab with that backend; root on Linux only).",
            DefaultValueFactory = _ => "reference",
        };
        engine.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!Engines.Contains(value, StringComparer.Ordinal))
            {
                result.AddError($"--engine '{value}' is unknown; available engines: {string.Join(", ", Engines)}.");
            }
        });
        var mode = new Option<string>("--mode")
        {
            Description = "Enforcement mode of the lab engines: conntrack (established flows survive policy changes) or strict.",
            DefaultValueFactory = _ => "conntrack",
        };
        mode.AcceptOnlyFromAmong("conntrack", "strict");
        var format = new Option<string>("--format")
        {
            Description = "Output format: table ('.' allowed, 'X' denied), md (Markdown), csv, json ({port, protocol, pods, allowed}), html (a self-contained page), " +
                "or the allowed connections as a graph: mermaid (flowchart) or dot (Graphviz); graph nodes are pods grouped by namespace, a pod's traffic to itself is left out.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "md", "csv", "json", "html", "mermaid", "dot");
        command.Add(port);
        command.Add(protocol);
        command.Add(engine);
        command.Add(mode);
        command.Add(format);
        command.SetAction(parseResult =>
        {
            if (!common.TryLoadValid(parseResult, console, out var input))
            {
                return ExitCodes.InputError;
            }

            ReachabilityMatrix matrix;
            if (parseResult.GetValue(engine) is "bpf" or "iptables" or "nftables")
            {
                if (!TryRunLab(console, parseResult.GetValue(engine)!, input.Snapshot, parseResult.GetProtocol(protocol), parseResult.GetValue(port), parseResult.GetValue(mode), out matrix))
                {
                    return ExitCodes.InputError;
                }
            }
            else
            {
                matrix = new PolicyEvaluator(input.Snapshot).Matrix(parseResult.GetProtocol(protocol), parseResult.GetValue(port));
            }

            switch (parseResult.GetValue(format))
            {
                case "json":
                    JsonOutput.WriteTo(console.Out, indented: false, w => WriteJson(w, matrix));
                    break;
                case "md":
                    console.Out.Write(ToMarkdown(matrix));
                    break;
                case "csv":
                    console.Out.Write(ToCsv(matrix));
                    break;
                case "html":
                    console.Out.Write(MatrixGraphs.ToHtml(matrix));
                    break;
                case "mermaid":
                    console.Out.Write(MatrixGraphs.ToMermaid(matrix));
                    break;
                case "dot":
                    console.Out.Write(MatrixGraphs.ToDot(matrix));
                    break;
                default:
                    console.Out.WriteLine($"{matrix.Protocol.ToKubernetesName()}/{matrix.Port}: rows are sources, columns destinations; '.' allowed, 'X' denied");
                    console.Out.Write(matrix.ToTable());
                    break;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static bool TryRunLab(CliConsole console, string engine, NetPolicy.Compiler.ClusterSnapshot snapshot, TransportProtocol protocol, int port, string? mode, out ReachabilityMatrix matrix)
    {
        matrix = null!;
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            console.Error.WriteLine($"netpol: --engine {engine} builds a network-namespace lab (and loads BPF programs or netfilter rules into it), so it runs only as root on Linux " +
                "(it needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and CAP_BPF for bpf); use --engine reference otherwise.");
            return false;
        }

        try
        {
            var strict = mode == "strict";
            matrix = engine switch
            {
                "nftables" => LabMatrixEngine.RunNftablesAsync(snapshot, protocol, port, strict).GetAwaiter().GetResult(),
                "iptables" => LabMatrixEngine.RunIptablesAsync(snapshot, protocol, port, strict).GetAwaiter().GetResult(),
                _ => LabMatrixEngine.RunBpfAsync(snapshot, protocol, port, strict ? NetPolicy.Loader.BpfEnforcementMode.Strict : NetPolicy.Loader.BpfEnforcementMode.Conntrack).GetAwaiter().GetResult(),
            };
            return true;
        }
        catch (NetPolicy.Compiler.PolicyCompilationException ex)
        {
            foreach (var diagnostic in ex.Diagnostics)
            {
                console.Error.WriteLine("netpol: " + diagnostic);
            }

            return false;
        }
        catch (NetPolicy.Loader.Lab.LabUnavailableException ex)
        {
            console.Error.WriteLine($"netpol: --engine {engine}: " + ex.Message);
            return false;
        }
        catch (NetPolicy.Loader.KernelOperationException ex)
        {
            console.Error.WriteLine($"netpol: the {engine} engine failed: " + ex.Message);
            return false;
        }
        catch (ArgumentException ex)
        {
            console.Error.WriteLine($"netpol: the {engine} engine cannot run this cluster in its lab: " + ex.Message);
            return false;
        }
    }

    /// <summary>Writes the matrix contract: <c>{"port", "protocol", "pods", "allowed"}</c>, in this order.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="matrix">The matrix.</param>
    public static void WriteJson(Utf8JsonWriter writer, ReachabilityMatrix matrix)
    {
        writer.WriteStartObject();
        writer.WriteNumber("port", matrix.Port);
        writer.WriteString("protocol", matrix.Protocol.ToKubernetesName());
        writer.WriteStrings("pods", matrix.Pods);
        writer.WriteStartArray("allowed");
        foreach (var row in matrix.Allowed)
        {
            writer.WriteStartArray();
            foreach (var allowed in row)
            {
                writer.WriteBooleanValue(allowed);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Formats the matrix as a Markdown table: rows sources, columns destinations, ✓ allowed, ✗ denied.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The text.</returns>
    public static string ToMarkdown(ReachabilityMatrix matrix)
    {
        var sb = new StringBuilder();
        sb.Append("| from \\ to |");
        foreach (var pod in matrix.Pods)
        {
            sb.Append(' ').Append(pod).Append(" |");
        }

        sb.Append('\n').Append("|---|");
        foreach (var _ in matrix.Pods)
        {
            sb.Append(":---:|");
        }

        sb.Append('\n');
        for (var i = 0; i < matrix.Pods.Length; i++)
        {
            sb.Append("| ").Append(matrix.Pods[i]).Append(" |");
            foreach (var allowed in matrix.Allowed[i])
            {
                sb.Append(allowed ? " ✓ |" : " ✗ |");
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Formats the matrix as CSV: a header row (<c>from</c>, then the pods) and one row per source pod of <c>true</c>/<c>false</c>.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <returns>The text.</returns>
    public static string ToCsv(ReachabilityMatrix matrix)
    {
        var sb = new StringBuilder();
        sb.Append("from");
        foreach (var pod in matrix.Pods)
        {
            sb.Append(',').Append(CsvField(pod));
        }

        sb.Append('\n');
        for (var i = 0; i < matrix.Pods.Length; i++)
        {
            sb.Append(CsvField(matrix.Pods[i]));
            foreach (var allowed in matrix.Allowed[i])
            {
                sb.Append(allowed ? ",true" : ",false");
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
