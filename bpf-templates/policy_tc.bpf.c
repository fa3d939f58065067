// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * policy_tc.bpf.c: the NetPolicy datapath. Two tc programs per endpoint, attached at the host side of the pod's veth:
 *   np_from_pod  tc ingress of the host veth = packets the pod sends    = the pod's egress policy
 *   np_to_pod    tc egress of the host veth  = packets the pod receives = the pod's ingress policy
 * A connection between two pods passes only when the source's egress and the destination's ingress allow it.
 * Per-endpoint constants live in .rodata (struct np_config), so one object serves every endpoint; every map is shared
 * between the endpoints of a node (the loader reuses the map file descriptors).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "include/netpolicy_maps.h"

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

#define NP_PASS TC_ACT_UNSPEC /* let later programs (tcx chain, tc filters) see the packet */
#define NP_DROP TC_ACT_SHOT

#define NP_CT_REFRESH_NS 1000000000ull
#define NP_CT_TCP_LIFETIME_NS (6ull * 3600 * 1000000000ull)
#define NP_CT_OTHER_LIFETIME_NS (60ull * 1000000000ull)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct np_config NP_CONFIG = { .abi = NP_ABI_VERSION };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct np_ipcache_host_key);
	__type(value, struct np_ipcache_value);
} np_ipcache_host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct np_ipcache_lpm_key);
	__type(value, struct np_ipcache_value);
} np_ipcache_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct np_endpoint_value);
} np_endpoints SEC(".maps");

/* Indexed by rule-set id; ids are numbered over the whole cluster (about 66,000 at 100k pods), whichever pods are local. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct np_ruleset_value);
} np_rulesets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct np_policy_key);
	__type(value, struct np_policy_value);
} np_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct np_ct_key);
	__type(value, struct np_ct_value);
} np_conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} np_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} np_stats SEC(".maps");

/* The parsed packet. Addresses are IPv4-mapped for IPv4; ports in host order. */
struct np_flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;
	__u8 pad;
};

#define NP_PARSE_OK 0
#define NP_PARSE_PASS 1 /* not policed: non-IP, IPv6 neighbour discovery */
#define NP_PARSE_DROP 2 /* truncated IP header */

#define NP_TCP_SYN 0x02
#define NP_TCP_ACK 0x10

static __always_inline void np_count(__u32 stat)
{
	__u64 *value = bpf_map_lookup_elem(&np_stats, &stat);
	if (value)
		*value += 1;
}

static __always_inline void np_map_v4(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

static __always_inline int np_is_v4_mapped(const __u8 *addr)
{
	const __u32 *words = (const __u32 *)addr;

	return words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0x0000ffff);
}

static __always_inline int np_load_ports(struct __sk_buff *skb, __u32 offset, struct np_flow *flow)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 ports[2];
	__u8 flags;

	if (flow->proto != IPPROTO_TCP && flow->proto != IPPROTO_UDP && flow->proto != IPPROTO_SCTP)
		return NP_PARSE_OK;
	/* Direct packet access when the transport header is in the linear part (always, for headers this short on a
	 * veth); bpf_skb_load_bytes otherwise. */
	if (offset <= 14 + 60 + 40) {
		__u8 *l4 = data + offset;

		if ((void *)(l4 + 14) <= data_end) {
			flow->sport = ((__u16)l4[0] << 8) | l4[1];
			flow->dport = ((__u16)l4[2] << 8) | l4[3];
			if (flow->proto == IPPROTO_TCP)
				flow->tcp_flags = l4[13];
			return NP_PARSE_OK;
		}
	}
	if (bpf_skb_load_bytes(skb, offset, ports, sizeof(ports)) < 0)
		return NP_PARSE_DROP;
	flow->sport = bpf_ntohs(ports[0]);
	flow->dport = bpf_ntohs(ports[1]);
	if (flow->proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, offset + 13, &flags, 1) < 0)
			return NP_PARSE_DROP;
		flow->tcp_flags = flags;
	}
	return NP_PARSE_OK;
}

