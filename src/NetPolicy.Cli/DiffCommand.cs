using System.CommandLine;
using NetPolicy.Analysis;
using NetPolicy.Compiler;

namespace NetPolicy.Cli;

/// <summary><c>netpol diff</c>: connections opened, closed and changed between two manifest sets.</summary>
internal static class DiffCommand
{
    /// <summary>The most rows each Markdown table shows: GitHub comments hold at most 65,536 characters.</summary>
    public const int MarkdownRowsPerTable = 100;

    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("diff", "Compare the connections two manifest sets allow: opened, closed and changed ones (pod to pod per port and protocol, and pod to address ranges), each with the rule responsible.");
        var before = PathArgument("before", "The manifests before the change: a file or directory ('-' reads standard input).");
        var after = PathArgument("after", "The manifests after the change: a file or directory ('-' reads standard input).");
        command.Add(before);
        command.Add(after);
        var common = CommonOptions.AddTo(command, withInputs: false);
        var format = new Option<string>("--format")
        {
            Description = "Output format: text, json, md (Markdown for a pull-request comment) or sarif (SARIF 2.1.0, results at the rules responsible in AFTER).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "md", "sarif");
        var failOnOpen = new Option<bool>("--fail-on-open")
        {
            Description = "Exit with 3 when any connection opens.",
        };
        var noExternal = new Option<bool>("--no-external")
        {
            Description = "Compare pod-to-pod connections only, not connections between pods and addresses outside the cluster.",
        };
        command.Add(format);
        command.Add(failOnOpen);
        command.Add(noExternal);
        command.Validators.Add(result =>
        {
            if (result.GetValue(before) == "-" && result.GetValue(after) == "-")
            {
                result.AddError("Only one of BEFORE and AFTER can be '-' (standard input).");
            }
        });
        command.SetAction(parseResult =>
        {
            var beforePath = parseResult.GetRequiredValue(before);
            var afterPath = parseResult.GetRequiredValue(after);
            var beforeOk = common.TryLoadValid(parseResult, console, [beforePath], out var beforeInput);
            var afterOk = common.TryLoadValid(parseResult, console, [afterPath], out var afterInput);
            if (!beforeOk || !afterOk)
            {
                return ExitCodes.InputError;
            }

            var compiler = new PolicyCompiler();
            var beforeCompiled = compiler.Compile(beforeInput.Snapshot);
            var afterCompiled = compiler.Compile(afterInput.Snapshot);
            if (beforeCompiled.PolicySet is null || afterCompiled.PolicySet is null)
            {
                common.PrintDiagnostics(parseResult, console, beforeCompiled.Diagnostics.Where(d => !beforeInput.Diagnostics.Contains(d)));
                common.PrintDiagnostics(parseResult, console, afterCompiled.Diagnostics.Where(d => !afterInput.Diagnostics.Contains(d)));
                console.Error.WriteLine("netpol: the input does not compile; fix the errors above.");
                return ExitCodes.InputError;
            }

            var diff = ConnectionDiffer.Diff(
                beforeInput.Snapshot, beforeCompiled.PolicySet, afterInput.Snapshot, afterCompiled.PolicySet,
                new ConnectionDiffOptions { IncludeExternal = !parseResult.GetValue(noExternal) });
            switch (parseResult.GetValue(format))
            {
                case "json":
                    JsonOutput.WriteTo(console.Out, indented: true, diff.WriteJson);
                    break;
                case "md":
                    console.Out.Write(diff.ToMarkdown(MarkdownRowsPerTable));
                    break;
                case "sarif":
                    console.Out.Write(SarifFormatter.Format(AnalysisRule.DiffRules, diff.ToFindings(afterInput.Sources), ToolVersion.Value));
                    break;
                default:
                    console.Out.Write(diff.ToText());
                    break;
            }

            return parseResult.GetValue(failOnOpen) && diff.HasOpened ? ExitCodes.ConnectionsOpened : ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> PathArgument(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>() ?? string.Empty;
            if (value.Length > 1 && value[0] == '-')
            {
                result.AddError($"Unrecognized option '{value}'. (To read a file whose name starts with '-', write ./{value}.)");
            }
        });
        return argument;
    }
}
