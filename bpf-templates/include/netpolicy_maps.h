/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * netpolicy_maps.h: the layouts of every map key and value of the NetPolicy datapath, and its constants.
 *
 * This header is the single source of truth. NetPolicy.Compiler (namespace NetPolicy.Compiler.Bpf) mirrors each
 * struct with [StructLayout(LayoutKind.Sequential)] and a test compares sizes and member offsets with the BTF of the
 * compiled object. Change a layout here and NP_ABI_VERSION together, rebuild with ./build.sh, and update the mirrors.
 *
 * Byte order: every multi-byte field is in host byte order, ports included, except the address arrays, which hold
 * addresses in network byte order. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), so one map serves both
 * families; an IPv4 prefix of length n is stored with prefix length 96 + n.
 */
#ifndef NETPOLICY_MAPS_H
#define NETPOLICY_MAPS_H

#include <linux/types.h>

#define NP_ABI_VERSION 1

/* Policy direction, as seen from the endpoint the program serves. */
#define NP_DIR_INGRESS 0 /* traffic entering the pod: its ingress policy; remote = source address */
#define NP_DIR_EGRESS 1  /* traffic leaving the pod: its egress policy; remote = destination address */

/* Enforcement modes (struct np_config.mode). */
#define NP_MODE_CONNTRACK 0 /* default: a flow allowed once passes until it closes or expires, as with netfilter conntrack */
#define NP_MODE_STRICT 1    /* every forward packet of an established flow is re-checked; a revoked flow is cut */

/* Identifiers (see NetPolicy.Compiler.Identities.ReservedIdentities). */
#define NP_REMOTE_ANY 0           /* policy key remote: any peer (a rule without from/to) */
#define NP_IDENTITY_HOST 1        /* the node hosting the pod */
#define NP_IDENTITY_WORLD 2       /* any address that is not a pod */
#define NP_FIRST_ADDRESS_CLASS (1u << 24)

/* Special rule ids carried in events and conntrack entries instead of a policy rule id. */
#define NP_RULE_NONE 0u                  /* no rule: allowed because the direction is not isolated */
#define NP_RULE_DEFAULT_DENY 0xFFFFFFFFu /* dropped: the endpoint is isolated and no rule allows the flow */
#define NP_RULE_NOT_PROGRAMMED 0xFFFFFFFEu /* dropped: the endpoint has no entry in np_endpoints (fails closed) */
#define NP_RULE_HOST 0xFFFFFFFDu         /* allowed: node-local traffic to the pod (kubelet probes) */
#define NP_RULE_SPOOFED 0xFFFFFFFCu      /* dropped: the pod sent from an address that is not its own */

/* ---- np_ipcache_host: BPF_MAP_TYPE_HASH, exact /32 and /128 entries (pod IPs). Looked up first. ---- */
struct np_ipcache_host_key {
	__u8 addr[16];
};

/* ---- np_ipcache_lpm: BPF_MAP_TYPE_LPM_TRIE (BPF_F_NO_PREALLOC), every other prefix. ---- */
struct np_ipcache_lpm_key {
	__u32 prefixlen; /* 0..128; IPv4 prefixes are 96 + n */
	__u8 addr[16];
};

/* Value of both ipcache maps. */
struct np_ipcache_value {
	__u32 identity;   /* security identity: a pod identity, NP_IDENTITY_HOST or NP_IDENTITY_WORLD */
	__u32 addr_class; /* address class (>= NP_FIRST_ADDRESS_CLASS): which ipBlocks cover the address */
};

/* ---- np_endpoints: BPF_MAP_TYPE_ARRAY indexed by endpoint id (the program's np_config.endpoint). ---- */
#define NP_EP_PRESENT 0x1          /* the entry is programmed; an absent endpoint fails closed */
#define NP_EP_INGRESS_ISOLATED 0x2 /* ingress_ruleset is enforced */
#define NP_EP_EGRESS_ISOLATED 0x4  /* egress_ruleset is enforced */
struct np_endpoint_value {
	__u32 identity;
	__u32 ingress_ruleset;
	__u32 egress_ruleset;
	__u32 flags; /* NP_EP_* */
};

/* ---- np_rulesets: BPF_MAP_TYPE_ARRAY indexed by rule-set id: which policy lookups can hit. ---- */
#define NP_RS_PRESENT 0x1
#define NP_RS_REMOTE_IDENTITY 0x2 /* some entry has a pod/host/world identity as remote */
#define NP_RS_REMOTE_CLASS 0x4    /* some entry has an address class as remote */
#define NP_RS_REMOTE_ANY 0x8      /* some entry has NP_REMOTE_ANY as remote */
#define NP_RS_ANY_PROTOCOL 0x10   /* some entry matches every protocol (proto 0, plen 0, port 0) */
struct np_ruleset_value {
	__u32 flags; /* NP_RS_* */
	/* Bit p (0..16) is set when some entry of the protocol has port prefix length p. */
	__u32 tcp_plens;
	__u32 udp_plens;
	__u32 sctp_plens;
};