static __always_inline int np_parse(struct __sk_buff *skb, struct np_flow *flow)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NP_PARSE_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 l4;

		if ((void *)(ip + 1) > data_end)
			return NP_PARSE_DROP;
		if (ip->ihl < 5)
			return NP_PARSE_DROP;
		flow->family = 4;
		flow->proto = ip->protocol;
		np_map_v4(flow->saddr, ip->saddr);
		np_map_v4(flow->daddr, ip->daddr);
		/* Non-first fragments carry no ports: they match only rules that allow every port. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return NP_PARSE_OK;
		l4 = sizeof(struct ethhdr) + ip->ihl * 4;
		return np_load_ports(skb, l4, flow);
	}

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 offset = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
		__u8 next;
		int i;

		if ((void *)(ip6 + 1) > data_end)
			return NP_PARSE_DROP;
		flow->family = 6;
		__builtin_memcpy(flow->saddr, &ip6->saddr, 16);
		__builtin_memcpy(flow->daddr, &ip6->daddr, 16);
		/* IPv4-mapped addresses never appear on the wire; here they would borrow an IPv4 identity. */
		if (np_is_v4_mapped(flow->saddr) || np_is_v4_mapped(flow->daddr))
			return NP_PARSE_DROP;
		next = ip6->nexthdr;

		/* Skip up to four extension headers (hop-by-hop, routing, destination options, fragment). */
		for (i = 0; i < 4; i++) {
			__u8 ext[2];

			if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS && next != IPPROTO_FRAGMENT)
				break;
			if (bpf_skb_load_bytes(skb, offset, ext, sizeof(ext)) < 0)
				return NP_PARSE_DROP;
			if (next == IPPROTO_FRAGMENT) {
				__be16 frag;

				if (bpf_skb_load_bytes(skb, offset + 2, &frag, sizeof(frag)) < 0)
					return NP_PARSE_DROP;
				flow->proto = ext[0];
				if (frag & bpf_htons(0xfff8))
					return NP_PARSE_OK; /* non-first fragment: no ports */
				next = ext[0];
				offset += 8;
				continue;
			}
			next = ext[0];
			offset += (ext[1] + 1) * 8;
		}
		flow->proto = next;

		if (next == IPPROTO_ICMPV6) {
			__u8 type;

			if (bpf_skb_load_bytes(skb, offset, &type, 1) < 0)
				return NP_PARSE_DROP;
			/* Neighbour discovery and MLD keep working whatever the policy: IPv6 needs them as IPv4 needs ARP. */
			if ((type >= 130 && type <= 137) || type == 143)
				return NP_PARSE_PASS;
			return NP_PARSE_OK;
		}
		return np_load_ports(skb, offset, flow);
	}

	return NP_PARSE_PASS; /* ARP and every other non-IP protocol */
}

static __always_inline void np_emit(const struct np_flow *flow, const struct np_endpoint_value *ep, __u8 direction,
				    const struct np_ipcache_value *remote, __u32 rule_id, __u16 reason, __u8 verdict)
{
	struct np_event *event = bpf_ringbuf_reserve(&np_events, sizeof(*event), 0);

	if (!event) {
		np_count(NP_STAT_EVENTS_LOST);
		return;
	}
	event->timestamp_ns = bpf_ktime_get_ns();
	event->endpoint = NP_CONFIG.endpoint;
	event->local_identity = ep ? ep->identity : 0;
	event->remote_identity = remote ? remote->identity : 0;
	event->remote_class = remote ? remote->addr_class : 0;
	event->rule_id = rule_id;
	event->reason = reason;
	event->verdict = verdict;
	event->direction = direction;
	event->family = flow->family;
	event->proto = flow->proto;
	event->sport = flow->sport;
	event->dport = flow->dport;
	event->pad = 0;
	__builtin_memcpy(event->saddr, flow->saddr, 16);
	__builtin_memcpy(event->daddr, flow->daddr, 16);
	bpf_ringbuf_submit(event, 0);
}

static __always_inline const struct np_ipcache_value *np_ipcache_lookup(const __u8 *addr)
{
	struct np_ipcache_lpm_key lpm = { .prefixlen = 128 };
	const struct np_ipcache_value *value;

	value = bpf_map_lookup_elem(&np_ipcache_host, addr);
	if (value)
		return value;
	__builtin_memcpy(lpm.addr, addr, 16);
	return bpf_map_lookup_elem(&np_ipcache_lpm, &lpm);
}

static __always_inline __u32 np_plens(const struct np_ruleset_value *rs, __u8 proto)
{
	if (proto == IPPROTO_TCP)
		return rs->tcp_plens;
	if (proto == IPPROTO_UDP)
		return rs->udp_plens;
	if (proto == IPPROTO_SCTP)
		return rs->sctp_plens;
	return 0;
}

