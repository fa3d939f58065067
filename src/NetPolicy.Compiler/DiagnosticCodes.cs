namespace NetPolicy.Compiler;

/// <summary>The stable diagnostic codes. Codes are never renumbered or reused.</summary>
/// <remarks>NP10xx: validation errors the API server would reject. NP11xx: defaulting and informational notes.
/// NP12xx: manifest reading. NP13xx: compilation limits and artifact rendering (BPF map images).</remarks>
public static class DiagnosticCodes
{
    /// <summary>An object name or namespace is missing or not a valid DNS name.</summary>
    public const string InvalidName = "NP1001";

    /// <summary>A label key (in metadata or a selector) is not a valid qualified name.</summary>
    public const string InvalidLabelKey = "NP1002";

    /// <summary>A label value (in metadata or a selector) is not a valid label value.</summary>
    public const string InvalidLabelValue = "NP1003";

    /// <summary>A selector requirement has an unknown operator.</summary>
    public const string InvalidSelectorOperator = "NP1004";

    /// <summary>A selector requirement's values do not fit its operator (In/NotIn need values; Exists/DoesNotExist take none).</summary>
    public const string InvalidSelectorValues = "NP1005";

    /// <summary>An ipBlock CIDR or except entry is not a valid CIDR.</summary>
    public const string InvalidCidr = "NP1006";

    /// <summary>An ipBlock except entry is not strictly inside the block's CIDR.</summary>
    public const string ExceptOutsideCidr = "NP1007";

    /// <summary>A port number is outside 1–65535.</summary>
    public const string InvalidPort = "NP1008";

    /// <summary>A port name is not a valid IANA service name.</summary>
    public const string InvalidPortName = "NP1009";

    /// <summary>An endPort is out of range, below port, or used without a numeric port.</summary>
    public const string InvalidEndPort = "NP1010";

    /// <summary>A protocol is not TCP, UDP or SCTP.</summary>
    public const string InvalidProtocol = "NP1011";

    /// <summary>A peer combines ipBlock with a pod or namespace selector.</summary>
    public const string PeerConflict = "NP1012";

    /// <summary>A peer specifies none of podSelector, namespaceSelector and ipBlock.</summary>
    public const string EmptyPeer = "NP1013";

    /// <summary>A policyTypes entry is not Ingress or Egress, or is repeated.</summary>
    public const string InvalidPolicyType = "NP1014";

    /// <summary>A pod IP in status is not a valid address.</summary>
    public const string InvalidPodIP = "NP1015";

    /// <summary>A container port has an invalid number, protocol or a name used twice.</summary>
    public const string InvalidContainerPort = "NP1016";

    /// <summary>Two objects of one kind share a namespace and name.</summary>
    public const string DuplicateObject = "NP1017";

    /// <summary>A required field is missing (for example spec.podSelector).</summary>
    public const string MissingField = "NP1018";

    /// <summary>An object without metadata.namespace was placed in the <c>default</c> namespace.</summary>
    public const string NamespaceDefaulted = "NP1101";

    /// <summary>A namespace used by pods or policies was not declared and has been created.</summary>
    public const string ImplicitNamespace = "NP1102";

    /// <summary>A pod had no IPs in status; addresses were assigned from the configured pool.</summary>
    public const string AddressAssigned = "NP1103";

    /// <summary>A CIDR has host bits set; it is used with them cleared.</summary>
    public const string NonCanonicalCidr = "NP1104";

    /// <summary>An invalid object was dropped because invalid objects are skipped.</summary>
    public const string DroppedInvalidObject = "NP1105";

    /// <summary>The pod address pool has no free address left.</summary>
    public const string AddressPoolExhausted = "NP1106";

    /// <summary>Two pods claim the same IP.</summary>
    public const string DuplicatePodIP = "NP1107";

    /// <summary>The input is not well-formed YAML or JSON.</summary>
    public const string SyntaxError = "NP1201";

    /// <summary>An object kind that policy does not depend on was skipped.</summary>
    public const string SkippedKind = "NP1202";

    /// <summary>A document has no kind or apiVersion.</summary>
    public const string MissingKind = "NP1203";

    /// <summary>A field has the wrong type (for example a list where a map is expected).</summary>
    public const string WrongFieldType = "NP1204";

    /// <summary>An input path could not be read.</summary>
    public const string UnreadableInput = "NP1205";

    /// <summary>A workload (Deployment, StatefulSet, ...) was turned into one pod from its pod template.</summary>
    public const string WorkloadExpanded = "NP1206";

    /// <summary>A BPF map image would hold more entries than the map's capacity; no images are produced (the
    /// datapath keeps its current maps). The message names the map, its capacity, the count and the
    /// <c>BpfRenderOptions</c> property to raise.</summary>
    public const string BpfMapOverflow = "NP1301";

    /// <summary>A rule-set id is not below <c>BpfRenderOptions.MaxRuleSets</c>, so it has no <c>np_rulesets</c> slot.</summary>
    public const string BpfRuleSetIdOutOfRange = "NP1302";

    /// <summary>An endpoint id is not below <c>BpfRenderOptions.MaxEndpoints</c>, so it has no <c>np_endpoints</c> slot.</summary>
    public const string BpfEndpointIdOutOfRange = "NP1303";

    /// <summary>A compiled rule has an action, tier or priority the BPF datapath cannot express yet (only
    /// NetworkPolicy-tier Allow rules with priority 0–65535).</summary>
    public const string BpfUnsupportedRule = "NP1304";

    /// <summary>A node address given to the BPF renderer is also a pod IP; the ipcache entry says host, so policies
    /// no longer see the pod's identity at that address (host-network pods).</summary>
    public const string BpfHostAddressIsPodAddress = "NP1305";
}
