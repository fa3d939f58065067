using System.Globalization;
using k8s.Models;
using NetPolicy.Compiler;
using NetPolicy.Manifests.Yaml;

namespace NetPolicy.Manifests;

/// <summary>Maps the tree of one object to <c>k8s.Models</c> by hand (no reflection), reading only the fields policy needs
/// and recording where each one is. Fields of the wrong type become NP1204 errors and are left unset.</summary>
internal sealed class ObjectMapper
{
    private readonly string _file;
    private readonly ManifestSetBuilder _builder;
    private readonly FieldPaths _paths;
    private readonly bool _recordFields;
    private readonly bool _expandWorkloads;
    private readonly List<FieldLocation> _fields = [];

    // The object being mapped: diagnostics name it, and a workload's template fields are reported under their workload path.
    private string? _kind;
    private string? _objectName;
    private object? _owner;
    private string? _diagnosticPrefix;

    public ObjectMapper(string file, ManifestSetBuilder builder, ManifestReaderOptions options)
    {
        _file = file;
        _builder = builder;
        _paths = builder.Paths;
        _recordFields = options.RecordFieldLocations;
        _expandWorkloads = options.ExpandWorkloads;
    }

    /// <summary>Handles a document root (<paramref name="itemIndex"/> -1) or an item of a top-level list.</summary>
    public void Handle(YamlNode node, int itemIndex) =>
        HandleObject(node, itemIndex < 0 ? null : _paths.Item("items", itemIndex));

    private void HandleObject(YamlNode node, string? listPath)
    {
        Begin(null, null, null);
        if (node is YamlScalar { IsNull: true })
        {
            return;
        }

        if (node is not YamlMapping root)
        {
            Report(DiagnosticCodes.WrongFieldType, DiagnosticSeverity.Error, listPath, node,
                $"expected a Kubernetes object (a map with apiVersion, kind and metadata), found {node.Description}.");
            return;
        }

        YamlNode? kindNode = null, apiVersionNode = null, itemsNode = null;
        YamlMapping? metadata = null;
        foreach (var (key, value) in root.Entries)
        {
            switch (KeyOf(key))
            {
                case "kind": kindNode = value; break;
                case "apiVersion": apiVersionNode = value; break;
                case "metadata": metadata = value as YamlMapping; break;
                case "items": itemsNode = value; break;
            }
        }

        var name = TextOf(metadata?.Get("name"));
        var ns = TextOf(metadata?.Get("namespace"));
        var kind = TextOf(kindNode);
        var shortName = ns is null ? name ?? "<unnamed>" : $"{ns}/{name ?? "<unnamed>"}";
        if (kind is null)
        {
            Begin(null, name is null ? null : shortName, null);
            if (kindNode is YamlScalar { IsNull: false } or null)
            {
                Report(DiagnosticCodes.MissingKind, DiagnosticSeverity.Error, Combine(listPath, "kind"), root,
                    "the object has no kind; add kind and apiVersion (for example kind: Pod and apiVersion: v1). The object was skipped.");
            }
            else
            {
                Report(DiagnosticCodes.WrongFieldType, DiagnosticSeverity.Error, Combine(listPath, "kind"), kindNode,
                    $"kind must be a string, found {kindNode.Description}. The object was skipped.");
            }

            return;
        }

        if (kind.EndsWith("List", StringComparison.Ordinal))
        {
            HandleList(kind, itemsNode, listPath);
            return;
        }

        var objectName = kind == "Namespace" ? name ?? "<unnamed>" : $"{(string.IsNullOrEmpty(ns) ? "default" : ns)}/{name ?? "<unnamed>"}";
        if (apiVersionNode is null or YamlScalar { IsNull: true })
        {
            Begin(kind, objectName, null);
            Report(DiagnosticCodes.MissingKind, DiagnosticSeverity.Warning, "apiVersion", root,
                $"the object has no apiVersion; Kubernetes would reject it (add apiVersion: {ApiVersionOf(kind)}). It was read anyway.");
        }

        switch (kind)
        {
            case "Namespace":
                MapNamespace(root, objectName);
                break;
            case "Pod":
                MapPod(root, objectName);
                break;
            case "NetworkPolicy":
                MapPolicy(root, objectName);
                break;
            case "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "ReplicationController" or "Job" or "CronJob" when _expandWorkloads:
                MapWorkload(root, kind, objectName);
                break;
            default:
                Begin(kind, shortName, null);
                Report(DiagnosticCodes.SkippedKind, DiagnosticSeverity.Info, null, root,
                    $"kind {kind} does not take part in NetworkPolicy evaluation; skipped.");
                break;
        }
    }

