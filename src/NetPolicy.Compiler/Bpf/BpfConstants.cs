namespace NetPolicy.Compiler.Bpf;

/// <summary>The constants of the datapath header <c>bpf-templates/include/netpolicy_maps.h</c> (every <c>#define</c>),
/// its map and program names, and the IP protocol numbers its keys use.</summary>
/// <remarks>The header is the single source of truth; a test pins these values against it.</remarks>
public static class BpfConstants
{
    /// <summary><c>NP_ABI_VERSION</c>: the layout version of every map key and value.</summary>
    public const uint AbiVersion = 1;

    /// <summary><c>NP_DIR_INGRESS</c>: traffic entering the pod (its ingress policy; the remote is the source).</summary>
    public const byte DirectionIngress = 0;

    /// <summary><c>NP_DIR_EGRESS</c>: traffic leaving the pod (its egress policy; the remote is the destination).</summary>
    public const byte DirectionEgress = 1;

    /// <summary><c>NP_MODE_CONNTRACK</c>: a flow allowed once passes until it closes or expires (the default).</summary>
    public const uint ModeConntrack = 0;

    /// <summary><c>NP_MODE_STRICT</c>: every forward packet of an established flow is re-checked.</summary>
    public const uint ModeStrict = 1;

    /// <summary><c>NP_REMOTE_ANY</c>: the policy-key remote of a rule without peers.</summary>
    public const uint RemoteAny = 0;

    /// <summary><c>NP_IDENTITY_HOST</c>: the node hosting the pod.</summary>
    public const uint IdentityHost = 1;

    /// <summary><c>NP_IDENTITY_WORLD</c>: any address that is not a pod.</summary>
    public const uint IdentityWorld = 2;

    /// <summary><c>NP_FIRST_ADDRESS_CLASS</c>: address classes are numbered from 2^24.</summary>
    public const uint FirstAddressClass = 1u << 24;

    /// <summary><c>NP_RULE_NONE</c>: no rule; allowed because the direction is not isolated.</summary>
    public const uint RuleNone = 0;

    /// <summary><c>NP_RULE_DEFAULT_DENY</c>: dropped; the endpoint is isolated and no rule allows the flow.</summary>
    public const uint RuleDefaultDeny = 0xFFFFFFFF;

    /// <summary><c>NP_RULE_NOT_PROGRAMMED</c>: dropped; the endpoint has no entry in <c>np_endpoints</c>.</summary>
    public const uint RuleNotProgrammed = 0xFFFFFFFE;

    /// <summary><c>NP_RULE_HOST</c>: allowed; node-local traffic to the pod.</summary>
    public const uint RuleHost = 0xFFFFFFFD;

    /// <summary><c>NP_RULE_SPOOFED</c>: dropped because the pod sent from an address that is not its own.</summary>
    public const uint RuleSpoofed = 0xFFFFFFFC;

    /// <summary><c>NP_EP_PRESENT</c>: the endpoint entry is programmed; an absent endpoint fails closed.</summary>
    public const uint EndpointPresent = 0x1;

    /// <summary><c>NP_EP_INGRESS_ISOLATED</c>: the ingress rule set is enforced.</summary>
    public const uint EndpointIngressIsolated = 0x2;

    /// <summary><c>NP_EP_EGRESS_ISOLATED</c>: the egress rule set is enforced.</summary>
    public const uint EndpointEgressIsolated = 0x4;

    /// <summary><c>NP_RS_PRESENT</c>: the rule-set entry is programmed.</summary>
    public const uint RuleSetPresent = 0x1;

    /// <summary><c>NP_RS_REMOTE_IDENTITY</c>: some entry has a pod, host or world identity as remote.</summary>
    public const uint RuleSetRemoteIdentity = 0x2;

    /// <summary><c>NP_RS_REMOTE_CLASS</c>: some entry has an address class as remote.</summary>
    public const uint RuleSetRemoteClass = 0x4;

    /// <summary><c>NP_RS_REMOTE_ANY</c>: some entry has <see cref="RemoteAny"/> as remote.</summary>
    public const uint RuleSetRemoteAny = 0x8;

    /// <summary><c>NP_RS_ANY_PROTOCOL</c>: some entry matches every protocol (protocol 0, prefix length 0, port 0).</summary>
    public const uint RuleSetAnyProtocol = 0x10;

    /// <summary><c>NP_ACTION_ALLOW</c>: the only action of <c>np_policy_value</c> today.</summary>
    public const byte ActionAllow = 1;

    /// <summary><c>NP_VERDICT_ALLOW</c>.</summary>
    public const byte VerdictAllow = 0;

    /// <summary><c>NP_VERDICT_DROP</c>.</summary>
    public const byte VerdictDrop = 1;

    /// <summary><c>NP_REASON_POLICY</c>: allowed by the event's rule id.</summary>
    public const ushort ReasonPolicy = 0;

    /// <summary><c>NP_REASON_NOT_ISOLATED</c>: allowed; the direction is not isolated.</summary>
    public const ushort ReasonNotIsolated = 1;

