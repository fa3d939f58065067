using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler;

namespace NetPolicy.Cli;

/// <summary>The inputs and options every command takes, and loading them into a snapshot.</summary>
internal sealed class CommonOptions
{
    /// <summary>The name of the option that turns on stack traces.</summary>
    public const string DebugOptionName = "--debug";

    private CommonOptions()
    {
    }

    /// <summary>Gets the input paths: files, directories or <c>-</c> for standard input.</summary>
    public Argument<string[]> Inputs { get; } = new("inputs")
    {
        Description = "Manifest files or directories (YAML or JSON); '-' reads standard input.",
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>Gets <c>--skip-invalid</c>.</summary>
    public Option<bool> SkipInvalid { get; } = new("--skip-invalid")
    {
        Description = "Drop invalid objects with a warning instead of failing.",
    };

    /// <summary>Gets <c>--ipv4-pool</c>.</summary>
    public Option<IPNetwork?> IPv4Pool { get; } = new("--ipv4-pool")
    {
        Description = "IPv4 CIDR to assign to pods without status.podIPs (default 198.18.0.0/15).",
        HelpName = "CIDR",
        CustomParser = result => ParsePool(result, AddressFamily.InterNetwork),
    };

    /// <summary>Gets <c>--ipv6-pool</c>.</summary>
    public Option<IPNetwork?> IPv6Pool { get; } = new("--ipv6-pool")
    {
        Description = "IPv6 CIDR to assign to pods without an IPv6 address (default: none, single-stack IPv4).",
        HelpName = "CIDR",
        CustomParser = result => ParsePool(result, AddressFamily.InterNetworkV6),
    };

    /// <summary>Gets <c>--quiet</c>.</summary>
    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "Print only error diagnostics.",
    };

    /// <summary>Gets <c>--verbose</c>.</summary>
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Print info diagnostics too (by default warnings and errors).",
    };

    /// <summary>Creates the options and adds them to a command.</summary>
    /// <param name="command">The command.</param>
    /// <returns>The options.</returns>
    public static CommonOptions AddTo(Command command) => AddTo(command, withInputs: true);

    /// <summary>Creates the options and adds them to a command, with or without the <c>inputs</c> argument.</summary>
    /// <param name="command">The command.</param>
    /// <param name="withInputs">Whether to add the <c>inputs</c> argument (commands with their own path arguments do not).</param>
    /// <returns>The options.</returns>
    public static CommonOptions AddTo(Command command, bool withInputs)
    {
        var options = new CommonOptions();
        if (withInputs)
        {
            command.Add(options.Inputs);
        }

        command.Add(options.SkipInvalid);
        command.Add(options.IPv4Pool);
        command.Add(options.IPv6Pool);
        command.Add(options.Quiet);
        command.Add(options.Verbose);
        options.Inputs.Validators.Add(result =>
        {
            // An unknown option would otherwise be taken for an input path.
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-')
                {
                    result.AddError($"Unrecognized option '{token.Value}'. (To read a file whose name starts with '-', write ./{token.Value}.)");
                }
            }
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(options.Quiet) && result.GetValue(options.Verbose))
            {
                result.AddError("--quiet and --verbose cannot be used together.");
            }
        });
        return options;
    }

    /// <summary>Reads the inputs and builds the snapshot, printing the diagnostics the options let through.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="console">The streams.</param>
    /// <returns>The loaded input.</returns>
    public LoadedInput Load(ParseResult parseResult, CliConsole console) => Load(parseResult, console, parseResult.GetValue(Inputs) ?? []);

    /// <summary>Reads the given paths and builds the snapshot with the options of the command line.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="console">The streams.</param>
    /// <param name="paths">Files, directories or <c>-</c>.</param>
    /// <returns>The loaded input.</returns>
    public LoadedInput Load(ParseResult parseResult, CliConsole console, IReadOnlyList<string> paths)
    {
        var snapshotOptions = new ClusterSnapshotOptions
        {
            InvalidObjects = parseResult.GetValue(SkipInvalid) ? InvalidObjectHandling.Skip : InvalidObjectHandling.Fail,
        };
        if (parseResult.GetValue(IPv4Pool) is { } v4)
        {
            snapshotOptions.IPv4AddressPool = v4;
        }

        if (parseResult.GetValue(IPv6Pool) is { } v6)
        {
            snapshotOptions.IPv6AddressPool = v6;
        }

        return ManifestInput.Load(paths, console.In, snapshotOptions);
    }

    /// <summary>Loads the inputs and prints their diagnostics; on errors says so and returns <see langword="false"/>.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="console">The streams.</param>
    /// <param name="input">The loaded input.</param>
    /// <returns><see langword="true"/> when the input has no errors.</returns>
    public bool TryLoadValid(ParseResult parseResult, CliConsole console, out LoadedInput input) =>
        TryLoadValid(parseResult, console, parseResult.GetValue(Inputs) ?? [], out input);

    /// <summary>Loads the given paths and prints their diagnostics; on errors says so and returns <see langword="false"/>.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="console">The streams.</param>
    /// <param name="paths">Files, directories or <c>-</c>.</param>
    /// <param name="input">The loaded input.</param>
    /// <returns><see langword="true"/> when the input has no errors.</returns>
    public bool TryLoadValid(ParseResult parseResult, CliConsole console, IReadOnlyList<string> paths, out LoadedInput input)
    {
        input = Load(parseResult, console, paths);
        PrintDiagnostics(parseResult, console, input.Diagnostics);
        if (input.HasErrors)
        {
            console.Error.WriteLine("netpol: the input has errors; fix them or pass --skip-invalid.");
            return false;
        }

        return true;
    }

    /// <summary>Prints diagnostics to standard error, one per line, filtered by <c>--quiet</c>/<c>--verbose</c>.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="console">The streams.</param>
    /// <param name="diagnostics">The diagnostics.</param>
    public void PrintDiagnostics(ParseResult parseResult, CliConsole console, IEnumerable<PolicyDiagnostic> diagnostics)
    {
        var minimum = parseResult.GetValue(Quiet) ? DiagnosticSeverity.Error
            : parseResult.GetValue(Verbose) ? DiagnosticSeverity.Info
            : DiagnosticSeverity.Warning;
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.Severity >= minimum)
            {
                console.Error.WriteLine(diagnostic.ToString());
            }
        }
    }

    private static IPNetwork? ParsePool(ArgumentResult result, AddressFamily family)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var familyName = family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
        if (!IPNetwork.TryParse(text, out var network) || network.BaseAddress.AddressFamily != family)
        {
            result.AddError($"'{text}' is not an {familyName} CIDR, for example {(family == AddressFamily.InterNetwork ? "198.18.0.0/15" : "fd00:198::/64")}.");
            return null;
        }

        return network;
    }
}