    private void HandleList(string kind, YamlNode? itemsNode, string? listPath)
    {
        var itemsPath = Combine(listPath, "items");
        Begin(kind, null, null);
        switch (itemsNode)
        {
            case null or YamlScalar { IsNull: true }:
                return;
            case YamlSequence items:
                for (var i = 0; i < items.Items.Count; i++)
                {
                    HandleObject(items.Items[i], _paths.Item(itemsPath, i));
                }

                return;
            default:
                TypeError(itemsNode, itemsPath, "a list of objects");
                return;
        }
    }

    private void MapNamespace(YamlMapping root, string objectName)
    {
        var ns = new V1Namespace { ApiVersion = "v1", Kind = "Namespace" };
        Begin("Namespace", objectName, ns);
        foreach (var (key, value) in root.Entries)
        {
            if (KeyOf(key) == "metadata")
            {
                ns.Metadata = MapMetadata(value, At(string.Empty, "metadata", key, value), includeLabels: true);
            }
        }

        _builder.AddNamespace(ns, End(root));
    }

    private void MapPod(YamlMapping root, string objectName)
    {
        var pod = new V1Pod { ApiVersion = "v1", Kind = "Pod" };
        Begin("Pod", objectName, pod);
        foreach (var (key, value) in root.Entries)
        {
            switch (KeyOf(key))
            {
                case "metadata":
                    pod.Metadata = MapMetadata(value, At(string.Empty, "metadata", key, value), includeLabels: true);
                    break;
                case "spec":
                    pod.Spec = MapPodSpec(value, At(string.Empty, "spec", key, value));
                    break;
                case "status":
                    pod.Status = MapPodStatus(value, At(string.Empty, "status", key, value));
                    break;
            }
        }

        _builder.AddPod(pod, objectName, End(root), "Pod");
    }

    private void MapWorkload(YamlMapping root, string kind, string objectName)
    {
        var pod = new V1Pod { ApiVersion = "v1", Kind = "Pod" };
        Begin(kind, objectName, pod);
        V1ObjectMeta? metadata = null;
        YamlMapping? spec = null;
        foreach (var (key, value) in root.Entries)
        {
            switch (KeyOf(key))
            {
                case "metadata":
                    metadata = MapMetadata(value, At(string.Empty, "metadata", key, value), includeLabels: false);
                    break;
                case "spec":
                    spec = AsMapping(value, "spec");
                    break;
            }
        }

        // CronJob: spec.jobTemplate.spec.template; the others: spec.template.
        string templatePath;
        YamlNode? template;
        if (kind == "CronJob")
        {
            templatePath = "spec.jobTemplate.spec.template";
            var jobTemplate = spec?.Get("jobTemplate") is { } jt ? AsMapping(jt, "spec.jobTemplate") : null;
            var jobSpec = jobTemplate?.Get("spec") is { } js ? AsMapping(js, "spec.jobTemplate.spec") : null;
            template = jobSpec?.Get("template");
        }
        else
        {
            templatePath = "spec.template";
            template = spec?.Get("template");
        }

        var templateMapping = template is null ? null : AsMapping(template, templatePath);
        if (templateMapping is null)
        {
            if (template is null or YamlScalar { IsNull: true })
            {
                Report(DiagnosticCodes.MissingField, DiagnosticSeverity.Error, templatePath, root,
                    $"{templatePath} is required: the pod template gives the workload's pods their labels and ports. The workload was skipped.");
            }

            return;
        }

        pod.Metadata = metadata ?? new V1ObjectMeta();
        _diagnosticPrefix = templatePath;
        foreach (var (key, value) in templateMapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "metadata" when AsMapping(value, "metadata") is { } templateMetadata:
                    foreach (var (metaKey, metaValue) in templateMetadata.Entries)
                    {
                        if (KeyOf(metaKey) == "labels")
                        {
                            var labelsPath = At("metadata", "labels", metaKey, metaValue);
                            pod.Metadata.Labels = MapStringMap(metaValue, labelsPath);
                        }
                    }

                    break;
                case "spec":
                    pod.Spec = MapPodSpec(value, At(string.Empty, "spec", key, value));
                    break;
            }
        }

