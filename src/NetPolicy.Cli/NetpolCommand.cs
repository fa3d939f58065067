using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace NetPolicy.Cli;

/// <summary>The <c>netpol</c> command line: <c>compile</c>, <c>trace</c>, <c>matrix</c>, <c>lint</c> and <c>diff</c> over Kubernetes manifests.</summary>
/// <remarks>
/// Exit codes: 0 success (for <c>trace</c>, whether the flow is allowed or denied); 1 input errors (any error
/// diagnostic, an unknown pod or port name), <c>lint</c> findings at or above <c>--fail-on</c>, or an unexpected
/// failure; 2 usage errors; 3 <c>diff --fail-on-open</c> when a connection opens. Results go to standard
/// output; diagnostics and errors go to standard error, one per line. Stack traces are printed only with
/// <c>--debug</c> or <c>NETPOL_DEBUG=1</c>. See <c>docs/cli.md</c>.
/// </remarks>
/// <example>
/// <code>
/// var stdout = new StringWriter();
/// var stderr = new StringWriter();
/// int exitCode = NetpolCommand.Run(["matrix", "cluster.yaml", "--port", "80", "--format", "json"], stdout, stderr);
/// </code>
/// </example>
public static class NetpolCommand
{
    /// <summary>Runs the tool in-process, as <c>netpol</c> would with the same arguments.</summary>
    /// <param name="args">The command-line arguments, without the program name.</param>
    /// <param name="stdout">Where results are written.</param>
    /// <param name="stderr">Where diagnostics and errors are written.</param>
    /// <param name="stdin">What the input path <c>-</c> reads, or <see langword="null"/> for <see cref="Console.In"/>.</param>
    /// <returns>The exit code: 0, 1, 2 or 3.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="args"/>, <paramref name="stdout"/> or <paramref name="stderr"/> is <see langword="null"/>.</exception>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var debug = args.Contains(CommonOptions.DebugOptionName, StringComparer.Ordinal) ||
            string.Equals(Environment.GetEnvironmentVariable("NETPOL_DEBUG"), "1", StringComparison.Ordinal);
        try
        {
            var console = new CliConsole(stdout, stderr, stdin ?? Console.In);
            var root = BuildRootCommand(console);
            var parseResult = root.Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                foreach (var error in parseResult.Errors)
                {
                    stderr.WriteLine("netpol: " + error.Message);
                }

                stderr.WriteLine($"Run '{CommandPath(parseResult)} --help' for usage.");
                return ExitCodes.UsageError;
            }

            return parseResult.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            stderr.WriteLine("netpol: " + e.Message);
            return ExitCodes.UsageError;
        }
        catch (CliInputException e)
        {
            stderr.WriteLine("netpol: " + e.Message);
            return ExitCodes.InputError;
        }
#pragma warning disable CA1031 // The tool's last line of defence: one line instead of a stack trace (see --debug).
        catch (Exception e)
#pragma warning restore CA1031
        {
            stderr.WriteLine(debug
                ? "netpol: unexpected error: " + e
                : $"netpol: unexpected error: {e.GetType().Name}: {FirstLine(e.Message)} (run with --debug or NETPOL_DEBUG=1 for details)");
            return ExitCodes.InputError;
        }
    }

    private static Command BuildRootCommand(CliConsole console)
    {
        var root = new Command("netpol", "Compile Kubernetes NetworkPolicies into identities and a policy IR, trace flows, print reachability matrices, lint policies and diff the connections two manifest sets allow.")
        {
            new HelpOption { Recursive = true },
            new VersionOption(),
            new Option<bool>(CommonOptions.DebugOptionName) { Description = "Print stack traces of unexpected errors (also NETPOL_DEBUG=1).", Recursive = true },
            CompileCommand.Create(console),
            TraceCommand.Create(console),
            MatrixCommand.Create(console),
            LintCommand.Create(console),
            DiffCommand.Create(console),
        };
        return root;
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static string FirstLine(string text)
    {
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? text : text[..end];
    }
}