/* ---- np_policy: BPF_MAP_TYPE_HASH. A flow matches when any of its keys is present.
 * Port ranges are stored as prefix-masked ports: [first, last] splits into at most 30 aligned blocks, each an entry
 * whose port holds the block's first port and plen its prefix length (16 = one port, 0 = every port). ---- */
struct np_policy_key {
	__u32 ruleset;  /* rule-set id */
	__u32 remote;   /* remote identity, address class, or NP_REMOTE_ANY */
	__u16 port;     /* destination port masked to plen bits; 0 when plen is 0 */
	__u8 proto;     /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, or 0 for every protocol */
	__u8 plen;      /* port prefix length, 0..16 */
	__u8 direction; /* NP_DIR_*, equal to the rule set's direction */
	__u8 pad[3];    /* zero */
};

#define NP_ACTION_ALLOW 1
struct np_policy_value {
	__u32 rule_id; /* attribution: the compiler's rule id table maps it to the policies and rules that allowed it */
	__u8 action;   /* NP_ACTION_ALLOW */
	__u8 tier;     /* 1 = NetworkPolicy */
	__u16 priority;
};

/* ---- np_conntrack: BPF_MAP_TYPE_LRU_HASH. One entry per (flow, endpoint, direction) the endpoint allowed. ---- */
struct np_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 endpoint;
	__u8 proto;
	__u8 direction; /* NP_DIR_* of the program that created the entry */
	__u8 pad[2];
};

struct np_ct_value {
	__u64 last_seen_ns; /* bpf_ktime_get_ns(), refreshed at most once a second */
	__u32 rule_id;      /* the rule that allowed the first packet */
	__u32 flags;        /* reserved, zero */
};

/* ---- np_events: BPF_MAP_TYPE_RINGBUF of struct np_event. ---- */
#define NP_VERDICT_ALLOW 0
#define NP_VERDICT_DROP 1

#define NP_REASON_POLICY 0         /* allowed by rule_id */
#define NP_REASON_NOT_ISOLATED 1   /* allowed: the direction is not isolated */
#define NP_REASON_HOST 2           /* allowed: node-local traffic */
#define NP_REASON_DEFAULT_DENY 16  /* dropped: isolated and no rule matched */
#define NP_REASON_NOT_PROGRAMMED 17 /* dropped: the endpoint has no np_endpoints entry */
#define NP_REASON_REVOKED 18       /* dropped (strict mode): an established flow is no longer allowed */
#define NP_REASON_SPOOFED 19       /* dropped: the source address is not one of the sending pod's (np_ipcache_host) */

struct np_event {
	__u64 timestamp_ns;
	__u32 endpoint;
	__u32 local_identity;
	__u32 remote_identity;
	__u32 remote_class;
	__u32 rule_id;    /* NP_RULE_* or a policy rule id */
	__u16 reason;     /* NP_REASON_* */
	__u8 verdict;     /* NP_VERDICT_* */
	__u8 direction;   /* NP_DIR_* */
	__u8 family;      /* 4 or 6 */
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* np_event only travels through the ring buffer, so it has no BTF in the object: pin its layout here. */
_Static_assert(sizeof(struct np_event) == 72, "struct np_event layout");
_Static_assert(__builtin_offsetof(struct np_event, rule_id) == 24, "struct np_event layout");
_Static_assert(__builtin_offsetof(struct np_event, sport) == 34, "struct np_event layout");
_Static_assert(__builtin_offsetof(struct np_event, saddr) == 40, "struct np_event layout");
_Static_assert(__builtin_offsetof(struct np_event, daddr) == 56, "struct np_event layout");

/* ---- np_stats: BPF_MAP_TYPE_PERCPU_ARRAY of __u64 counters. ---- */
#define NP_STAT_ALLOWED 0
#define NP_STAT_DROPPED 1
#define NP_STAT_EVENTS_LOST 2
#define NP_STAT_NON_IP 3
#define NP_STAT_COUNT 4

/* ---- Per-endpoint template constants, in .rodata (set before load; one object serves every endpoint). ---- */
#define NP_CFG_EMIT_ALLOW 0x1 /* also emit an event for every newly allowed flow */
#define NP_CFG_FAIL_OPEN 0x2  /* let traffic of an endpoint without np_endpoints entry pass instead of dropping it */
#define NP_CFG_POLICE_HOST 0x4 /* police node-local traffic (identity NP_IDENTITY_HOST) like any other */
struct np_config {
	__u32 endpoint; /* index into np_endpoints */
	__u32 mode;     /* NP_MODE_* */
	__u32 flags;    /* NP_CFG_* */
	__u32 abi;      /* NP_ABI_VERSION, checked by the loader */
};

#endif /* NETPOLICY_MAPS_H */