        _diagnosticPrefix = null;
        if (_builder.AddPod(pod, objectName, End(root), kind))
        {
            Report(DiagnosticCodes.WorkloadExpanded, DiagnosticSeverity.Info, null, root,
                $"read as pod {objectName} with the labels and container ports of its pod template; one pod stands for all replicas.");
        }
    }

    private V1ObjectMeta? MapMetadata(YamlNode node, string path, bool includeLabels)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var metadata = new V1ObjectMeta();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "name":
                    metadata.Name = ReadString(value, At(path, "name", key, value));
                    break;
                case "namespace":
                    metadata.NamespaceProperty = ReadString(value, At(path, "namespace", key, value));
                    break;
                case "labels" when includeLabels:
                    metadata.Labels = MapStringMap(value, At(path, "labels", key, value));
                    break;
            }
        }

        return metadata;
    }

    private V1PodSpec? MapPodSpec(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var spec = new V1PodSpec();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "containers":
                    spec.Containers = MapList(value, At(path, "containers", key, value), MapContainer);
                    break;
                case "initContainers":
                    spec.InitContainers = MapList(value, At(path, "initContainers", key, value), MapContainer);
                    break;
                case "hostNetwork":
                    spec.HostNetwork = ReadBool(value, At(path, "hostNetwork", key, value));
                    break;
                case "nodeName":
                    spec.NodeName = ReadString(value, At(path, "nodeName", key, value));
                    break;
            }
        }

        return spec;
    }

    private V1Container? MapContainer(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var container = new V1Container();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "name":
                    container.Name = ReadString(value, At(path, "name", key, value));
                    break;
                case "ports":
                    container.Ports = MapList(value, At(path, "ports", key, value), MapContainerPort);
                    break;
            }
        }

        return container;
    }

    private V1ContainerPort? MapContainerPort(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var port = new V1ContainerPort();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "name":
                    port.Name = ReadString(value, At(path, "name", key, value));
                    break;
                case "containerPort":
                    port.ContainerPort = ReadInt(value, At(path, "containerPort", key, value)) ?? 0;
                    break;
                case "protocol":
                    port.Protocol = ReadString(value, At(path, "protocol", key, value));
                    break;
            }
        }

        return port;
    }

    private V1PodStatus? MapPodStatus(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var status = new V1PodStatus();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "podIP":
                    status.PodIP = ReadString(value, At(path, "podIP", key, value));
                    break;
                case "podIPs":
                    status.PodIPs = MapList(value, At(path, "podIPs", key, value), MapPodIP);
                    break;
            }
        }

        return status;
    }

    private V1PodIP? MapPodIP(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var podIP = new V1PodIP();
        foreach (var (key, value) in mapping.Entries)
        {
            if (KeyOf(key) == "ip")
            {
                podIP.Ip = ReadString(value, At(path, "ip", key, value));
            }
        }

        return podIP;
    }

    private void MapPolicy(YamlMapping root, string objectName)
    {
        var policy = new V1NetworkPolicy { ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy" };
        Begin("NetworkPolicy", objectName, policy);
        foreach (var (key, value) in root.Entries)
        {
            switch (KeyOf(key))
            {
                case "metadata":
                    policy.Metadata = MapMetadata(value, At(string.Empty, "metadata", key, value), includeLabels: true);
                    break;
                case "spec":
                    policy.Spec = MapPolicySpec(value, At(string.Empty, "spec", key, value));
                    break;
            }
        }

        _builder.AddPolicy(policy, End(root));
    }

    private V1NetworkPolicySpec? MapPolicySpec(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var spec = new V1NetworkPolicySpec();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "podSelector":
                    spec.PodSelector = MapSelector(value, At(path, "podSelector", key, value));
                    break;
                case "policyTypes":
                    spec.PolicyTypes = MapList(value, At(path, "policyTypes", key, value), ReadString);
                    break;
                case "ingress":
                    spec.Ingress = MapList(value, At(path, "ingress", key, value), MapIngressRule);
                    break;
                case "egress":
                    spec.Egress = MapList(value, At(path, "egress", key, value), MapEgressRule);
                    break;
            }
        }

        return spec;
    }

    private V1NetworkPolicyIngressRule? MapIngressRule(YamlNode node, string path)
    {
        var rule = new V1NetworkPolicyIngressRule();
        if (node is YamlScalar { IsNull: true } || AsMapping(node, path) is not { } mapping)
        {
            // A null rule is the zero value in Kubernetes: it allows everything.
            return node is YamlScalar { IsNull: true } ? rule : null;
        }

        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "from":
                    rule.FromProperty = MapList(value, At(path, "from", key, value), MapPeer);
                    break;
                case "ports":
                    rule.Ports = MapList(value, At(path, "ports", key, value), MapPolicyPort);
                    break;
            }
        }

        return rule;
    }

    private V1NetworkPolicyEgressRule? MapEgressRule(YamlNode node, string path)
    {
        var rule = new V1NetworkPolicyEgressRule();
        if (node is YamlScalar { IsNull: true } || AsMapping(node, path) is not { } mapping)
        {
            return node is YamlScalar { IsNull: true } ? rule : null;
        }

        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "to":
                    rule.To = MapList(value, At(path, "to", key, value), MapPeer);
                    break;
                case "ports":
                    rule.Ports = MapList(value, At(path, "ports", key, value), MapPolicyPort);
                    break;
            }
        }

        return rule;
    }

    private V1NetworkPolicyPeer? MapPeer(YamlNode node, string path)
    {
        // A null peer is an empty peer in Kubernetes, which the validator rejects with a clear message.
        var peer = new V1NetworkPolicyPeer();
        if (node is YamlScalar { IsNull: true } || AsMapping(node, path) is not { } mapping)
        {
            return node is YamlScalar { IsNull: true } ? peer : null;
        }

        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "podSelector":
                    peer.PodSelector = MapSelector(value, At(path, "podSelector", key, value));
                    break;
                case "namespaceSelector":
                    peer.NamespaceSelector = MapSelector(value, At(path, "namespaceSelector", key, value));
                    break;
                case "ipBlock":
                    peer.IpBlock = MapIPBlock(value, At(path, "ipBlock", key, value));
                    break;
            }
        }

        return peer;
    }

    private V1IPBlock? MapIPBlock(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var block = new V1IPBlock();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "cidr":
                    block.Cidr = ReadString(value, At(path, "cidr", key, value));
                    break;
                case "except":
                    block.Except = MapList(value, At(path, "except", key, value), ReadString);
                    break;
            }
        }

        return block;
    }

    private V1NetworkPolicyPort? MapPolicyPort(YamlNode node, string path)
    {
        var port = new V1NetworkPolicyPort();
        if (node is YamlScalar { IsNull: true } || AsMapping(node, path) is not { } mapping)
        {
            return node is YamlScalar { IsNull: true } ? port : null;
        }

        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "protocol":
                    port.Protocol = ReadString(value, At(path, "protocol", key, value));
                    break;
                case "port":
                    port.Port = ReadIntOrString(value, At(path, "port", key, value));
                    break;
                case "endPort":
                    port.EndPort = ReadInt(value, At(path, "endPort", key, value));
                    break;
            }
        }

        return port;
    }

    private V1LabelSelector? MapSelector(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var selector = new V1LabelSelector();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "matchLabels":
                    selector.MatchLabels = MapStringMap(value, At(path, "matchLabels", key, value));
                    break;
                case "matchExpressions":
                    selector.MatchExpressions = MapList(value, At(path, "matchExpressions", key, value), MapRequirement);
                    break;
            }
        }

        return selector;
    }

    private V1LabelSelectorRequirement? MapRequirement(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var requirement = new V1LabelSelectorRequirement();
        foreach (var (key, value) in mapping.Entries)
        {
            switch (KeyOf(key))
            {
                case "key":
                    requirement.Key = ReadString(value, At(path, "key", key, value));
                    break;
                case "operator":
                    requirement.OperatorProperty = ReadString(value, At(path, "operator", key, value));
                    break;
                case "values":
                    requirement.Values = MapList(value, At(path, "values", key, value), ReadString);
                    break;
            }
        }

        return requirement;
    }

    /// <summary>Maps a list, skipping items of the wrong type (reported by <paramref name="map"/>).</summary>
    private List<T>? MapList<T>(YamlNode node, string path, Func<YamlNode, string, T?> map)
    {
        if (node is YamlScalar { IsNull: true })
        {
            return null;
        }

        if (node is not YamlSequence sequence)
        {
            TypeError(node, path, "a list");
            return null;
        }

        var list = new List<T>(sequence.Items.Count);
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var item = sequence.Items[i];
            var itemPath = _paths.Item(path, i);
            Record(itemPath, item);
            if (map(item, itemPath) is { } mapped)
            {
                list.Add(mapped);
            }
        }

        return list;
    }

    /// <summary>Reads a map of strings (labels, matchLabels). Scalars are taken as their text, as label values are strings; null is empty.</summary>
    private Dictionary<string, string>? MapStringMap(YamlNode node, string path)
    {
        if (AsMapping(node, path) is not { } mapping)
        {
            return null;
        }

        var map = new Dictionary<string, string>(mapping.Entries.Count, StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Entries)
        {
            if (key is not YamlScalar { IsNull: false } keyScalar)
            {
                TypeError(key, path, "a string key");
                continue;
            }

            var entryPath = At(path, keyScalar.Value, key, value);
            if (value is YamlScalar scalar)
            {
                map[keyScalar.Value] = scalar.IsNull ? string.Empty : scalar.Value;
            }
            else
            {
                TypeError(value, entryPath, "a string");
            }
        }

        return map;
    }

    private string? ReadString(YamlNode node, string path)
    {
        if (node is YamlScalar scalar)
        {
            return scalar.IsNull ? null : scalar.Value;
        }

        TypeError(node, path, "a string");
        return null;
    }

    private int? ReadInt(YamlNode node, string path)
    {
        if (node is YamlScalar { IsNull: true })
        {
            return null;
        }

        if (node is YamlScalar { IsPlain: true } scalar && TryParseInt(scalar.Value, out var value))
        {
            return value;
        }

        TypeError(node, path, "an integer");
        return null;
    }

    private bool? ReadBool(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlScalar { IsNull: true }:
                return null;
            case YamlScalar { IsPlain: true, Value: "true" or "True" or "TRUE" }:
                return true;
            case YamlScalar { IsPlain: true, Value: "false" or "False" or "FALSE" }:
                return false;
            default:
                TypeError(node, path, "true or false");
                return null;
        }
    }

    private IntOrString? ReadIntOrString(YamlNode node, string path)
    {
        if (node is not YamlScalar scalar)
        {
            TypeError(node, path, "a port number or name");
            return null;
        }

        if (scalar.IsNull)
        {
            return null;
        }

        return scalar.IsPlain && TryParseInt(scalar.Value, out var number) ? (IntOrString)number : (IntOrString)scalar.Value;
    }

    private static bool TryParseInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private YamlMapping? AsMapping(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMapping mapping:
                return mapping;
            case YamlScalar { IsNull: true }:
                return null;
            default:
                TypeError(node, path, "a map");
                return null;
        }
    }

    private static string? KeyOf(YamlNode key) => key is YamlScalar scalar ? scalar.Value : null;

    private static string? TextOf(YamlNode? node) => node is YamlScalar { IsNull: false } scalar ? scalar.Value : null;

    private static string Combine(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

    private static string ApiVersionOf(string kind) => kind switch
    {
        "NetworkPolicy" => "networking.k8s.io/v1",
        "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" => "apps/v1",
        "Job" or "CronJob" => "batch/v1",
        _ => "v1",
    };

    /// <summary>Returns the path of a field and records its location: the value's for a scalar, the key's otherwise.</summary>
    private string At(string parent, string name, YamlNode key, YamlNode value)
    {
        var path = _paths.Child(parent, name);
        Record(path, value is YamlScalar { IsNull: false } ? value : key);
        return path;
    }

    private void Record(string path, YamlNode node)
    {
        if (_recordFields)
        {
            _fields.Add(new FieldLocation(path, node.Line, node.Column));
        }
    }

    private void Begin(string? kind, string? objectName, object? owner)
    {
        _kind = kind;
        _objectName = objectName;
        _owner = owner;
        _diagnosticPrefix = null;
        _fields.Clear();
    }

    private CompactSource End(YamlNode root)
    {
        var source = new CompactSource(_file, root.Line, root.Column, _fields.Count == 0 ? [] : [.. _fields]);
        _fields.Clear();
        return source;
    }

    private void TypeError(YamlNode node, string path, string expected)
    {
        Report(DiagnosticCodes.WrongFieldType, DiagnosticSeverity.Error, path, node,
            $"expected {expected}, found {node.Description}; the field was ignored.");
        if (_owner is not null)
        {
            _builder.MarkInvalid(_owner);
        }
    }

    private void Report(string code, DiagnosticSeverity severity, string? fieldPath, YamlNode at, string message)
    {
        if (_diagnosticPrefix is not null && fieldPath is not null)
        {
            fieldPath = $"{_diagnosticPrefix}.{fieldPath}";
        }

        _builder.AddDiagnostic(
            new PolicyDiagnostic
            {
                Code = code,
                Severity = severity,
                Message = message,
                ObjectKind = _kind,
                ObjectName = _objectName,
                FieldPath = fieldPath,
                Location = new SourceLocation(_file, at.Line, at.Column),
            },
            _owner);
    }
}