/* Looks every key the flow can match up for one remote; returns the first allow entry. */
static __always_inline const struct np_policy_value *np_policy_remote(struct np_policy_key *key, __u32 remote, __u32 rs_flags,
								      __u32 plens, __u8 proto, __u16 port)
{
	const struct np_policy_value *value;
	int plen;

	key->remote = remote;
	if (rs_flags & NP_RS_ANY_PROTOCOL) {
		key->proto = 0;
		key->plen = 0;
		key->port = 0;
		value = bpf_map_lookup_elem(&np_policy, key);
		if (value && value->action == NP_ACTION_ALLOW)
			return value;
	}
	key->proto = proto;
	for (plen = 16; plen >= 0; plen--) {
		if (!(plens & (1u << plen)))
			continue;
		key->plen = plen;
		key->port = plen ? (port & (__u16)(0xffff << (16 - plen))) : 0;
		value = bpf_map_lookup_elem(&np_policy, key);
		if (value && value->action == NP_ACTION_ALLOW)
			return value;
	}
	return 0;
}

static __always_inline const struct np_policy_value *np_policy_lookup(__u32 ruleset, __u8 direction,
								      const struct np_ipcache_value *remote, const struct np_flow *flow)
{
	const struct np_ruleset_value *rs = bpf_map_lookup_elem(&np_rulesets, &ruleset);
	struct np_policy_key key = { .ruleset = ruleset, .direction = direction };
	const struct np_policy_value *value;
	__u32 plens;

	if (!rs || !(rs->flags & NP_RS_PRESENT))
		return 0;
	plens = np_plens(rs, flow->proto);
	if ((rs->flags & NP_RS_REMOTE_IDENTITY) && remote) {
		value = np_policy_remote(&key, remote->identity, rs->flags, plens, flow->proto, flow->dport);
		if (value)
			return value;
	}
	if ((rs->flags & NP_RS_REMOTE_CLASS) && remote && remote->addr_class) {
		value = np_policy_remote(&key, remote->addr_class, rs->flags, plens, flow->proto, flow->dport);
		if (value)
			return value;
	}
	if (rs->flags & NP_RS_REMOTE_ANY)
		return np_policy_remote(&key, NP_REMOTE_ANY, rs->flags, plens, flow->proto, flow->dport);
	return 0;
}

static __always_inline void np_ct_fill(struct np_ct_key *key, const __u8 *saddr, const __u8 *daddr, __u16 sport, __u16 dport,
				       __u8 proto, __u8 direction)
{
	__builtin_memcpy(key->saddr, saddr, 16);
	__builtin_memcpy(key->daddr, daddr, 16);
	key->sport = sport;
	key->dport = dport;
	key->endpoint = NP_CONFIG.endpoint;
	key->proto = proto;
	key->direction = direction;
	key->pad[0] = 0;
	key->pad[1] = 0;
}

static __always_inline int np_ct_live(const struct np_ct_value *ct, __u8 proto, __u64 now)
{
	__u64 lifetime = proto == IPPROTO_TCP ? NP_CT_TCP_LIFETIME_NS : NP_CT_OTHER_LIFETIME_NS;

	return now - ct->last_seen_ns <= lifetime;
}

