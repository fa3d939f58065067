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
    public static readonly string[] Engines = ["reference", "bpf"];

    /// <summary>The engines that are planned but not available yet.</summary>
    public static readonly string[] PlannedEngines = ["iptables", "nftables"];

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
            Description = "What decides the verdicts: reference (the reference evaluator), or bpf (real packets through a network-namespace lab with the BPF datapath attached; root on Linux only). iptables and nftables come later.",
            DefaultValueFactory = _ => "reference",
        };
        engine.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!Engines.Contains(value, StringComparer.Ordinal))
            {
                var what = PlannedEngines.Contains(value, StringComparer.Ordinal) ? "is not available yet" : "is unknown";
                result.AddError($"--engine '{value}' {what}; available engines: {string.Join(", ", Engines)} ({string.Join(", ", PlannedEngines)} are planned).");
            }
        });
        var mode = new Option<string>("--mode")
        {
            Description = "Enforcement mode of the bpf engine: conntrack (established flows survive policy changes) or strict.",
            DefaultValueFactory = _ => "conntrack",
        };
        mode.AcceptOnlyFromAmong("conntrack", "strict");
        var format = new Option<string>("--format")
        {
            Description = "Output format: table ('.' allowed, 'X' denied), md (Markdown), csv, or json ({port, protocol, pods, allowed}).",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "md", "csv", "json");
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
            if (parseResult.GetValue(engine) == "bpf")
            {
                if (!TryRunLab(console, input.Snapshot, parseResult.GetProtocol(protocol), parseResult.GetValue(port), parseResult.GetValue(mode), out matrix))
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
                default:
                    console.Out.WriteLine($"{matrix.Protocol.ToKubernetesName()}/{matrix.Port}: rows are sources, columns destinations; '.' allowed, 'X' denied");
                    console.Out.Write(matrix.ToTable());
                    break;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static bool TryRunLab(CliConsole console, NetPolicy.Compiler.ClusterSnapshot snapshot, TransportProtocol protocol, int port, string? mode, out ReachabilityMatrix matrix)
    {
        matrix = null!;
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            console.Error.WriteLine("netpol: --engine bpf loads BPF programs and builds a network-namespace lab, so it runs only as root on Linux " +
                "(it needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN); use --engine reference otherwise.");
            return false;
        }

        try
        {
            var enforcement = mode == "strict" ? NetPolicy.Loader.BpfEnforcementMode.Strict : NetPolicy.Loader.BpfEnforcementMode.Conntrack;
            matrix = LabMatrixEngine.RunBpfAsync(snapshot, protocol, port, enforcement).GetAwaiter().GetResult();
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
        catch (NetPolicy.Loader.KernelOperationException ex)
        {
            console.Error.WriteLine("netpol: the bpf engine failed: " + ex.Message);
            return false;
        }
        catch (ArgumentException ex)
        {
            console.Error.WriteLine("netpol: the bpf engine cannot run this cluster in its lab: " + ex.Message);
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
