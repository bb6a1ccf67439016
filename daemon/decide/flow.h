/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A flow as the rules see it, whichever mode announced it: one conntrack
 * entry in one network namespace.  (netns, ct_id) is its identity; the
 * addresses and ports are what it looks like, for the rules and for
 * people.  Everything a rule criterion may ask is here, captured when the
 * flow was first seen: the process may be gone when a rule changes.
 */
#ifndef PM_FLOW_H
#define PM_FLOW_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/limits.h>

/* Normalised to the local side, so that both directions of a connection
 * look the same.  ICMP echo uses the identifier as both ports. */
struct flow_key {
	uint8_t family;		/* AF_INET, AF_INET6 */
	uint8_t proto;		/* IPPROTO_* */
	uint16_t lport, rport;	/* host order */
	uint8_t laddr[16], raddr[16];
};

struct owner {
	bool have_uid, have_gid;
	uint32_t uid, gid;
	uint64_t inode;		/* the socket; 0: unknown */
	int32_t pid;		/* 0: unknown */
	int32_t ppid;		/* its parent; 0: unknown */
	uint64_t cgroup_id;	/* cgroup v2 id (inode of its directory); 0: unknown */
	char comm[16];
	char *exe;		/* malloc'd; NULL: unknown */
	/* Captured with the flow, never looked up later (the process may be
	 * gone when a rule change decides it again); malloc'd, NULL: unknown.
	 * cmdline: the arguments joined by spaces; cgroup: the cgroup v2
	 * path ("/system.slice/sshd.service"); ancestors: the executables of
	 * the parent, its parent, ... each NUL-terminated, the list ending
	 * with an empty string. */
	char *cmdline, *cgroup, *ancestors;
	/* Longer than attribution keeps (4 KiB of command line; 16 parents,
	 * 8 KiB): a block rule that asks about them is taken to match, so
	 * that padding cannot hide a process from one. */
	bool cmdline_cut, ancestors_cut;
};

/* Frees what an owner owns (exe, cmdline, cgroup, ancestors). */
void owner_release(struct owner *o);
/* A copy that owns its own strings; -1 on allocation failure (nothing
 * owned then). */
int owner_copy(struct owner *dst, const struct owner *src);
/* The systemd unit a cgroup path names: its deepest component ending in
 * ".service" or ".scope" ("sshd.service"); NULL with *len 0 when none. */
const char *cgroup_unit(const char *cgroup, size_t *len);

struct flow_info {
	uint64_t netns;		/* the namespace's inode number */
	uint32_t ct_id;		/* conntrack id; 0: unknown (the tuple identifies) */
	struct flow_key key;	/* the tuple */
	uint8_t dir;		/* enum pm_direction: of the flow */
	uint8_t icmp_type, icmp_code;
	bool has_ports;
	bool icmp_error;	/* ICMP error: belongs to another flow */
	bool ct_state_known;	/* the kernel said whether it is new (fallback) */
	bool ct_new;		/* this packet creates its conntrack entry */
	bool tcp_syn;		/* a SYN without ACK: a new connection */
	bool no_socket;		/* inbound, and no local socket would take it */
	uint32_t ifindex;
	struct owner owner;
	/* The name its program resolved for the destination, and the CNAME
	 * chain to it (comma-separated); malloc'd, NULL: none (dns/). */
	char *domain, *cnames;
};

static inline bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

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
