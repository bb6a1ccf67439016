// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "attrib/attrib.h"
#include "daemon.h"
#include "decide/engine.h"
#include "events/events.h"
#include "common/log.h"
#include "common/util.h"
#include "dns/dns.h"

static uint32_t key_hash(const struct flow_key *k)
{
	/* FNV-1a over the key; the table is private, no need for a keyed hash
	 * beyond the bounded chain length the size limit gives. */
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % FLOWTAB_BUCKETS;
}

int flowtab_init(struct flowtab *t)
{
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(FLOWTAB_BUCKETS, sizeof(*t->buckets));
	t->next_id = 1;
	return t->buckets ? 0 : -ENOMEM;
}

/* What a flow_info owns, once it is not handed to an entry. */
static void info_release(struct flow_info *fi)
{
	free(fi->owner.exe);
	free(fi->domain);
	free(fi->cnames);
	fi->owner.exe = fi->domain = fi->cnames = NULL;
}

/* The entry owns them now. */
static void info_handed_over(struct flow_info *fi)
{
	fi->owner.exe = fi->domain = fi->cnames = NULL;
}

static void entry_free(struct flow_entry *e)
{
	info_release(&e->info);
	free(e->pkt);
	free(e);
}

void flowtab_free(struct flowtab *t)
{
	struct flow_entry *e = t->head, *n;

	for (; e; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

struct flow_entry *flowtab_lookup(struct flowtab *t, const struct flow_key *k)
{
	for (struct flow_entry *e = t->buckets[key_hash(k)]; e; e = e->hnext)
		if (!memcmp(&e->info.key, k, sizeof(*k)))
			return e;
	return NULL;
}

struct flow_entry *flowtab_find_id(struct flowtab *t, uint64_t id)
{
	for (struct flow_entry *e = t->head; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void unlink_entry(struct flowtab *t, struct flow_entry *e)
{
	struct flow_entry **pp = &t->buckets[key_hash(&e->info.key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	t->n--;
}

static void touch(struct flowtab *t, struct flow_entry *e)
{
	if (t->head == e)
		return;
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	e->prev = NULL;
	e->next = t->head;
	t->head->prev = e;
	t->head = e;
}

/* The oldest decided entry makes room; pending ones are bounded apart. */
static void evict(struct flowtab *t)
{
	for (struct flow_entry *e = t->tail; e && t->n >= FLOWTAB_MAX; e = e->prev) {
		if (e->state == FS_PENDING)
			continue;
		unlink_entry(t, e);
		entry_free(e);
		return;
	}
}

static struct flow_entry *flowtab_insert(struct flowtab *t, const struct flow_info *fi)
{
	struct flow_entry *e;
	uint32_t h;

	if (t->n >= FLOWTAB_MAX)
		evict(t);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->info = *fi;
	e->id = t->next_id++;
	h = key_hash(&fi->key);
	e->hnext = t->buckets[h];
	t->buckets[h] = e;
	e->next = t->head;
	if (t->head)
		t->head->prev = e;
	t->head = e;
	if (!t->tail)
		t->tail = e;
	t->n++;
	return e;
}

uint32_t action_mark(enum action a, bool permanent)
{
	switch (a) {
	case ACT_ALLOW:
		return permanent ? PM_MARK_ACCEPT_ALWAYS : PM_MARK_ACCEPT;
	case ACT_BLOCK:
		return permanent ? PM_MARK_BLOCK_ALWAYS : PM_MARK_BLOCK;
	default:
		return permanent ? PM_MARK_DROP_ALWAYS : PM_MARK_DROP;
	}
}

static void answer(struct pmd *d, uint16_t q, uint64_t id, uint32_t mark)
{
	if (mark >= 1700 && mark < 1800)
		d->st.verdicts[mark - 1700]++;
	if (d->be && d->be->verdict(d, q, id, mark) < 0)
		pm_warn("verdict %u for packet %llu (queue %u) failed", mark,
			(unsigned long long)id, q);
}

static bool is_block(uint32_t mark)
{
	return mark == PM_MARK_BLOCK || mark == PM_MARK_BLOCK_ALWAYS;
}

static void reject(struct pmd *d, const struct flow_entry *e, const uint8_t *pkt, size_t len)
{
	if (pkt && len && d->be && d->be->reject)
		d->be->reject(d, pkt, len, e->info.ifindex);
}

static void hold(struct pmd *d, struct flow_entry *e, uint16_t q, uint64_t id,
		 const uint8_t *pkt, size_t len)
{
	if (e->nheld >= FLOW_MAX_HELD) {
		/* The flow already waits with enough of its packets: drop this
		 * one (for this packet only); the sender retransmits. */
		d->st.held_overflow++;
		answer(d, q, id, PM_MARK_DROP);
		return;
	}
	e->held_q[e->nheld] = q;
	e->held_id[e->nheld] = id;
	e->nheld++;
	if (!e->pkt && pkt && len) {
		size_t n = len > 256 ? 256 : len;

		e->pkt = malloc(n);
		if (e->pkt) {
			memcpy(e->pkt, pkt, n);
			e->pktlen = (uint16_t)n;
		}
	}
}

static uint32_t fit_mark(struct pmd *d, const struct flow_entry *e, uint32_t mark)
{
	if (mark == PM_MARK_BLOCK_ALWAYS && e->info.ct_new && d->be && d->be->block_new_once)
		return PM_MARK_BLOCK;
	return mark;
}

static void decide_held(struct pmd *d, struct flow_entry *e, uint32_t mark)
{
	mark = fit_mark(d, e, mark);
	for (int i = 0; i < e->nheld; i++)
		answer(d, e->held_q[i], e->held_id[i], mark);
	if (e->nheld && is_block(mark))
		reject(d, e, e->pkt, e->pktlen);
	e->nheld = 0;
	free(e->pkt);
	e->pkt = NULL;
	e->pktlen = 0;
	if (e->state == FS_PENDING)
		d->ft.npending--;
	e->state = FS_DECIDED;
	e->mark = mark;
	e->decided_ms = now_ms();
	events_flow(d, e, EV_ANSWER);
}

/* Outbound DNS not sent to our own resolver: with reroute_dns on, an
 * allowed query gets 1799 and the seed's NAT rule sends it there. */
static bool is_stray_dns(const struct pmd *d, const struct flow_info *f)
{
	const struct endpoint *ns = f->key.family == AF_INET6 ? &d->cfg.nameserver6 :
				    &d->cfg.nameserver;
	size_t alen = f->key.family == AF_INET6 ? 16 : 4;

	if (!d->cfg.reroute_dns || !ns->set || f->dir != PM_DIR_OUT ||
	    f->key.proto != IPPROTO_UDP || f->key.rport != 53)
		return false;
	return memcmp(f->key.raddr, ns->addr, alen) != 0;
}

/* Decides e from the rules; holds the packet when the answer is "ask". */
static void decide(struct pmd *d, struct flow_entry *e, uint16_t q, uint64_t id,
		   const uint8_t *pkt, size_t len)
{
	uint64_t now = now_ms();
	struct rule *r;
	enum action a;
	bool permanent = true;
	uint32_t dns_mark;

	if (dns_flow_verdict(d, &e->info, &dns_mark)) {
		/* DNS itself, and ways around the resolver: not the rules' */
		e->rule_id = 0;
		e->state = FS_DECIDED;
		e->mark = fit_mark(d, e, dns_mark);
		e->decided_ms = now;
		events_flow(d, e, EV_FLOW);
		answer(d, q, id, e->mark);
		if (is_block(e->mark))
			reject(d, e, pkt, len);
		return;
	}
	r = dns_cname_rule(d, &e->info, ruleset_match(&d->rules, &e->info, now), now);
	a = r ? r->action : d->def;

	e->rule_id = r ? r->id : 0;
	if (r) {
		r->hits++;
		if (r->scope == SCOPE_ONCE) {
			/* A once rule decides this one connection, packet by
			 * packet (1700...), and is used up. */
			permanent = false;
			e->sticky = true;
			ruleset_del(&d->rules, r->id);
		}
	}
	if (a == ACT_ASK) {
		if (d->ft.npending >= d->cfg.max_pending) {
			d->st.pending_full++;
			a = d->cfg.prompt_fallback;
		} else {
			if (e->state != FS_PENDING)
				d->ft.npending++;
			e->state = FS_PENDING;
			e->sticky = false;
			e->deadline_ms = now + (uint64_t)d->cfg.prompt_timeout_s * 1000;
			d->st.prompts++;
			hold(d, e, q, id, pkt, len);
			events_flow(d, e, EV_PROMPT);
			return;
		}
	}
	e->state = FS_DECIDED;
	e->mark = fit_mark(d, e, action_mark(a, permanent));
	if (e->mark == PM_MARK_ACCEPT_ALWAYS && is_stray_dns(d, &e->info))
		e->mark = PM_MARK_REROUTE_DNS;
	e->decided_ms = now;
	events_flow(d, e, EV_FLOW);
	if (permanent && d->cfg.remember_s && d->be && d->be->verdict_remember &&
	    !dns_names_decide(d)) {
		/* what a rule decides holds for flows like this one; a rule
		 * that ends sooner bounds it */
		uint64_t ms = (uint64_t)d->cfg.remember_s * 1000;

		if (r && r->scope == SCOPE_FOR)
			ms = r->expires_ms > now ? (ms < r->expires_ms - now ? ms : r->expires_ms - now) : 0;
		if (ms) {
			if (e->mark >= 1700 && e->mark < 1800)
				d->st.verdicts[e->mark - 1700]++;
			if (d->be->verdict_remember(d, id, e->mark, (uint32_t)ms) < 0)
				pm_warn("verdict %u for flow %llu failed", e->mark,
					(unsigned long long)id);
			return;
		}
	}
	answer(d, q, id, e->mark);
	if (is_block(e->mark))
		reject(d, e, pkt, len);
}

/*
 * A flow the module decided by itself, from a verdict it remembers: listed
 * like any other, never answered.
 */
void engine_report(struct pmd *d, struct flow_info *fi, uint32_t mark)
{
	struct flow_entry *e;

	d->st.packets++;
	d->st.remembered++;
	e = flowtab_lookup(&d->ft, &fi->key);
	if (e && e->state == FS_PENDING)
		return;	/* not ours to settle */
	if (e) {
		unlink_entry(&d->ft, e);
		entry_free(e);
	}
	dns_name_flow(d, fi);
	e = flowtab_insert(&d->ft, fi);
	if (!e) {
		info_release(fi);
		return;
	}
	info_handed_over(fi);
	e->created_ms = e->decided_ms = now_ms();
	e->pkts = 1;
	e->state = FS_DECIDED;
	e->mark = mark;
	events_flow(d, e, EV_FLOW);
}

/* IPv6 neighbour discovery and multicast listener messages keep the link
 * working; blocking them would cut the host off, whatever the rules say. */
static bool is_link_control(const struct flow_info *fi)
{
	if (fi->key.proto != IPPROTO_ICMPV6)
		return false;
	return (fi->icmp_type >= 130 && fi->icmp_type <= 137) || fi->icmp_type == 143;
}

void engine_packet(struct pmd *d, struct flow_info *fi, bool parsed,
		   uint16_t queue, uint64_t id, const uint8_t *pkt, size_t pktlen)
{
	struct flow_entry *e;

	d->st.packets++;
	if (!parsed) {
		d->st.unparsable++;
		answer(d, queue, id, PM_MARK_DROP);
		goto out;
	}
	if (fi->icmp_error || is_link_control(fi)) {
		/* An ICMP error belongs to the flow it reports on (conntrack
		 * relates it), including the one REJECT sends for a blocked
		 * flow: let it through, for this packet only. */
		d->st.icmp_errors++;
		answer(d, queue, id, PM_MARK_ACCEPT);
		goto out;
	}
	e = flowtab_lookup(&d->ft, &fi->key);
	if (e && e->state != FS_PENDING && fi->tcp_syn) {
		/* A new connection that reuses the addresses and ports of an
		 * old one: it may be another process's; start afresh. */
		unlink_entry(&d->ft, e);
		entry_free(e);
		e = NULL;
	}
	if (e) {
		touch(&d->ft, e);
		e->pkts++;
		e->info.ct_new = fi->ct_new;
		if (e->state == FS_PENDING) {
			hold(d, e, queue, id, pkt, pktlen);
			goto out;
		}
		if (e->sticky) {
			answer(d, queue, id, e->mark);
			if (is_block(e->mark))
				reject(d, e, pkt, pktlen);
			goto out;
		}
		/* Decided before, asked again: its connection was reset (a
		 * rule change) or expired.  Decide again with what we know of
		 * it: its direction and owner stay those of its first packet. */
		decide(d, e, queue, id, pkt, pktlen);
		goto out;
	}
	attrib_lookup(d->attrib, fi, &d->st);
	dns_name_flow(d, fi);
	e = flowtab_insert(&d->ft, fi);
	if (!e) {
		info_release(fi);
		answer(d, queue, id, action_mark(d->cfg.prompt_fallback, false));
		goto out;
	}
	info_handed_over(fi);
	e->created_ms = now_ms();
	e->pkts = 1;
	decide(d, e, queue, id, pkt, pktlen);
out:
	if (d->be && d->be->flush)
		d->be->flush(d);
}

int engine_verdict(struct pmd *d, uint64_t flow_id, enum action a, bool permanent)
{
	struct flow_entry *e = flowtab_find_id(&d->ft, flow_id);

	if (!e || e->state != FS_PENDING)
		return -ENOENT;
	if (a == ACT_ASK)
		return -EINVAL;
	e->sticky = !permanent;
	e->rule_id = 0;
	decide_held(d, e, action_mark(a, permanent));
	if (d->be && d->be->flush)
		d->be->flush(d);
	return 0;
}

void engine_tick(struct pmd *d)
{
	uint64_t now = now_ms();
	bool any = false;

	if (d->ft.npending) {
		for (struct flow_entry *e = d->ft.head; e; e = e->next) {
			if (e->state != FS_PENDING || now < e->deadline_ms)
				continue;
			d->st.timeouts++;
			/* The fallback decides this connection only; the next
			 * connection of the same kind is asked again. */
			e->sticky = true;
			decide_held(d, e, action_mark(d->cfg.prompt_fallback, false));
			any = true;
		}
	}
	if (d->be && d->be->tick)
		d->be->tick(d, now);
	if (ruleset_expire(&d->rules, now) > 0) {
		char err[256];

		pmd_rules_changed(d, false, err, sizeof(err));
	}
	if (any && d->be && d->be->flush)
		d->be->flush(d);
}

void engine_release_all(struct pmd *d)
{
	for (struct flow_entry *e = d->ft.head; e; e = e->next)
		if (e->state == FS_PENDING)
			decide_held(d, e, action_mark(d->cfg.prompt_fallback, false));
	if (d->be && d->be->flush)
		d->be->flush(d);
}

void engine_dns_query(struct pmd *d, const struct flow_key *k, const struct owner *o,
		      const char *name, bool blocked)
{
	struct flow_entry *e = flowtab_lookup(&d->ft, k);
	char *dup;

	if (e && e->info.domain && !strcmp(e->info.domain, name)) {
		e->dns_blocked = blocked;
		e->pkts++;
		return;
	}
	dup = strdup(name);
	if (!dup)
		return;
	if (!e) {
		/* its flow is gone from the table (or came before we did):
		 * list the query on its own */
		struct flow_info fi;

		memset(&fi, 0, sizeof(fi));
		fi.key = *k;
		fi.dir = PM_DIR_OUT;
		fi.has_ports = true;
		fi.owner = *o;
		fi.owner.exe = o->exe ? strdup(o->exe) : NULL;
		e = flowtab_insert(&d->ft, &fi);
		if (!e) {
			free(fi.owner.exe);
			free(dup);
			return;
		}
		e->created_ms = e->decided_ms = now_ms();
		e->state = FS_DECIDED;
		e->mark = PM_MARK_ACCEPT_ALWAYS;
	}
	free(e->info.domain);
	e->info.domain = dup;
	e->dns_blocked = blocked;
	e->pkts++;
}
