/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict engine shared by both modes: a table of recent flows (for
 * pmctl list, for answering later packets of a flow, and for prompts),
 * the rules, the default action and the prompts.  It never blocks: a flow
 * waiting for a prompt keeps its packets in the table and is answered
 * later by packet (or kernel flow) id.
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

struct flow_entry {
	uint64_t id;
	struct flow_info info;		/* owns info.owner.exe */
	enum flow_state state;
	uint32_t mark;			/* the last verdict */
	bool sticky;			/* later packets reuse mark (non-permanent verdicts) */
	uint32_t rule_id;		/* 0: the default or a prompt decided */
	uint64_t created_ms, decided_ms, deadline_ms;
	uint16_t held_q[FLOW_MAX_HELD];
	uint64_t held_id[FLOW_MAX_HELD];
	int nheld;
	uint8_t *pkt;			/* headers of the first held packet */
	uint16_t pktlen;
	uint32_t pkts;			/* packets asked about this flow */
	bool dns_blocked;		/* its last DNS query was refused */
	struct flow_entry *hnext;
	struct flow_entry *prev, *next;	/* age order, newest at head */
};

struct flowtab {
	struct flow_entry **buckets;
	struct flow_entry *head, *tail;
	size_t n, npending;
	uint64_t next_id;
};

struct pmd;

int flowtab_init(struct flowtab *t);
void flowtab_free(struct flowtab *t);
struct flow_entry *flowtab_lookup(struct flowtab *t, const struct flow_key *k);
struct flow_entry *flowtab_find_id(struct flowtab *t, uint64_t id);

/* The mark for an action: permanent (1710...) or for this packet (1700...). */
uint32_t action_mark(enum action a, bool permanent);

/*
 * One packet (fallback) or kernel flow event (module) to decide.  fi was
 * parsed by the caller (owner may be empty); queue and id name what to
 * answer.  Answers now through the backend or holds it for a prompt.
 * parsed=false means the packet could not be read: it gets a drop for
 * this packet only (1702), counted as unparsable.  pkt (may be NULL) is
 * the packet's headers, kept while it is held, for a reject message.
 */
void engine_report(struct pmd *d, struct flow_info *fi, uint32_t mark);
void engine_packet(struct pmd *d, struct flow_info *fi, bool parsed,
		   uint16_t queue, uint64_t id, const uint8_t *pkt, size_t pktlen);
/* pmctl verdict: decides a pending flow; -ENOENT when not pending. */
int engine_verdict(struct pmd *d, uint64_t flow_id, enum action a, bool permanent);
/* Timer: prompt timeouts and expired rules. */
void engine_tick(struct pmd *d);
/* Releases every held packet (at exit): the prompt fallback applies. */
void engine_release_all(struct pmd *d);
/* The resolver answered (blocked=false) or refused a query that came
 * with flow k: the flow is listed with the name. */
void engine_dns_query(struct pmd *d, const struct flow_key *k, const struct owner *o,
		      const char *name, bool blocked);

#endif
