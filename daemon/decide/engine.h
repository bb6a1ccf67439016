/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict engine shared by both modes.  A flow is one conntrack entry
 * in one network namespace: the table is keyed by (netns, conntrack id),
 * and every new conntrack entry is a new flow, attributed afresh.  What
 * decides a flow is the rules (first match), else the user's own answer
 * to its prompt, else the default.  A rule change re-decides the live
 * connections from the rules; nothing remembered per flow decides what
 * the rules do not.  The engine never blocks: a flow waiting for a prompt
 * keeps its packets in the table and is answered later by id.
 */
#ifndef PM_ENGINE_H
#define PM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "decide/flow.h"
#include "decide/rules.h"

#define FLOW_MAX_HELD 16
#define FLOWTAB_BUCKETS 65536
#define FLOWTAB_MAX 32768

enum flow_state { FS_NEW, FS_PENDING, FS_DECIDED };

struct pm_ns;

struct flow_entry {
	uint64_t id;
	struct pm_ns *ns;		/* where it lives; verdicts go there */
	struct flow_info info;		/* owns info.owner.exe */
	enum flow_state state;
	uint32_t mark;			/* the last verdict */
	uint32_t rule_id;		/* 0: no rule decided it */
	/* Its prompt was answered (by the user, or by the prompt's
	 * timeout): that answer stands for this connection when it is
	 * decided again, unless a rule says otherwise. */
	bool answered;
	enum action answer;
	/* Refused on the packet that would have created its conntrack
	 * entry, which so never came to be: the same socket's next try
	 * (a retransmission) is this flow again. */
	bool unconfirmed;
	uint32_t gen;			/* its namespace's clear_gen when decided */
	uint64_t created_ms, decided_ms, deadline_ms;
	uint16_t held_q[FLOW_MAX_HELD];
	uint64_t held_id[FLOW_MAX_HELD];
	int nheld;
	uint8_t *pkt;			/* headers of the first held packet */
	uint16_t pktlen;
	uint32_t pkts;			/* packets asked about this flow */
	bool dns_blocked;		/* its last DNS query was refused */
	struct flow_entry *hnext_id;	/* (netns, ct id) chain */
	struct flow_entry *hnext_tuple;	/* (netns, tuple) chain */
	struct flow_entry *prev, *next;	/* age order, newest at head */
	struct flow_entry *pprev, *pnext;	/* pending flows */
};

struct flowtab {
	struct flow_entry **by_id, **by_tuple;
	struct flow_entry *head, *tail;
	struct flow_entry *pending;	/* list of FS_PENDING entries */
	size_t n, npending;
	size_t npending_dir[2];
	uint64_t next_id;
	uint64_t seed;			/* of the buckets' hash */
};

struct pmd;

int flowtab_init(struct flowtab *t);
void flowtab_free(struct flowtab *t);
/* The newest flow of this conntrack entry (or, without an id, tuple). */
struct flow_entry *flowtab_lookup(struct flowtab *t, const struct flow_info *fi);
struct flow_entry *flowtab_find_id(struct flowtab *t, uint64_t id);

/* The mark for an action: permanent (1710...) or for this packet (1700...). */
uint32_t action_mark(enum action a, bool permanent);
/* The action a mark stands for. */
enum action mark_action(uint32_t mark);

/*
 * One packet (fallback) or kernel flow event (module) to decide, from
 * namespace ns.  fi was parsed by the caller (owner may be empty); queue
 * and id name what to answer.  Answers through the backend or holds it for
 * a prompt.  parsed=false means the packet could not be read: it gets a
 * drop for this packet only (1702), counted as unparsable.  pkt (may be
 * NULL) is the packet's headers, kept while it is held, for a reject.
 * Verdicts are queued; the caller flushes them (backend flush) once per
 * burst.
 */
void engine_packet(struct pmd *d, struct pm_ns *ns, struct flow_info *fi, bool parsed,
		   uint16_t queue, uint64_t id, const uint8_t *pkt, size_t pktlen);
/* A flow the module decided by itself (a remembered verdict): listed. */
void engine_report(struct pmd *d, struct pm_ns *ns, struct flow_info *fi, uint32_t mark);
/* Is this flow pending under this (module) flow id already? */
bool engine_is_pending(struct pmd *d, struct pm_ns *ns, uint64_t held_id);

/* pmctl verdict: decides a pending flow for this connection; -ENOENT when
 * it is not pending, -EINVAL for "ask". */
int engine_verdict(struct pmd *d, struct flow_entry *e, enum action a);
/*
 * After a change of rules or default: pending flows that the rules now
 * decide are decided at once (a prompt is never asked again for them).
 */
void engine_rules_changed(struct pmd *d);
/* Timer: prompt timeouts. */
void engine_tick(struct pmd *d);
/* Releases every held packet (at exit): the prompt fallback applies. */
void engine_release_all(struct pmd *d);
/* The resolver answered (blocked=false) or refused a query that came
 * with flow k (in our own namespace): the flow is listed with the name. */
void engine_dns_query(struct pmd *d, const struct flow_key *k, const struct owner *o,
		      const char *name, bool blocked);

#endif
