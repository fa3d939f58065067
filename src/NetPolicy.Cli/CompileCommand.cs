using System.CommandLine;
using NetPolicy.Compiler;

namespace NetPolicy.Cli;

/// <summary><c>netpol compile</c>: identities and the policy IR, as a report, one JSON document or three files.</summary>
internal static class CompileCommand
{
    /// <summary>The file names written by <c>--out</c>.</summary>
    public static readonly string[] OutputFiles = ["identities.json", "ir.json", "diagnostics.json"];

    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("compile", "Compile manifests into security identities and the per-endpoint policy IR.");
        var common = CommonOptions.AddTo(command);
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Write identities.json, ir.json and diagnostics.json to this directory (created if missing).",
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
        command.Add(output);
        command.Add(format);
        command.Add(entries);
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
                JsonOutput.WriteFile(Path.Combine(directory, "diagnostics.json"), indented: true, w => CompileJson.WriteDiagnostics(w, diagnostics));
                if (policySet is null)
                {
                    console.Error.WriteLine($"netpol: compile failed with {errors} error(s); wrote {Path.Combine(directory, "diagnostics.json")} only.");
                    return exitCode;
                }

                var includeEntries = parseResult.GetValue(entries);
                JsonOutput.WriteFile(Path.Combine(directory, "identities.json"), indented: true, w => CompileJson.WriteIdentities(w, policySet));
                JsonOutput.WriteFile(Path.Combine(directory, "ir.json"), indented: true, w => CompileJson.WriteIr(w, policySet, includeEntries));
                console.Out.WriteLine($"{CompileReport.Summary(input.Snapshot, policySet)}; wrote {string.Join(", ", OutputFiles)} to {directory}");
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
}
