/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rule criteria: one kind per thing a rule can ask of a flow.  A rule is a
 * list of criteria (all must hold) and an action.  Each kind is one entry
 * of a table (criteria.c) that knows its name in rules files and requests,
 * how to parse, match and print it, and how to take it from a flow (for a
 * prompt answer that becomes a rule).  A new criterion is a new kind and a
 * new table entry; nothing else in the rule code changes.  The rules file
 * and pmctl's options (sent as request arguments) go through the same
 * crit_parse: one parser for both.
 */
#ifndef PM_CRITERIA_H
#define PM_CRITERIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decide/flow.h"

struct buf;

/* In the order rules print them. */
enum crit_kind {
	CRIT_EXE,
	CRIT_CMDLINE,
	CRIT_PARENT,
	CRIT_UNIT,
	CRIT_CGROUP,
	CRIT_UID,
	CRIT_GID,
	CRIT_LOCAL,
	CRIT_REMOTE,
	CRIT_DST,
	CRIT_PORT,
	CRIT_PROTO,
	CRIT_ICMP_TYPE,
	CRIT_DIR,
	CRIT_DOMAIN,
	CRIT__COUNT
};

/* What an address criterion names: a prefix, or one of Portmaster's
 * scopes (netscope.c), or the nameservers of /etc/resolv.conf. */
enum net_scope {
	NET_PREFIX,
	NET_LOCALHOST,
	NET_LAN,
	NET_INTERNET,
	NET_MULTICAST,
	NET_RESOLVER,
};

struct port_range {
	uint16_t lo, hi;
};

#define CRIT_MAX_PORT_RANGES 64
/* "proto=icmp": ICMP of either family (ICMP and ICMPv6). */
#define PROTO_ANY_ICMP 256

struct criterion {
	enum crit_kind kind;
	union {
		/* exe, parent: a glob on the path (FNM_PATHNAME); cmdline,
		 * cgroup, unit: a glob on the whole string; domain: its
		 * pattern (dns/names.h).  malloc'd. */
		char *path;
		uint32_t id;		/* uid, gid */
		struct {
			uint8_t family, plen;
			uint8_t scope;	/* enum net_scope */
			uint8_t addr[16];
		} net;			/* local, remote, dst */
		struct {
			uint16_t n;
			struct port_range *r;	/* malloc'd */
		} ports;
		uint16_t proto;		/* IPPROTO_*, or PROTO_ANY_ICMP */
		struct {
			int16_t t4, t6;	/* the type in ICMP, in ICMPv6; -1: none */
		} icmp;
		uint8_t dir;		/* enum pm_direction */
	} v;
};

/* Finds a kind by its name ("exe", "dst", ... and "user", "group" for
 * "uid", "gid"); -1 when unknown. */
int crit_kind_by_name(const char *name);
const char *crit_name(enum crit_kind k);
/* "exe, cmdline, ...": for error messages. */
const char *crit_names(void);

/* Parses VALUE (already percent-decoded) into c. */
int crit_parse(struct criterion *c, enum crit_kind k, const char *val, char *err, size_t errlen);
bool crit_match(const struct criterion *c, const struct flow_info *f);
/* The value as a rules file writes it (not yet percent-encoded). */
void crit_format(const struct criterion *c, struct buf *b);
/* The flow's own value of kind k, exactly; -1 when the flow lacks it
 * (no executable known, no ports). */
int crit_from_flow(struct criterion *c, enum crit_kind k, const struct flow_info *f);
/* Does matching need the flow's owner (attribution)? */
bool crit_needs_owner(enum crit_kind k);
void crit_free(struct criterion *c);
int crit_copy(struct criterion *dst, const struct criterion *src);
bool crit_equal(const struct criterion *a, const struct criterion *b);
/* A pattern without glob characters: matching it is strcmp (the index). */
bool crit_is_literal(const char *pattern);

/* Portmaster's scope of an address (netscope.c). */
enum ip_scope { IPS_INVALID, IPS_HOST, IPS_LINK, IPS_SITE, IPS_LOCAL_MCAST,
		IPS_GLOBAL_MCAST, IPS_GLOBAL };
enum ip_scope ip_scope(uint8_t family, const uint8_t *addr);
/* Does an address belong to a named scope (NET_LOCALHOST ... )? */
bool net_scope_match(enum net_scope s, uint8_t family, const uint8_t *addr);
/* The nameservers "remote=resolver" means (read from resolv.conf at
 * start and on reload); at most 8. */
void crit_set_resolvers(const uint8_t (*addr)[16], const uint8_t *family, int n);
/* Reads the nameservers of a resolv.conf into the table above. */
int crit_load_resolv_conf(const char *path);

#endif