static __always_inline int np_handle(struct __sk_buff *skb, const __u8 direction)
{
	const __u8 reverse = direction == NP_DIR_INGRESS ? NP_DIR_EGRESS : NP_DIR_INGRESS;
	struct np_flow flow = {};
	const struct np_endpoint_value *ep;
	const struct np_ipcache_value *remote = 0;
	const struct np_policy_value *rule;
	struct np_ct_value *ct;
	struct np_ct_key key;
	__u32 endpoint = NP_CONFIG.endpoint;
	__u32 ruleset;
	__u32 isolated;
	__u64 now;
	int tcp_new;
	int parsed;

	parsed = np_parse(skb, &flow);
	if (parsed == NP_PARSE_PASS) {
		np_count(NP_STAT_NON_IP);
		return NP_PASS;
	}
	if (parsed == NP_PARSE_DROP) {
		np_count(NP_STAT_DROPPED);
		return NP_DROP;
	}

	ep = bpf_map_lookup_elem(&np_endpoints, &endpoint);
	if (!ep || !(ep->flags & NP_EP_PRESENT)) {
		if (NP_CONFIG.flags & NP_CFG_FAIL_OPEN)
			return NP_PASS;
		np_count(NP_STAT_DROPPED);
		np_emit(&flow, 0, direction, 0, NP_RULE_NOT_PROGRAMMED, NP_REASON_NOT_PROGRAMMED, NP_VERDICT_DROP);
		return NP_DROP;
	}
	if (direction == NP_DIR_EGRESS) {
		/* Anti-spoofing: a pod sends only from its own addresses, so it can never borrow another pod's identity
		 * (or the node's exemption) at the destination. */
		const struct np_ipcache_value *self = bpf_map_lookup_elem(&np_ipcache_host, flow.saddr);

		if (!self || self->identity != ep->identity) {
			np_count(NP_STAT_DROPPED);
			np_emit(&flow, ep, direction, self, NP_RULE_SPOOFED, NP_REASON_SPOOFED, NP_VERDICT_DROP);
			return NP_DROP;
		}
	}

	isolated = ep->flags & (direction == NP_DIR_INGRESS ? NP_EP_INGRESS_ISOLATED : NP_EP_EGRESS_ISOLATED);
	ruleset = direction == NP_DIR_INGRESS ? ep->ingress_ruleset : ep->egress_ruleset;
	/* The coarse clock (tick resolution) is plenty for conntrack lifetimes and much cheaper than a clock read. */
	now = bpf_ktime_get_coarse_ns();
	/* A SYN without ACK opens a new connection: never let an old entry of the same tuple stand in for a check. */
	tcp_new = flow.proto == IPPROTO_TCP && (flow.tcp_flags & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN;

	/* Forward direction of a flow this endpoint already allowed. */
	np_ct_fill(&key, flow.saddr, flow.daddr, flow.sport, flow.dport, flow.proto, direction);
	ct = tcp_new ? 0 : bpf_map_lookup_elem(&np_conntrack, &key);
	if (ct && !np_ct_live(ct, flow.proto, now))
		ct = 0;
	if (ct && (NP_CONFIG.mode == NP_MODE_CONNTRACK || !isolated)) {
		if (now - ct->last_seen_ns > NP_CT_REFRESH_NS)
			ct->last_seen_ns = now;
		np_count(NP_STAT_ALLOWED);
		return NP_PASS;
	}

	if (!ct && !tcp_new) {
		/* Reply to a flow the endpoint allowed in the other direction. */
		struct np_ct_key rkey;
		struct np_ct_value *rct;

		np_ct_fill(&rkey, flow.daddr, flow.saddr, flow.dport, flow.sport, flow.proto, reverse);
		rct = bpf_map_lookup_elem(&np_conntrack, &rkey);
		if (rct && np_ct_live(rct, flow.proto, now)) {
			if (now - rct->last_seen_ns > NP_CT_REFRESH_NS)
				rct->last_seen_ns = now;
			np_count(NP_STAT_ALLOWED);
			return NP_PASS;
		}
	}

	if (!isolated) {
		rule = 0;
	} else {
		remote = np_ipcache_lookup(direction == NP_DIR_INGRESS ? flow.saddr : flow.daddr);
		if (remote && remote->identity == NP_IDENTITY_HOST && direction == NP_DIR_INGRESS &&
		    !(NP_CONFIG.flags & NP_CFG_POLICE_HOST)) {
			np_count(NP_STAT_ALLOWED);
			return NP_PASS;
		}
		rule = np_policy_lookup(ruleset, direction, remote, &flow);
		if (!rule) {
			if (ct)
				bpf_map_delete_elem(&np_conntrack, &key);
			np_count(NP_STAT_DROPPED);
			np_emit(&flow, ep, direction, remote, NP_RULE_DEFAULT_DENY, ct ? NP_REASON_REVOKED : NP_REASON_DEFAULT_DENY,
				NP_VERDICT_DROP);
			return NP_DROP;
		}
	}

	if (ct) {
		/* Strict mode: the established flow is still allowed. */
		if (now - ct->last_seen_ns > NP_CT_REFRESH_NS)
			ct->last_seen_ns = now;
	} else {
		struct np_ct_value value = {
			.last_seen_ns = now,
			.rule_id = rule ? rule->rule_id : NP_RULE_NONE,
		};

		bpf_map_update_elem(&np_conntrack, &key, &value, BPF_ANY);
		if (NP_CONFIG.flags & NP_CFG_EMIT_ALLOW)
			np_emit(&flow, ep, direction, remote, value.rule_id, rule ? NP_REASON_POLICY : NP_REASON_NOT_ISOLATED,
				NP_VERDICT_ALLOW);
	}
	np_count(NP_STAT_ALLOWED);
	return NP_PASS;
}

SEC("tc")
int np_from_pod(struct __sk_buff *skb)
{
	return np_handle(skb, NP_DIR_EGRESS);
}

SEC("tc")
int np_to_pod(struct __sk_buff *skb)
{
	return np_handle(skb, NP_DIR_INGRESS);
}
