using System.CommandLine;
using System.Globalization;
using NetPolicy.Analysis;
using NetPolicy.Compiler;

namespace NetPolicy.Cli;

/// <summary><c>netpol lint</c>: policy mistakes that compile fine (codes NP40xx), as text, JSON or SARIF.</summary>
internal static class LintCommand
{
    /// <summary>The values <c>--fail-on</c> accepts, strictest last.</summary>
    public static readonly string[] Thresholds = ["error", "warning", "info", "none"];

    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("lint", "Check NetworkPolicies for mistakes that compile fine: selectors that select nothing, pods left unisolated, blocked DNS, redundant rules, unknown named ports, ipBlocks covering pods.");
        var common = CommonOptions.AddTo(command);
        var format = new Option<string>("--format")
        {
            Description = "Output format: text (one finding per line with file:line), json, or sarif (SARIF 2.1.0 for GitHub code scanning).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "sarif");
        var failOn = new Option<string>("--fail-on")
        {
            Description = "Exit with 1 when a finding has this severity or a higher one: error (default), warning, info, or none (always 0 unless the input has errors).",
            DefaultValueFactory = _ => "error",
        };
        failOn.AcceptOnlyFromAmong(Thresholds);
        var disable = new Option<string[]>("--disable")
        {
            Description = "Do not run the check with this code, for example NP4005 (repeatable).",
            HelpName = "CODE",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        disable.Validators.Add(result =>
        {
            foreach (var code in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!AnalysisRule.LintRules.Any(r => string.Equals(r.Code, code, StringComparison.OrdinalIgnoreCase)))
                {
                    result.AddError($"--disable '{code}' is not a lint code; codes: {string.Join(", ", AnalysisRule.LintRules.Select(r => r.Code))}.");
                }
            }
        });
        command.Add(format);
        command.Add(failOn);
        command.Add(disable);
        command.SetAction(parseResult =>
        {
            if (!common.TryLoadValid(parseResult, console, out var input))
            {
                return ExitCodes.InputError;
            }

            var compiled = new PolicyCompiler().Compile(input.Snapshot);
            if (compiled.PolicySet is null)
            {
                common.PrintDiagnostics(parseResult, console, compiled.Diagnostics.Where(d => !input.Diagnostics.Contains(d)));
                console.Error.WriteLine("netpol: the input does not compile; fix the errors above.");
                return ExitCodes.InputError;
            }

            var options = new PolicyLintOptions { Sources = input.Sources };
            foreach (var code in parseResult.GetValue(disable) ?? [])
            {
                options.DisabledCodes.Add(code);
            }

            var findings = PolicyLinter.Lint(input.Snapshot, compiled.PolicySet, options);
            switch (parseResult.GetValue(format))
            {
                case "sarif":
                    console.Out.Write(SarifFormatter.Format(AnalysisRule.LintRules, findings, ToolVersion.Value));
                    break;
                case "json":
                    JsonOutput.WriteTo(console.Out, indented: true, w => WriteJson(w, findings));
                    break;
                default:
                    foreach (var finding in findings)
                    {
                        console.Out.WriteLine(finding.ToString());
                    }

                    console.Out.WriteLine(Summary(findings));
                    break;
            }

            return Fails(findings, parseResult.GetValue(failOn) ?? "error") ? ExitCodes.LintFindings : ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Returns whether any finding is at or above the threshold.</summary>
    /// <param name="findings">The findings.</param>
    /// <param name="threshold">One of <see cref="Thresholds"/>.</param>
    /// <returns><see langword="true"/> when the command should fail.</returns>
    public static bool Fails(IEnumerable<LintFinding> findings, string threshold)
    {
        DiagnosticSeverity? minimum = threshold switch
        {
            "error" => DiagnosticSeverity.Error,
            "warning" => DiagnosticSeverity.Warning,
            "info" => DiagnosticSeverity.Info,
            _ => null,
        };
        return minimum is { } m && findings.Any(f => f.Severity >= m);
    }

    private static string Summary(IReadOnlyCollection<LintFinding> findings)
    {
        if (findings.Count == 0)
        {
            return "no findings";
        }

        var errors = findings.Count(f => f.Severity == DiagnosticSeverity.Error);
        var warnings = findings.Count(f => f.Severity == DiagnosticSeverity.Warning);
        return string.Create(CultureInfo.InvariantCulture, $"{findings.Count} finding(s): {errors} error(s), {warnings} warning(s), {findings.Count - errors - warnings} info");
    }

    private static void WriteJson(System.Text.Json.Utf8JsonWriter writer, IReadOnlyCollection<LintFinding> findings)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WriteStartArray("findings");
        foreach (var finding in findings)
        {
            writer.WriteStartObject();
            writer.WriteString("code", finding.Code);
            writer.WriteString("severity", JsonOutput.Name(finding.Severity));
            writer.WriteString("kind", finding.ObjectKind);
            writer.WriteString("object", finding.ObjectName);
            writer.WriteNullableString("field", finding.FieldPath);
            writer.WriteNullableString("file", finding.Location?.File);
            writer.WriteNullableNumber("line", finding.Location?.Line);
            writer.WriteString("message", finding.Message);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
