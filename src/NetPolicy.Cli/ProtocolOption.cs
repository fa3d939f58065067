using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary>The <c>--protocol</c> and <c>--port</c> options shared by <c>trace</c> and <c>matrix</c>.</summary>
internal static class ProtocolOption
{
    /// <summary>Creates <c>--protocol</c>: TCP, UDP or SCTP in any case; <see langword="null"/> when not given (read it with <see cref="GetProtocol"/>).</summary>
    /// <returns>The option.</returns>
    public static Option<TransportProtocol?> Create() => new("--protocol")
    {
        Description = "TCP (the default), UDP or SCTP; case-insensitive.",
        HelpName = "TCP|UDP|SCTP",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (TransportProtocolNames.TryParseIgnoreCase(text, out var protocol))
            {
                return protocol;
            }

            result.AddError($"'{text}' is not a protocol; use TCP, UDP or SCTP.");
            return null;
        },
    };

    /// <summary>Gets the protocol the command line gives, TCP by default.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="option">The <c>--protocol</c> option.</param>
    /// <returns>The protocol.</returns>
    public static TransportProtocol GetProtocol(this ParseResult parseResult, Option<TransportProtocol?> option) =>
        parseResult.GetValue(option) ?? TransportProtocol.Tcp;

    /// <summary>Parses a <c>--port</c> number, reporting values that are not numbers or outside 1–65535.</summary>
    /// <param name="result">The argument result.</param>
    /// <returns>The port, or 0 after an error.</returns>
    public static int ParsePort(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var port))
        {
            result.AddError($"--port '{text}' is not a port number (1-65535).");
            return 0;
        }

        if (ValidatePort(port) is { } error)
        {
            result.AddError(error);
            return 0;
        }

        return port;
    }

    /// <summary>Returns the error for a port number outside 1–65535, or <see langword="null"/>.</summary>
    /// <param name="port">The port.</param>
    /// <returns>The message, or <see langword="null"/>.</returns>
    public static string? ValidatePort(int port) =>
        port is < 1 or > 65535 ? $"--port {port} is outside 1-65535." : null;
}
