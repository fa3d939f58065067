using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Evaluation;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Cli;

/// <summary><c>netpol trace</c>: the reference verdict for one flow, with its explanation.</summary>
internal static class TraceCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="console">The streams.</param>
    /// <returns>The command.</returns>
    public static Command Create(CliConsole console)
    {
        var command = new Command("trace", "Explain whether one flow is allowed, with the reference evaluator.");
        var common = CommonOptions.AddTo(command);
        var from = EndpointOption("--from", "The source: namespace/pod or an IP address.");
        var to = EndpointOption("--to", "The destination: namespace/pod or an IP address.");
        var port = new Option<string>("--port", "-p")
        {
            Description = "The destination port: a number (1-65535) or a container port name of the destination pod.",
            HelpName = "N|NAME",
            Required = true,
        };
        port.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>() ?? string.Empty;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                if (ProtocolOption.ValidatePort(number) is { } error)
                {
                    result.AddError(error);
                }
            }
            else if (!IsPortName(text))
            {
                result.AddError($"--port '{text}' is neither a port number (1-65535) nor a port name (1-15 lower-case letters, digits and '-').");
            }
        });
        var protocol = ProtocolOption.Create();
        var format = new Option<string>("--format")
        {
            Description = "Output format: the explanation (text) or a JSON document (json).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json");
        command.Add(from);
        command.Add(to);
        command.Add(port);
        command.Add(protocol);
        command.Add(format);
        command.SetAction(parseResult =>
        {
            if (!common.TryLoadValid(parseResult, console, out var input))
            {
                return ExitCodes.InputError;
            }

            var evaluator = new PolicyEvaluator(input.Snapshot);
            var source = ResolveEndpoint(evaluator, parseResult.GetRequiredValue(from), "--from");
            var destination = ResolveEndpoint(evaluator, parseResult.GetRequiredValue(to), "--to");
            var transport = parseResult.GetProtocol(protocol);
            var portText = parseResult.GetRequiredValue(port);
            string? portName = null;
            if (!int.TryParse(portText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var portNumber))
            {
                portName = portText;
                portNumber = ResolvePortName(destination, portText, transport);
            }

            var verdict = evaluator.Evaluate(source, destination, transport, portNumber);
            if (parseResult.GetValue(format) == "json")
            {
                JsonOutput.WriteTo(console.Out, indented: true, w => WriteJson(w, verdict, portName));
            }
            else
            {
                if (portName is not null)
                {
                    console.Out.WriteLine($"port '{portName}' of {destination} is {transport.ToKubernetesName()}/{portNumber}");
                }

                console.Out.Write(verdict.Explain());
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<string> EndpointOption(string name, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = "NS/POD|IP",
            Required = true,
        };
        option.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!IPAddress.TryParse(text, out _) && !IsPodKey(text))
            {
                result.AddError($"{name} '{text}' is neither namespace/pod nor an IP address.");
            }
        });
        return option;
    }

    private static bool IsPodKey(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < text.Length - 1 && text.IndexOf('/', slash + 1) < 0;
    }

    private static bool IsPortName(string text) =>
        text.Length is >= 1 and <= 15 && text.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && text.Any(char.IsAsciiLetter);

    private static FlowEndpoint ResolveEndpoint(PolicyEvaluator evaluator, string text, string option)
    {
        if (IPAddress.TryParse(text, out var address))
        {
            return evaluator.ResolveAddress(address);
        }

        if (evaluator.Snapshot.FindPod(text) is { } pod)
        {
            return FlowEndpoint.ForPod(pod);
        }

        var known = evaluator.Snapshot.Pods.Keys.ToList();
        var hint = known.Count == 0 ? "the input has no pods"
            : "pods in the input: " + string.Join(", ", known.Take(10)) + (known.Count > 10 ? $", ... ({known.Count} in all)" : string.Empty);
        throw new CliInputException($"{option}: pod '{text}' is not in the input; {hint}.");
    }

    private static int ResolvePortName(FlowEndpoint destination, string name, TransportProtocol protocol)
    {
        if (destination.Pod is not { } pod)
        {
            throw new CliInputException($"--port '{name}': a port name needs a destination pod, and {destination} is not a pod of the input; give a port number.");
        }

        if (pod.ResolveNamedPort(name, protocol) is int number)
        {
            return number;
        }

        var declared = pod.NamedPorts.IsEmpty
            ? "it declares no named container ports"
            : "its named ports: " + string.Join(", ", pod.NamedPorts.Select(p => $"{p.Name}={p.Port}/{p.Protocol.ToKubernetesName()}"));
        throw new CliInputException($"--port '{name}': pod {pod.Key} has no {protocol.ToKubernetesName()} container port named '{name}'; {declared}.");
    }

    private static void WriteJson(Utf8JsonWriter writer, FlowVerdict verdict, string? portName)
    {
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", JsonOutput.SchemaVersion);
        writer.WriteBoolean("allowed", verdict.Allowed);
        WriteEndpoint(writer, "source", verdict.Source, verdict.SourceAddress);
        WriteEndpoint(writer, "destination", verdict.Destination, verdict.DestinationAddress);
        writer.WriteString("protocol", verdict.Protocol.ToKubernetesName());
        writer.WriteNumber("port", verdict.Port);
        writer.WriteNullableString("portName", portName);
        writer.WriteString("summary", verdict.Summary);
        WriteDirection(writer, "egress", verdict.Egress);
        WriteDirection(writer, "ingress", verdict.Ingress);
        writer.WriteEndObject();
    }

    private static void WriteEndpoint(Utf8JsonWriter writer, string name, FlowEndpoint endpoint, IPAddress? address)
    {
        writer.WriteStartObject(name);
        writer.WriteNullableString("pod", endpoint.Pod?.Key);
        writer.WriteNullableString("address", (address ?? endpoint.Address)?.ToString());
        writer.WriteEndObject();
    }

    private static void WriteDirection(Utf8JsonWriter writer, string name, DirectionVerdict? verdict)
    {
        if (verdict is null)
        {
            writer.WriteNull(name);
            return;
        }

        writer.WriteStartObject(name);
        writer.WriteString("pod", verdict.Pod);
        writer.WriteBoolean("isolated", verdict.Isolated);
        writer.WriteStrings("isolatingPolicies", verdict.IsolatingPolicies);
        writer.WriteBoolean("allowed", verdict.Allowed);
        writer.WriteStartArray("allowedBy");
        foreach (var reference in verdict.AllowedBy)
        {
            writer.WriteRuleReference(reference);
        }

        writer.WriteEndArray();
        writer.WriteStrings("reasons", verdict.Reasons);
        writer.WriteEndObject();
    }
}