    /// <summary><c>NP_REASON_HOST</c>: allowed; node-local traffic.</summary>
    public const ushort ReasonHost = 2;

    /// <summary><c>NP_REASON_DEFAULT_DENY</c>: dropped; isolated and no rule matched.</summary>
    public const ushort ReasonDefaultDeny = 16;

    /// <summary><c>NP_REASON_NOT_PROGRAMMED</c>: dropped; the endpoint has no <c>np_endpoints</c> entry.</summary>
    public const ushort ReasonNotProgrammed = 17;

    /// <summary><c>NP_REASON_REVOKED</c>: dropped (strict mode); an established flow is no longer allowed.</summary>
    public const ushort ReasonRevoked = 18;

    /// <summary><c>NP_REASON_SPOOFED</c>: dropped because the source address is not one of the sending pod's.</summary>
    public const ushort ReasonSpoofed = 19;

    /// <summary><c>NP_STAT_ALLOWED</c>: index of the allowed-packets counter in <c>np_stats</c>.</summary>
    public const uint StatAllowed = 0;

    /// <summary><c>NP_STAT_DROPPED</c>: index of the dropped-packets counter.</summary>
    public const uint StatDropped = 1;

    /// <summary><c>NP_STAT_EVENTS_LOST</c>: index of the counter of events the ring buffer had no room for.</summary>
    public const uint StatEventsLost = 2;

    /// <summary><c>NP_STAT_NON_IP</c>: index of the counter of packets passed unpoliced (non-IP, neighbour discovery).</summary>
    public const uint StatNonIP = 3;

    /// <summary><c>NP_STAT_COUNT</c>: the number of counters (<c>np_stats</c> max_entries).</summary>
    public const uint StatCount = 4;

    /// <summary><c>NP_CFG_EMIT_ALLOW</c>: also emit an event for every newly allowed flow.</summary>
    public const uint ConfigEmitAllow = 0x1;

    /// <summary><c>NP_CFG_FAIL_OPEN</c>: let traffic of an endpoint without <c>np_endpoints</c> entry pass.</summary>
    public const uint ConfigFailOpen = 0x2;

    /// <summary><c>NP_CFG_POLICE_HOST</c>: police node-local traffic like any other.</summary>
    public const uint ConfigPoliceHost = 0x4;

    /// <summary><c>IPPROTO_TCP</c>.</summary>
    public const byte ProtocolTcp = 6;

    /// <summary><c>IPPROTO_UDP</c>.</summary>
    public const byte ProtocolUdp = 17;

    /// <summary><c>IPPROTO_SCTP</c>.</summary>
    public const byte ProtocolSctp = 132;

    /// <summary>The protocol of a policy key that matches every protocol.</summary>
    public const byte ProtocolAny = 0;

    /// <summary>The most aligned blocks one port range splits into (<c>[1, 65534]</c> needs 30).</summary>
    public const int MaxPortBlocks = 30;

    /// <summary>The hash map of exact pod addresses (<c>BPF_MAP_TYPE_HASH</c>).</summary>
    public const string IPCacheHostMapName = "np_ipcache_host";

    /// <summary>The longest-prefix-match map of every other prefix (<c>BPF_MAP_TYPE_LPM_TRIE</c>).</summary>
    public const string IPCacheLpmMapName = "np_ipcache_lpm";

    /// <summary>The endpoint array, indexed by endpoint id (<c>BPF_MAP_TYPE_ARRAY</c>).</summary>
    public const string EndpointsMapName = "np_endpoints";

    /// <summary>The rule-set array, indexed by rule-set id (<c>BPF_MAP_TYPE_ARRAY</c>).</summary>
    public const string RuleSetsMapName = "np_rulesets";

    /// <summary>The policy hash map (<c>BPF_MAP_TYPE_HASH</c>).</summary>
    public const string PolicyMapName = "np_policy";

    /// <summary>The connection-tracking map (<c>BPF_MAP_TYPE_LRU_HASH</c>), filled by the datapath.</summary>
    public const string ConntrackMapName = "np_conntrack";

    /// <summary>The event ring buffer (<c>BPF_MAP_TYPE_RINGBUF</c>).</summary>
    public const string EventsMapName = "np_events";

    /// <summary>The per-CPU counters (<c>BPF_MAP_TYPE_PERCPU_ARRAY</c>).</summary>
    public const string StatsMapName = "np_stats";

    /// <summary>The program attached at tc ingress of the host-side veth: packets the pod sends (its egress policy).</summary>
    public const string FromPodProgramName = "np_from_pod";

    /// <summary>The program attached at tc egress of the host-side veth: packets the pod receives (its ingress policy).</summary>
    public const string ToPodProgramName = "np_to_pod";

    /// <summary>The <c>.rodata</c> variable holding <see cref="BpfConfig"/>.</summary>
    public const string ConfigVariableName = "NP_CONFIG";
}
