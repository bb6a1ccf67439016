/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event bus: what the daemon saw and decided, published once and
 * taken by whoever listens (the history, monitor streams on the control
 * socket, through them the web UI and the notify agent).  Publishing
 * never blocks and never fails the caller: a listener that cannot keep
 * up loses events and counts them.
 *
 * The decision path calls events_flow() at each step of a flow, conntrack
 * reports its end (bytes and packets each way) through events_ct_end(),
 * and the resolver calls events_dns() for every query it answers.
 */
#ifndef PM_EVENTS_H
#define PM_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include "control/proto.h"

struct pmd;
struct flow_entry;

enum ev_type {
	EV_FLOW,		/* a flow was decided (by a rule, the default or the module) */
	EV_PROMPT,		/* a flow waits for the user */
	EV_ANSWER,		/* a prompt was answered (or timed out) */
	EV_END,			/* conntrack forgot the flow: its totals */
	EV_DNS,			/* the resolver answered a query */
	EV_TRAFFIC,		/* per program, each second, while someone watches */
	EV__COUNT
};

#define EV_MASK(t) (1u << (t))
#define EV_MASK_ALL ((1u << EV__COUNT) - 1)
/* What a monitor gets unless it asks: not the per-second traffic. */
#define EV_MASK_DEFAULT (EV_MASK_ALL & ~EV_MASK(EV_TRAFFIC))

/* One event, flat, with strings borrowed from the publisher. */
struct pm_event {
	enum ev_type type;
	uint64_t time_ms;		/* wall clock, ms since the epoch */
	uint64_t flow_id;		/* the daemon's id (pmctl verdict ID) */
	uint64_t ct_id;			/* conntrack id, 0 when unknown */
	uint8_t family, proto, dir;	/* dir: PM_DIR_OUT/IN */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	int32_t pid;			/* 0: unknown */
	bool have_uid;
	uint32_t uid;
	const char *exe;		/* NULL: unknown */
	/* The cgroup v2 path captured with the flow or query (its unit is
	 * the history's): never looked up later, when the pid may be gone
	 * or another process's.  NULL: unknown; not kept for EV_END. */
	const char *cgroup;
	const char *domain;		/* NULL: unknown */
	const char *verdict;		/* allow, block, drop, pending, reroute-... */
	uint32_t mark;
	uint32_t rule_id;		/* 0: the default, a prompt or the module */
	uint64_t start_ms;		/* EV_END: when the flow was decided */
	uint64_t bytes_out, bytes_in, pkts_out, pkts_in;	/* EV_END; EV_TRAFFIC: in the interval */
	uint32_t conns;			/* EV_TRAFFIC: its connections conntrack holds */
	uint32_t interval_ms;		/* EV_TRAFFIC */
	/* EV_DNS */
	const char *qname;
	uint16_t qtype;
	uint8_t rcode;
	const char *answers;		/* comma-separated addresses, or NULL */
};

/* A listener: called on the main thread for each event of its mask. */
typedef void (*ev_listener_fn)(void *arg, const struct pm_event *ev);

struct events;

struct events *events_new(void);
void events_free(struct events *e);
int events_listen(struct events *e, uint32_t mask, ev_listener_fn fn, void *arg);
void events_unlisten(struct events *e, ev_listener_fn fn, void *arg);

/* The decision path: one call per step of a flow. */
void events_flow(struct pmd *d, const struct flow_entry *fe, enum ev_type type);
/*
 * Conntrack forgot an entry: its namespace, its id (0 when the kernel
 * gives none), its
 * original tuple (the direction of its first packet; ICMP: the echo id
 * as both ports) and its totals each way.  Found among the flows decided
 * by tuple (NFQUEUE gives no conntrack id on kernels without
 * CONFIG_NETFILTER_NETLINK_GLUE_CT); the id is the one conntrack -L -o id
 * shows, in both modes.
 */
struct ct_end {
	uint64_t netns;		/* the namespace's inode number (flow_info.netns) */
	uint32_t id;
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint64_t orig_bytes, orig_pkts, reply_bytes, reply_pkts;
};
void events_ct_end(struct pmd *d, const struct ct_end *e);

/*
 * Live traffic: a sampler dumps conntrack's counters about every second
 * while someone watches (events_sample_begin, one events_sample per
 * entry, events_sample_end), and each program gets one EV_TRAFFIC event
 * with the bytes its connections moved since the last (ended ones
 * included) and how many it has.
 */
void events_sample_begin(struct pmd *d);
void events_sample(struct pmd *d, const struct ct_end *c);
void events_sample_end(struct pmd *d, uint32_t interval_ms);

/*
 * The resolver: one call per query answered (or refused).  Names the
 * program as flows do; verdict is "allow", "block" or "drop".
 */
struct pm_dns_query {
	int32_t pid;
	bool have_uid;
	uint32_t uid;
	const char *exe;
	const char *cgroup;
	const char *qname;
	uint16_t qtype;
	uint8_t rcode;
	const char *answers;
	const char *verdict;
	uint32_t rule_id;
};
void events_dns(struct pmd *d, const struct pm_dns_query *q);

/* Publishes ev to every listener whose mask has its type. */
void events_publish(struct events *e, const struct pm_event *ev);

/* The event as a control-protocol record (monitor streams, the web UI). */
void event_record(struct buf *b, const struct pm_event *ev);
const char *event_type_name(enum ev_type t);
int event_type_parse(const char *s, enum ev_type *t);
/* Wall clock in ms since the epoch. */
uint64_t wall_ms(void);

#endif
