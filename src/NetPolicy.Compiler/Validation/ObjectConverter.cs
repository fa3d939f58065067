using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Validation;

/// <summary>Converts <c>k8s.Models</c> objects into the immutable model, applying API-server defaulting and validation.</summary>
internal static class ObjectConverter
{
    public const string DefaultNamespace = "default";

    public static NamespaceDefinition? ConvertNamespace(V1Namespace ns, List<PolicyDiagnostic> sink, ObjectSource? source)
    {
        var name = ns.Metadata?.Name ?? string.Empty;
        var ctx = new DiagnosticContext(sink, "Namespace", name.Length == 0 ? "<unnamed>" : name, source);
        if (!KubernetesNames.IsDns1123Label(name))
        {
            ctx.Error(DiagnosticCodes.InvalidName, "metadata.name", $"namespace name '{name}' is not a valid DNS-1123 label (lower-case letters, digits and '-', at most 63 characters).");
        }

        var labels = ConvertLabels(ns.Metadata?.Labels, "metadata.labels", ctx);
        if (ctx.ErrorCount > 0)
        {
            return null;
        }

        return NamespaceDefinition.Create(name, labels);
    }

    public static PodEndpoint? ConvertPod(V1Pod pod, List<PolicyDiagnostic> sink, ObjectSource? source)
    {
        var (ns, name, ctx) = Identify("Pod", pod.Metadata, sink, source);
        var labels = ConvertLabels(pod.Metadata?.Labels, "metadata.labels", ctx);

        var namedPorts = new List<NamedPort>();
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        var containers = pod.Spec?.Containers ?? [];
        var initContainers = pod.Spec?.InitContainers ?? [];
        var all = containers.Select((c, i) => (c.Ports, Path: $"spec.containers[{i}]"))
            .Concat(initContainers.Select((c, i) => (c.Ports, Path: $"spec.initContainers[{i}]")));
        foreach (var (ports, path) in all)
        {
            if (ports is null)
            {
                continue;
            }

            for (var p = 0; p < ports.Count; p++)
            {
                var port = ports[p];
                if (port is null)
                {
                    continue;
                }

                var portPath = $"{path}.ports[{p}]";
                if (port.ContainerPort is < 1 or > 65535)
                {
                    ctx.Error(DiagnosticCodes.InvalidContainerPort, portPath + ".containerPort", $"containerPort {port.ContainerPort} is outside 1-65535.");
                    continue;
                }

                var protocol = TransportProtocol.Tcp;
                if (port.Protocol is not null && !TransportProtocolNames.TryParse(port.Protocol, out protocol))
                {
                    ctx.Error(DiagnosticCodes.InvalidProtocol, portPath + ".protocol", $"protocol '{port.Protocol}' is not TCP, UDP or SCTP.");
                    continue;
                }

                if (string.IsNullOrEmpty(port.Name))
                {
                    continue;
                }

                if (!KubernetesNames.IsIanaServiceName(port.Name))
                {
                    ctx.Error(DiagnosticCodes.InvalidPortName, portPath + ".name", $"port name '{port.Name}' is not a valid IANA service name (1-15 lower-case letters, digits and '-', with at least one letter).");
                    continue;
                }

                if (!seenNames.Add(port.Name))
                {
                    ctx.Error(DiagnosticCodes.InvalidContainerPort, portPath + ".name", $"port name '{port.Name}' is used by more than one container port of the pod; names must be unique.");
                    continue;
                }

                namedPorts.Add(new NamedPort(port.Name, port.ContainerPort, protocol));
            }
        }

        var addresses = new List<IPAddress>();
        var ipStrings = new List<(string Ip, string Path)>();
        if (pod.Status?.PodIPs is { Count: > 0 } podIps)
        {
            for (var i = 0; i < podIps.Count; i++)
            {
                if (podIps[i]?.Ip is { } ip)
                {
                    ipStrings.Add((ip, $"status.podIPs[{i}].ip"));
                }
            }
        }
        else if (!string.IsNullOrEmpty(pod.Status?.PodIP))
        {
            ipStrings.Add((pod.Status.PodIP, "status.podIP"));
        }

        foreach (var (ip, path) in ipStrings)
        {
            if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || !IsCanonicalAddressText(ip))
            {
                ctx.Error(DiagnosticCodes.InvalidPodIP, path, $"'{ip}' is not a valid IPv4 or IPv6 address.");
                continue;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (addresses.Any(a => a.AddressFamily == address.AddressFamily))
            {
                ctx.Error(DiagnosticCodes.InvalidPodIP, path, $"the pod has more than one {(address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address; Kubernetes allows one per family.");
                continue;
            }

            addresses.Add(address);
        }

        if (ctx.ErrorCount > 0)
        {
            return null;
        }

        return new PodEndpoint
        {
            Namespace = ns,
            Name = name,
            Labels = labels,
            Addresses = [.. addresses.OrderBy(a => a, IPAddressComparer.Instance)],
            NamedPorts = [.. namedPorts.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Protocol)],
            NodeName = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
        };
    }

    public static NetworkPolicyDefinition? ConvertPolicy(V1NetworkPolicy policy, List<PolicyDiagnostic> sink, ObjectSource? source)
    {
        var (ns, name, ctx) = Identify("NetworkPolicy", policy.Metadata, sink, source);
        ConvertLabels(policy.Metadata?.Labels, "metadata.labels", ctx);
        var spec = policy.Spec;
        if (spec is null)
        {
            ctx.Error(DiagnosticCodes.MissingField, "spec", "the policy has no spec.");
            return null;
        }

        LabelSelector podSelector;
        if (spec.PodSelector is null)
        {
            // The API server requires the field; '{}' is the way to select every pod.
            ctx.Error(DiagnosticCodes.MissingField, "spec.podSelector", "spec.podSelector is required; use '{}' to select every pod in the namespace.");
            podSelector = LabelSelector.Everything;
        }
        else
        {
            podSelector = ConvertSelector(spec.PodSelector, "spec.podSelector", ctx);
        }

        var ingress = new List<NetworkPolicyRule>();
        for (var i = 0; i < (spec.Ingress?.Count ?? 0); i++)
        {
            var rule = spec.Ingress![i];
            ingress.Add(ConvertRule(rule?.FromProperty, rule?.Ports, $"spec.ingress[{i}]", "from", ctx));
        }

        var egress = new List<NetworkPolicyRule>();
        for (var i = 0; i < (spec.Egress?.Count ?? 0); i++)
        {
            var rule = spec.Egress![i];
            egress.Add(ConvertRule(rule?.To, rule?.Ports, $"spec.egress[{i}]", "to", ctx));
        }

        bool affectsIngress, affectsEgress;
        if (spec.PolicyTypes is { Count: > 0 } types)
        {
            affectsIngress = affectsEgress = false;
            if (types.Count > 2)
            {
                ctx.Error(DiagnosticCodes.InvalidPolicyType, "spec.policyTypes", "spec.policyTypes may list at most two entries, Ingress and Egress.");
            }

            for (var i = 0; i < types.Count; i++)
            {
                switch (types[i])
                {
                    case "Ingress" when !affectsIngress: affectsIngress = true; break;
                    case "Egress" when !affectsEgress: affectsEgress = true; break;
                    case "Ingress" or "Egress":
                        ctx.Error(DiagnosticCodes.InvalidPolicyType, $"spec.policyTypes[{i}]", $"policy type '{types[i]}' is listed twice.");
                        break;
                    default:
                        ctx.Error(DiagnosticCodes.InvalidPolicyType, $"spec.policyTypes[{i}]", $"policy type '{types[i]}' is not supported; use Ingress or Egress (case-sensitive).");
                        break;
                }
            }
        }
        else
        {
            // API-server defaulting: Ingress always, Egress when egress rules are present.
            affectsIngress = true;
            affectsEgress = egress.Count > 0;
        }

        if (ctx.ErrorCount > 0)
        {
            return null;
        }

        return new NetworkPolicyDefinition
        {
            Namespace = ns,
            Name = name,
            PodSelector = podSelector,
            AffectsIngress = affectsIngress,
            AffectsEgress = affectsEgress,
            Ingress = [.. ingress],
            Egress = [.. egress],
        };
    }

    private static (string Namespace, string Name, DiagnosticContext Context) Identify(string kind, V1ObjectMeta? metadata, List<PolicyDiagnostic> sink, ObjectSource? source)
    {
        var name = metadata?.Name ?? string.Empty;
        var ns = metadata?.NamespaceProperty;
        var nsMissing = string.IsNullOrEmpty(ns);
        if (nsMissing)
        {
            ns = DefaultNamespace;
        }

        var ctx = new DiagnosticContext(sink, kind, $"{ns}/{(name.Length == 0 ? "<unnamed>" : name)}", source);
        if (nsMissing)
        {
            ctx.Info(DiagnosticCodes.NamespaceDefaulted, "metadata.namespace", $"no namespace given; using '{DefaultNamespace}' as kubectl would without --namespace.");
        }
        else if (!KubernetesNames.IsDns1123Label(ns))
        {
            ctx.Error(DiagnosticCodes.InvalidName, "metadata.namespace", $"namespace '{ns}' is not a valid DNS-1123 label.");
        }

        if (!KubernetesNames.IsDns1123Subdomain(name))
        {
            ctx.Error(DiagnosticCodes.InvalidName, "metadata.name", name.Length == 0
                ? "metadata.name is required."
                : $"name '{name}' is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters).");
        }

        return (ns!, name, ctx);
    }

    private static LabelSet ConvertLabels(IDictionary<string, string>? labels, string path, DiagnosticContext ctx)
    {
        if (labels is null || labels.Count == 0)
        {
            return LabelSet.Empty;
        }

        var ok = true;
        foreach (var pair in labels)
        {
            ok &= ValidateLabel(pair.Key, pair.Value, $"{path}.{pair.Key}", ctx);
        }

        return ok ? LabelSet.Create(labels) : LabelSet.Empty;
    }

    private static bool ValidateLabel(string key, string? value, string path, DiagnosticContext ctx)
    {
        var ok = true;
        if (!KubernetesNames.IsQualifiedName(key))
        {
            ctx.Error(DiagnosticCodes.InvalidLabelKey, path, $"label key '{key}' is not a valid qualified name (optional DNS prefix and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric).");
            ok = false;
        }

        if (!KubernetesNames.IsLabelValue(value ?? string.Empty))
        {
            ctx.Error(DiagnosticCodes.InvalidLabelValue, path, $"label value '{value}' is not valid (at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric, or empty).");
            ok = false;
        }

        return ok;
    }

    private static LabelSelector ConvertSelector(V1LabelSelector selector, string path, DiagnosticContext ctx)
    {
        var matchLabels = LabelSet.Empty;
        if (selector.MatchLabels is { Count: > 0 } ml)
        {
            var ok = true;
            foreach (var pair in ml)
            {
                ok &= ValidateLabel(pair.Key, pair.Value, $"{path}.matchLabels.{pair.Key}", ctx);
            }

            if (ok)
            {
                matchLabels = LabelSet.Create(ml);
            }
        }

        var requirements = new List<LabelSelectorRequirement>();
        for (var i = 0; i < (selector.MatchExpressions?.Count ?? 0); i++)
        {
            var expr = selector.MatchExpressions![i];
            var exprPath = $"{path}.matchExpressions[{i}]";
            if (expr is null)
            {
                continue;
            }

            if (!KubernetesNames.IsQualifiedName(expr.Key))
            {
                ctx.Error(DiagnosticCodes.InvalidLabelKey, exprPath + ".key", $"label key '{expr.Key}' is not a valid qualified name.");
            }

            var values = expr.Values ?? [];
            LabelSelectorOperator op;
            switch (expr.OperatorProperty)
            {
                case "In": op = LabelSelectorOperator.In; break;
                case "NotIn": op = LabelSelectorOperator.NotIn; break;
                case "Exists": op = LabelSelectorOperator.Exists; break;
                case "DoesNotExist": op = LabelSelectorOperator.DoesNotExist; break;
                default:
                    ctx.Error(DiagnosticCodes.InvalidSelectorOperator, exprPath + ".operator", $"operator '{expr.OperatorProperty}' is not valid; use In, NotIn, Exists or DoesNotExist (case-sensitive).");
                    continue;
            }

            if (op is LabelSelectorOperator.In or LabelSelectorOperator.NotIn && values.Count == 0)
            {
                ctx.Error(DiagnosticCodes.InvalidSelectorValues, exprPath + ".values", $"operator {op} needs at least one value.");
            }
            else if (op is LabelSelectorOperator.Exists or LabelSelectorOperator.DoesNotExist && values.Count > 0)
            {
                ctx.Error(DiagnosticCodes.InvalidSelectorValues, exprPath + ".values", $"operator {op} takes no values.");
            }

            for (var v = 0; v < values.Count; v++)
            {
                if (!KubernetesNames.IsLabelValue(values[v] ?? string.Empty))
                {
                    ctx.Error(DiagnosticCodes.InvalidLabelValue, $"{exprPath}.values[{v}]", $"label value '{values[v]}' is not valid.");
                }
            }

            requirements.Add(new LabelSelectorRequirement(expr.Key ?? string.Empty, op, values.Where(v => v is not null)));
        }

        return new LabelSelector(matchLabels, requirements);
    }

    private static NetworkPolicyRule ConvertRule(IList<V1NetworkPolicyPeer>? peers, IList<V1NetworkPolicyPort>? ports, string path, string peerField, DiagnosticContext ctx)
    {
        var modelPeers = new List<NetworkPolicyPeer>();
        for (var i = 0; i < (peers?.Count ?? 0); i++)
        {
            var peer = peers![i];
            var peerPath = $"{path}.{peerField}[{i}]";
            if (peer is null || (peer.PodSelector is null && peer.NamespaceSelector is null && peer.IpBlock is null))
            {
                ctx.Error(DiagnosticCodes.EmptyPeer, peerPath, "a peer must specify podSelector, namespaceSelector or ipBlock.");
                continue;
            }

            if (peer.IpBlock is not null && (peer.PodSelector is not null || peer.NamespaceSelector is not null))
            {
                ctx.Error(DiagnosticCodes.PeerConflict, peerPath, "a peer may not combine ipBlock with podSelector or namespaceSelector; split it into two peers.");
                continue;
            }

            if (peer.IpBlock is not null)
            {
                var block = ConvertIPBlock(peer.IpBlock, peerPath + ".ipBlock", ctx);
                if (block is not null)
                {
                    modelPeers.Add(new NetworkPolicyPeer { IPBlock = block });
                }

                continue;
            }

            modelPeers.Add(new NetworkPolicyPeer
            {
                PodSelector = peer.PodSelector is null ? null : ConvertSelector(peer.PodSelector, peerPath + ".podSelector", ctx),
                NamespaceSelector = peer.NamespaceSelector is null ? null : ConvertSelector(peer.NamespaceSelector, peerPath + ".namespaceSelector", ctx),
            });
        }

        var modelPorts = new List<NetworkPolicyPort>();
        for (var i = 0; i < (ports?.Count ?? 0); i++)
        {
            var port = ports![i];
            var portPath = $"{path}.ports[{i}]";
            if (port is null)
            {
                modelPorts.Add(new NetworkPolicyPort());
                continue;
            }

            var protocol = TransportProtocol.Tcp;
            if (port.Protocol is not null && !TransportProtocolNames.TryParse(port.Protocol, out protocol))
            {
                ctx.Error(DiagnosticCodes.InvalidProtocol, portPath + ".protocol", $"protocol '{port.Protocol}' is not supported; use TCP, UDP or SCTP (case-sensitive).");
                continue;
            }

            int? number = null;
            string? portName = null;
            var portText = port.Port?.Value;
            if (!string.IsNullOrEmpty(portText))
            {
                if (int.TryParse(portText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                {
                    if (n is < 1 or > 65535)
                    {
                        ctx.Error(DiagnosticCodes.InvalidPort, portPath + ".port", $"port {n} is outside 1-65535.");
                        continue;
                    }

                    number = n;
                }
                else if (KubernetesNames.IsIanaServiceName(portText))
                {
                    portName = portText;
                }
                else
                {
                    ctx.Error(DiagnosticCodes.InvalidPortName, portPath + ".port", $"port '{portText}' is neither a number in 1-65535 nor a valid IANA service name.");
                    continue;
                }
            }

            if (port.EndPort is int end)
            {
                if (portName is not null)
                {
                    ctx.Error(DiagnosticCodes.InvalidEndPort, portPath + ".endPort", $"endPort may not be used with the named port '{portName}'; give a numeric port.");
                    continue;
                }

                if (number is null)
                {
                    ctx.Error(DiagnosticCodes.InvalidEndPort, portPath + ".endPort", "endPort needs port to be set to the first port of the range.");
                    continue;
                }

                if (end is < 1 or > 65535)
                {
                    ctx.Error(DiagnosticCodes.InvalidEndPort, portPath + ".endPort", $"endPort {end} is outside 1-65535.");
                    continue;
                }

                if (end < number)
                {
                    ctx.Error(DiagnosticCodes.InvalidEndPort, portPath + ".endPort", $"endPort {end} is below port {number}; it must be greater than or equal to port.");
                    continue;
                }
            }

            modelPorts.Add(new NetworkPolicyPort { Protocol = protocol, Port = number, PortName = portName, EndPort = port.EndPort });
        }

        return new NetworkPolicyRule { Peers = [.. modelPeers], Ports = [.. modelPorts] };
    }

    private static IPBlock? ConvertIPBlock(V1IPBlock block, string path, DiagnosticContext ctx)
    {
        if (!TryParseCidr(block.Cidr, path + ".cidr", ctx, out var cidr))
        {
            return null;
        }

        var excepts = new List<IPNetwork>();
        var ok = true;
        for (var i = 0; i < (block.Except?.Count ?? 0); i++)
        {
            var exceptPath = $"{path}.except[{i}]";
            if (!TryParseCidr(block.Except![i], exceptPath, ctx, out var except))
            {
                ok = false;
                continue;
            }

            if (except.BaseAddress.AddressFamily != cidr.BaseAddress.AddressFamily ||
                except.PrefixLength <= cidr.PrefixLength || !cidr.Contains(except.BaseAddress))
            {
                ctx.Error(DiagnosticCodes.ExceptOutsideCidr, exceptPath, $"except '{block.Except[i]}' must be strictly inside cidr '{block.Cidr}' (same family, longer prefix).");
                ok = false;
                continue;
            }

            excepts.Add(except);
        }

        return ok ? new IPBlock(cidr, excepts) : null;
    }

    private static bool TryParseCidr(string? text, string path, DiagnosticContext ctx, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            ctx.Error(DiagnosticCodes.InvalidCidr, path, "a CIDR is required, for example 198.18.0.0/16 or fd00:198::/64.");
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || !IsCanonicalAddressText(text[..slash]) ||
            !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) ||
            prefix > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) || address.IsIPv4MappedToIPv6)
        {
            ctx.Error(DiagnosticCodes.InvalidCidr, path, $"'{text}' is not a valid CIDR; expected an address and a prefix length, for example 198.18.0.0/16 or fd00:198::/64.");
            return false;
        }

        network = new IPNetwork(ClearHostBits(address, prefix), prefix);
        if (!network.BaseAddress.Equals(address))
        {
            ctx.Warning(DiagnosticCodes.NonCanonicalCidr, path, $"'{text}' has host bits set; it is used as {network}.");
        }

        return true;
    }

    /// <summary>Rejects the leading-zero IPv4 forms (<c>010.1.1.1</c>) the API server rejects and .NET would read as octal-free decimal.</summary>
    private static bool IsCanonicalAddressText(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return true;
        }

        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0'));
    }

    internal static IPAddress ClearHostBits(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var i = 0; i < length; i++)
        {
            var bitsInByte = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsInByte));
        }

        return new IPAddress(bytes);
    }
}
