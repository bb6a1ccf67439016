// SPDX-License-Identifier: GPL-2.0
/*
 * The event bus, and the little it must remember to describe a flow's end:
 * conntrack reports only an id, a tuple and totals, so the flows decided
 * are kept by their key (bounded; the oldest go first) until their end.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <linux/portmaster.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "daemon.h"
#include "events/events.h"
#include "common/util.h"

#define MAX_LISTENERS 16
#define LIVE_BUCKETS 16384
#define LIVE_MAX 65536

struct listener {
	uint32_t mask;
	ev_listener_fn fn;
	void *arg;
};

/* A decided flow, until conntrack reports its end. */
struct live {
	struct pm_event ev;		/* EV_FLOW as published, exe and domain owned */
	uint64_t netns;			/* with the tuple, its identity until its end */
	struct flow_key key;
	uint64_t last_out, last_in;	/* counters at the last traffic sample */
	uint32_t sampled;		/* the round that took them, 0: none */
	uint32_t born;			/* the round under way when it was decided */
	struct live *hnext, *older, *newer;
};

#define TRAFFIC_MAX 1024

/* A program's traffic since the last EV_TRAFFIC. */
struct traffic {
	char *exe;
	uint64_t out, in;
	uint32_t conns;
};

struct events {
	struct listener l[MAX_LISTENERS];
	int nl;
	struct live *buckets[LIVE_BUCKETS];
	struct live *oldest, *newest;
	size_t nlive;
	struct traffic traffic[TRAFFIC_MAX];
	int ntraffic;
	uint32_t round;			/* of sampling, counting from 1 */
	uint64_t round_start_ms;	/* monotonic */
	bool sampling;
	uint64_t seed;			/* of key_hash() */
};

/* Identical tuples in two namespaces are two flows: both in the hash. */
static uint32_t key_hash(const struct events *e, uint64_t netns, const struct flow_key *k)
{
	return hash_words(hash_mix(e->seed, netns), k, sizeof(*k)) % LIVE_BUCKETS;
}

uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct events *events_new(void)
{
	struct events *e = calloc(1, sizeof(struct events));

	if (e)
		e->seed = hash_seed();
	return e;
}

