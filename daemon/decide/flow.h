/* SPDX-License-Identifier: GPL-2.0 */
/* A flow as the rules see it, whichever mode announced it. */
#ifndef PM_FLOW_H
#define PM_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/limits.h>

/* Normalised to the local side, so that both directions of a connection
 * find the same entry. ICMP echo uses the identifier as both ports. */
struct flow_key {
	uint8_t family;		/* AF_INET, AF_INET6 */
	uint8_t proto;		/* IPPROTO_* */
	uint16_t lport, rport;	/* host order */
	uint8_t laddr[16], raddr[16];
};

struct owner {
	bool have_uid;
	uint32_t uid, gid;
	uint64_t inode;		/* 0: unknown */
	int32_t pid;		/* 0: unknown */
	char comm[16];
	char *exe;		/* malloc'd; NULL: unknown */
};

struct flow_info {
	struct flow_key key;
	uint8_t dir;		/* enum pm_direction: of the flow */
	uint8_t icmp_type, icmp_code;
	bool has_ports;
	bool icmp_error;	/* ICMP error: belongs to another flow */
	bool ct_new;		/* this packet creates its conntrack entry */
	bool tcp_syn;		/* a SYN without ACK: a new connection */
	uint32_t ifindex;
	uint64_t ct_id;
	struct owner owner;
	/* The name its program resolved for the destination, and the CNAME
	 * chain to it (comma-separated); malloc'd, NULL: none (dns/). */
	char *domain, *cnames;
};

/* The flow's destination as the rules mean it: where it was opened to. */
static inline const uint8_t *flow_dst_addr(const struct flow_info *f)
{
	return f->dir == 0 ? f->key.raddr : f->key.laddr;
}

static inline uint16_t flow_dst_port(const struct flow_info *f)
{
	return f->dir == 0 ? f->key.rport : f->key.lport;
}

#endif
