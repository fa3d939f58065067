// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * verifier_reject.bpf.c: a tc program the kernel verifier must reject. It reads packet data without first checking
 * it against data_end, which the verifier refuses with "invalid access to packet". The loader tests use it to prove
 * that a rejection surfaces as BpfVerifierException with the verifier's log. Rebuild with ./build.sh.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int bad_packet_read(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;

	return *(volatile int *)data; /* no bounds check against skb->data_end */
}
