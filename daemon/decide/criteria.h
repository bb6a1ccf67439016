/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rule criteria: one kind per thing a rule can ask of a flow.  A rule is a
 * list of criteria (all must hold) and an action.  Each kind is one entry
 * of a table (criteria.c) that knows its name in rules files and requests,
 * how to parse, match and print it, and how to take it from a flow (for a
 * prompt answer that becomes a rule).  A new criterion (a domain, a port
 * range, a cgroup) is a new kind and a new table entry; nothing else in
 * the rule code changes.
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
	CRIT_UID,
	CRIT_DST,
	CRIT_PORT,
	CRIT_PROTO,
	CRIT_DIR,
	CRIT_DOMAIN,
	CRIT__COUNT
};

struct criterion {
	enum crit_kind kind;
	union {
		char *path;		/* exe: malloc'd; domain: its pattern (dns/names.h) */
		uint32_t id;		/* uid */
		struct {
			uint8_t family, plen;
			uint8_t addr[16];
		} net;			/* dst */
		uint16_t port;
		uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP (any ICMP) */
		uint8_t dir;		/* enum pm_direction */
	} v;
};

/* Finds a kind by its name ("exe", "dst", ...); -1 when unknown. */
int crit_kind_by_name(const char *name);
const char *crit_name(enum crit_kind k);
/* "exe, uid, dst, port, proto, dir": for error messages. */
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

#endif
