namespace NetPolicy.Compiler.Model;

/// <summary>A named container port of a pod, the target of NetworkPolicy named ports.</summary>
/// <param name="Name">The port name (an IANA service name).</param>
/// <param name="Port">The container port number, 1–65535.</param>
/// <param name="Protocol">The port protocol.</param>
public sealed record NamedPort(string Name, int Port, TransportProtocol Protocol);