static void live_unlink(struct events *e, struct live *l)
{
	struct live **pp = &e->buckets[key_hash(e, l->netns, &l->key)];

	while (*pp && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = l->hnext;
	if (l->older)
		l->older->newer = l->newer;
	else
		e->oldest = l->newer;
	if (l->newer)
		l->newer->older = l->older;
	else
		e->newest = l->older;
	e->nlive--;
}

static void live_free(struct live *l)
{
	free((char *)l->ev.exe);
	free((char *)l->ev.domain);
	free(l);
}

static void traffic_clear(struct events *e)
{
	for (int i = 0; i < e->ntraffic; i++)
		free(e->traffic[i].exe);
	e->ntraffic = 0;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	traffic_clear(e);
	while (e->oldest) {
		struct live *l = e->oldest;

		live_unlink(e, l);
		live_free(l);
	}
	free(e);
}

int events_listen(struct events *e, uint32_t mask, ev_listener_fn fn, void *arg)
{
	if (!e || e->nl >= MAX_LISTENERS)
		return -ENOSPC;
	e->l[e->nl++] = (struct listener){ .mask = mask, .fn = fn, .arg = arg };
	return 0;
}

void events_unlisten(struct events *e, ev_listener_fn fn, void *arg)
{
	if (!e)
		return;
	for (int i = 0; i < e->nl; i++) {
		if (e->l[i].fn == fn && e->l[i].arg == arg) {
			memmove(&e->l[i], &e->l[i + 1], (size_t)(e->nl - i - 1) * sizeof(e->l[0]));
			e->nl--;
			return;
		}
	}
}

void events_publish(struct events *e, const struct pm_event *ev)
{
	if (!e)
		return;
	for (int i = 0; i < e->nl; i++)
		if (e->l[i].mask & EV_MASK(ev->type))
			e->l[i].fn(e->l[i].arg, ev);
}

static const char *mark_verdict(uint32_t mark, bool pending)
{
	if (pending)
		return "pending";
	switch (mark) {
	case PM_MARK_ACCEPT: case PM_MARK_ACCEPT_ALWAYS: return "allow";
	case PM_MARK_BLOCK: case PM_MARK_BLOCK_ALWAYS: return "block";
	case PM_MARK_DROP: case PM_MARK_DROP_ALWAYS: return "drop";
	case PM_MARK_REROUTE_DNS: return "reroute-dns";
	case PM_MARK_REROUTE_TUNNEL: return "reroute-tunnel";
	default: return "unknown";
	}
}

static void remember(struct events *e, const struct pm_event *ev, uint64_t netns,
		     const struct flow_key *k)
{
	struct live *l, **pp;
	uint32_t h = key_hash(e, netns, k);

	/* The same connection decided again (a rule change), or its tuple
	 * reused: the newer decision is the one its end belongs to. */
	for (pp = &e->buckets[h]; *pp; pp = &(*pp)->hnext) {
		if ((*pp)->netns == netns && !memcmp(&(*pp)->key, k, sizeof(*k))) {
			l = *pp;
			live_unlink(e, l);
			live_free(l);
			break;
		}
	}
	if (e->nlive >= LIVE_MAX) {
		l = e->oldest;
		live_unlink(e, l);
		live_free(l);
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->ev = *ev;
	l->ev.start_ms = now_ms();	/* monotonic here, wall time again at its end */
	l->born = e->round;
	l->netns = netns;
	l->key = *k;
	l->ev.exe = ev->exe ? strdup(ev->exe) : NULL;
	l->ev.cgroup = NULL;	/* borrowed; an end needs none */
	/* its end is listed with the name it was opened to */
	l->ev.domain = ev->domain ? strdup(ev->domain) : NULL;
	l->hnext = e->buckets[h];
	e->buckets[h] = l;
	l->older = e->newest;
	if (e->newest)
		e->newest->newer = l;
	e->newest = l;
	if (!e->oldest)
		e->oldest = l;
	e->nlive++;
}

void events_flow(struct pmd *d, const struct flow_entry *fe, enum ev_type type)
{
	const struct flow_info *f = &fe->info;
	struct pm_event ev = {
		.type = type,
		.time_ms = wall_ms(),
		.flow_id = fe->id,
		.ct_id = f->ct_id,
		.family = f->key.family,
		.proto = f->key.proto,
		.dir = f->dir,
		.lport = f->key.lport,
		.rport = f->key.rport,
		.pid = f->owner.pid,
		.have_uid = f->owner.have_uid,
		.uid = f->owner.uid,
		.exe = f->owner.exe,
		.cgroup = f->owner.cgroup,
		.domain = f->domain,	/* what its program resolved (dns/), or NULL */
		.verdict = mark_verdict(fe->mark, type == EV_PROMPT),
		.mark = type == EV_PROMPT ? 0 : fe->mark,
		.rule_id = fe->rule_id,
	};

	if (!d->events)
		return;
	memcpy(ev.laddr, f->key.laddr, sizeof(ev.laddr));
	memcpy(ev.raddr, f->key.raddr, sizeof(ev.raddr));
	ev.start_ms = ev.time_ms;
	if (type == EV_FLOW || type == EV_ANSWER)
		remember(d->events, &ev, f->netns, &f->key);
	events_publish(d->events, &ev);
}

static struct live *find(struct events *e, const struct ct_end *c, bool outbound)
{
	struct flow_key k = { .family = c->family, .proto = c->proto };
	size_t alen = c->family == AF_INET6 ? 16 : 4;

	/* Keys are normalised to the local side: outbound flows began
	 * there (orig src is local), inbound ones at the peer. */
	memcpy(k.laddr, outbound ? c->src : c->dst, alen);
	memcpy(k.raddr, outbound ? c->dst : c->src, alen);
	k.lport = outbound ? c->sport : c->dport;
	k.rport = outbound ? c->dport : c->sport;
	/* By namespace and tuple: the newest decision for a tuple is kept (a reused
	 * tuple replaces the old), and NFQUEUE gives no conntrack id on
	 * kernels without CONFIG_NETFILTER_NETLINK_GLUE_CT.  (The module's
	 * ids once seemed not to match conntrack's: they were its bytes in
	 * the other order, see intercept/kmod_msg.c.) */
	for (struct live *l = e->buckets[key_hash(e, c->netns, &k)]; l; l = l->hnext)
		if (l->netns == c->netns && !memcmp(&l->key, &k, sizeof(k)) &&
		    l->ev.dir == (outbound ? PM_DIR_OUT : PM_DIR_IN))
			return l;
	return NULL;
}

static struct traffic *traffic_of(struct events *e, const char *exe)
{
	struct traffic *t;

	if (!exe)
		exe = "-";
	for (int i = e->ntraffic - 1; i >= 0; i--)
		if (!strcmp(e->traffic[i].exe, exe))
			return &e->traffic[i];
	if (e->ntraffic == TRAFFIC_MAX)
		return NULL;
	t = &e->traffic[e->ntraffic];
	*t = (struct traffic){ .exe = strdup(exe) };
	if (!t->exe)
		return NULL;
	e->ntraffic++;
	return t;
}

/*
 * The bytes a flow moved since it was last seen, to its program.  A flow
 * seen in the last round, or decided since it began, counts; one first
 * seen after a gap in sampling only gives its counters as a start.
 */
static void account(struct events *e, struct live *l, uint64_t orig, uint64_t reply, bool conn)
{
	uint64_t out = l->ev.dir == PM_DIR_OUT ? orig : reply;
	uint64_t in = l->ev.dir == PM_DIR_OUT ? reply : orig;
	bool counts = (l->sampled ? l->sampled : l->born) + 1 >= e->round;
	struct traffic *t = traffic_of(e, l->ev.exe);

	if (t && counts) {
		t->out += out > l->last_out ? out - l->last_out : 0;
		t->in += in > l->last_in ? in - l->last_in : 0;
	}
	if (t && conn)
		t->conns++;
	l->last_out = out;
	l->last_in = in;
	l->sampled = e->round;
}

void events_sample_begin(struct pmd *d)
{
	struct events *e = d->events;
	uint64_t now = now_ms();

	if (!e)
		return;
	/* After a pause, what ended meanwhile is no news: start afresh. */
	if (!e->sampling || now - e->round_start_ms > 3000) {
		traffic_clear(e);
		e->round++;
		e->round_start_ms = now;
	}
	e->sampling = true;
	e->round++;
	e->round_start_ms = now;
}

void events_sample(struct pmd *d, const struct ct_end *c)
{
	struct events *e = d->events;
	struct live *l;

	if (!e || !e->sampling)
		return;
	l = find(e, c, true);
	if (!l)
		l = find(e, c, false);
	if (l)
		account(e, l, c->orig_bytes, c->reply_bytes, true);
}

void events_sample_end(struct pmd *d, uint32_t interval_ms)
{
	struct events *e = d->events;
	uint64_t now = wall_ms();

	if (!e)
		return;
	for (int i = 0; i < e->ntraffic; i++) {
		struct pm_event ev = {
			.type = EV_TRAFFIC, .time_ms = now, .exe = e->traffic[i].exe,
			.bytes_out = e->traffic[i].out, .bytes_in = e->traffic[i].in,
			.conns = e->traffic[i].conns, .interval_ms = interval_ms,
		};

		if (!strcmp(ev.exe, "-"))
			ev.exe = NULL;
		events_publish(e, &ev);
	}
	traffic_clear(e);
}

void events_ct_end(struct pmd *d, const struct ct_end *c)
{
	struct events *e = d->events;
	struct live *l;
	uint64_t orig_bytes = c->orig_bytes, orig_pkts = c->orig_pkts;
	uint64_t reply_bytes = c->reply_bytes, reply_pkts = c->reply_pkts;

	if (!e)
		return;
	l = find(e, c, true);
	if (!l)
		l = find(e, c, false);
	if (!l)
		return;	/* not a flow we decided, or forgotten under load */
	live_unlink(e, l);
	/* What it moved since the last sample is this second's traffic too. */
	if (e->sampling)
		account(e, l, c->orig_bytes, c->reply_bytes, false);
	l->ev.type = EV_END;
	l->ev.time_ms = wall_ms();
	l->ev.start_ms = l->ev.time_ms - (now_ms() - l->ev.start_ms);	/* back to wall time */
	/* orig is the direction of the first packet: ours for outbound flows. */
	if (l->ev.dir == PM_DIR_OUT) {
		l->ev.bytes_out = orig_bytes, l->ev.pkts_out = orig_pkts;
		l->ev.bytes_in = reply_bytes, l->ev.pkts_in = reply_pkts;
	} else {
		l->ev.bytes_in = orig_bytes, l->ev.pkts_in = orig_pkts;
		l->ev.bytes_out = reply_bytes, l->ev.pkts_out = reply_pkts;
	}
	events_publish(e, &l->ev);
	live_free(l);
}

void events_dns(struct pmd *d, const struct pm_dns_query *q)
{
	struct pm_event ev = {
		.type = EV_DNS,
		.time_ms = wall_ms(),
		.pid = q->pid,
		.have_uid = q->have_uid,
		.uid = q->uid,
		.exe = q->exe,
		.cgroup = q->cgroup,
		.qname = q->qname,
		.domain = q->qname,
		.qtype = q->qtype,
		.rcode = q->rcode,
		.answers = q->answers,
		.verdict = q->verdict ? q->verdict : "allow",
		.rule_id = q->rule_id,
		.dir = PM_DIR_OUT,
	};

	if (d->events)
		events_publish(d->events, &ev);
}

static const char *const type_names[EV__COUNT] = {
	[EV_FLOW] = "flow", [EV_PROMPT] = "prompt", [EV_ANSWER] = "answer",
	[EV_END] = "end", [EV_DNS] = "dns", [EV_TRAFFIC] = "traffic",
};

const char *event_type_name(enum ev_type t)
{
	return t < EV__COUNT ? type_names[t] : "?";
}

int event_type_parse(const char *s, enum ev_type *t)
{
	for (int i = 0; i < EV__COUNT; i++)
		if (!strcmp(s, type_names[i])) {
			*t = (enum ev_type)i;
			return 0;
		}
	return -1;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

void event_record(struct buf *b, const struct pm_event *ev)
{
	char a[64], p[8];

	rec_str(b, "event", event_type_name(ev->type));
	rec_u64(b, "time", ev->time_ms);
	if (ev->type == EV_TRAFFIC) {
		rec_str(b, "exe", ev->exe ? ev->exe : "-");
		rec_u64(b, "conns", ev->conns);
		rec_u64(b, "bytes_out", ev->bytes_out);
		rec_u64(b, "bytes_in", ev->bytes_in);
		rec_u64(b, "interval_ms", ev->interval_ms);
		rec_end(b);
		return;
	}
	if (ev->type != EV_DNS) {
		const uint8_t *src = ev->dir == PM_DIR_OUT ? ev->laddr : ev->raddr;
		const uint8_t *dst = ev->dir == PM_DIR_OUT ? ev->raddr : ev->laddr;

		rec_u64(b, "id", ev->flow_id);
		rec_u64(b, "ct", ev->ct_id);
		rec_str(b, "dir", ev->dir == PM_DIR_OUT ? "out" : "in");
		rec_str(b, "proto", proto_name(ev->proto, p, sizeof(p)));
		rec_str(b, "src", addr_str(ev->family, src, a, sizeof(a)));
		rec_u64(b, "sport", ev->dir == PM_DIR_OUT ? ev->lport : ev->rport);
		rec_str(b, "dst", addr_str(ev->family, dst, a, sizeof(a)));
		rec_u64(b, "dport", ev->dir == PM_DIR_OUT ? ev->rport : ev->lport);
	}
	rec_i64(b, "pid", ev->pid);
	if (ev->have_uid)
		rec_u64(b, "uid", ev->uid);
	else
		rec_str(b, "uid", "-");
	rec_str(b, "exe", ev->exe ? ev->exe : "-");
	if (ev->domain)
		rec_str(b, "domain", ev->domain);
	rec_str(b, "verdict", ev->verdict ? ev->verdict : "-");
	rec_u64(b, "rule", ev->rule_id);
	if (ev->type == EV_END) {
		rec_u64(b, "start", ev->start_ms);
		rec_u64(b, "bytes_out", ev->bytes_out);
		rec_u64(b, "bytes_in", ev->bytes_in);
		rec_u64(b, "packets_out", ev->pkts_out);
		rec_u64(b, "packets_in", ev->pkts_in);
	}
	if (ev->type == EV_DNS) {
		rec_u64(b, "qtype", ev->qtype);
		rec_u64(b, "rcode", ev->rcode);
		rec_str(b, "answers", ev->answers ? ev->answers : "");
	}
	rec_end(b);
}
