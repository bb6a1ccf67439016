// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "attrib/attrib.h"
#include "daemon.h"
#include "decide/engine.h"
#include "decide/apps.h"
#include "events/events.h"
#include "common/log.h"
#include "common/util.h"
#include "dns/dns.h"

/* FNV-1a: the table is private, and its size bounds every chain anyway. */
/* Seeded (flowtab_init()): see hash_words(). */
static uint32_t id_hash(const struct flowtab *t, uint64_t netns, uint32_t ct_id)
{
	return hash_words(hash_mix(t->seed, netns), &ct_id, sizeof(ct_id)) % FLOWTAB_BUCKETS;
}

static uint32_t tuple_hash(const struct flowtab *t, uint64_t netns, const struct flow_key *k)
{
	return hash_words(hash_mix(t->seed ^ 1, netns), k, sizeof(*k)) % FLOWTAB_BUCKETS;
}

int flowtab_init(struct flowtab *t)
{
	memset(t, 0, sizeof(*t));
	t->by_id = calloc(FLOWTAB_BUCKETS, sizeof(*t->by_id));
	t->by_tuple = calloc(FLOWTAB_BUCKETS, sizeof(*t->by_tuple));
	t->next_id = 1;
	t->seed = hash_seed();
	if (!t->by_id || !t->by_tuple) {
		free(t->by_id);
		free(t->by_tuple);
		return -ENOMEM;
	}
	return 0;
}

/* What a flow_info owns, once it is not handed to an entry. */
static void info_release(struct flow_info *fi)
{
	owner_release(&fi->owner);
	free(fi->domain);
	free(fi->cnames);
	fi->domain = fi->cnames = NULL;
}

/* The entry owns them now. */
static void info_handed_over(struct flow_info *fi)
{
	fi->owner.exe = fi->domain = fi->cnames = NULL;
	fi->owner.cmdline = fi->owner.cgroup = fi->owner.ancestors = NULL;
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
	free(t->by_id);
	free(t->by_tuple);
	memset(t, 0, sizeof(*t));
}

static bool same_tuple(const struct flow_entry *e, const struct flow_info *fi)
{
	return e->info.netns == fi->netns && !memcmp(&e->info.key, &fi->key, sizeof(fi->key));
}

struct flow_entry *flowtab_lookup(struct flowtab *t, const struct flow_info *fi)
{
	if (fi->ct_id) {
		for (struct flow_entry *e = t->by_id[id_hash(t, fi->netns, fi->ct_id)]; e;
		     e = e->hnext_id)
			if (e->info.ct_id == fi->ct_id && e->info.netns == fi->netns)
				return e;
		return NULL;
	}
	for (struct flow_entry *e = t->by_tuple[tuple_hash(t, fi->netns, &fi->key)]; e;
	     e = e->hnext_tuple)
		if (!e->info.ct_id && same_tuple(e, fi))
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

static void pending_link(struct flowtab *t, struct flow_entry *e)
{
	e->state = FS_PENDING;
	e->pprev = NULL;
	e->pnext = t->pending;
	if (t->pending)
		t->pending->pprev = e;
	t->pending = e;
	t->npending++;
	t->npending_dir[e->info.dir & 1]++;
}

static void pending_unlink(struct flowtab *t, struct flow_entry *e)
{
	if (e->state != FS_PENDING)
		return;
	if (e->pprev)
		e->pprev->pnext = e->pnext;
	else
		t->pending = e->pnext;
	if (e->pnext)
		e->pnext->pprev = e->pprev;
	e->pprev = e->pnext = NULL;
	t->npending--;
	t->npending_dir[e->info.dir & 1]--;
	e->state = FS_DECIDED;
}

static void unlink_entry(struct flowtab *t, struct flow_entry *e)
{
	struct flow_entry **pp;

	pending_unlink(t, e);
	if (e->info.ct_id) {
		pp = &t->by_id[id_hash(t, e->info.netns, e->info.ct_id)];
		while (*pp && *pp != e)
			pp = &(*pp)->hnext_id;
		if (*pp)
			*pp = e->hnext_id;
	}
	pp = &t->by_tuple[tuple_hash(t, e->info.netns, &e->info.key)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext_tuple;
	if (*pp)
		*pp = e->hnext_tuple;
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

/* A new flow, in front of any older one with the same id or tuple. */
static struct flow_entry *flowtab_insert(struct flowtab *t, struct pm_ns *ns,
					 const struct flow_info *fi)
{
	struct flow_entry *e;
	uint32_t h;

	if (t->n >= FLOWTAB_MAX)
		evict(t);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->info = *fi;
	e->ns = ns;
	e->id = t->next_id++;
	if (fi->ct_id) {
		h = id_hash(t, fi->netns, fi->ct_id);
		e->hnext_id = t->by_id[h];
		t->by_id[h] = e;
	}
	h = tuple_hash(t, fi->netns, &fi->key);
	e->hnext_tuple = t->by_tuple[h];
	t->by_tuple[h] = e;
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
	case ACT_TUNNEL:
		return PM_MARK_REROUTE_TUNNEL;
	case ACT_ALLOW:
		return permanent ? PM_MARK_ACCEPT_ALWAYS : PM_MARK_ACCEPT;
	case ACT_BLOCK:
		return permanent ? PM_MARK_BLOCK_ALWAYS : PM_MARK_BLOCK;
	default:
		return permanent ? PM_MARK_DROP_ALWAYS : PM_MARK_DROP;
	}
}

enum action mark_action(uint32_t mark)
{
	switch (mark) {
	case PM_MARK_REROUTE_TUNNEL:
		return ACT_TUNNEL;
	case PM_MARK_BLOCK:
	case PM_MARK_BLOCK_ALWAYS:
		return ACT_BLOCK;
	case PM_MARK_DROP:
	case PM_MARK_DROP_ALWAYS:
		return ACT_DROP;
	default:
		return ACT_ALLOW;
	}
}

static void count(struct pmd *d, uint32_t mark)
{
	if (mark >= 1700 && mark < 1800)
		d->st.verdicts[mark - 1700]++;
}

static void answer(struct pmd *d, struct pm_ns *ns, uint16_t q, uint64_t id, uint32_t mark)
{
	count(d, mark);
	if (d->be && d->be->verdict(d, ns, q, id, mark) < 0)
		pm_warn("verdict %u for packet %llu (queue %u) failed", mark,
			(unsigned long long)id, q);
}

static bool is_block(uint32_t mark)
{
	return mark == PM_MARK_BLOCK || mark == PM_MARK_BLOCK_ALWAYS;
}

static bool is_refusal(uint32_t mark)
{
	return is_block(mark) || mark == PM_MARK_DROP || mark == PM_MARK_DROP_ALWAYS;
}

static void reject(struct pmd *d, const struct flow_entry *e, const uint8_t *pkt, size_t len)
{
	if (pkt && len && d->be && d->be->reject)
		d->be->reject(d, e->ns, pkt, len, e->info.ifindex);
}

static void hold(struct pmd *d, struct flow_entry *e, uint16_t q, uint64_t id,
		 const uint8_t *pkt, size_t len)
{
	if (e->nheld >= FLOW_MAX_HELD) {
		/* The flow already waits with enough of its packets: drop this
		 * one (for this packet only); the sender retransmits. */
		d->st.held_overflow++;
		answer(d, e->ns, q, id, PM_MARK_DROP);
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

/* Outbound DNS not sent to our own resolver: with reroute_dns on, an
 * allowed query gets 1799 and is sent there. */
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

/* The mark that carries out action a for e, kept on its connection. */
static uint32_t mark_for(struct pmd *d, const struct flow_entry *e, enum action a)
{
	uint32_t mark;

	if (a == ACT_TUNNEL) {
		const struct endpoint *t = e->info.key.family == AF_INET6 ? &d->cfg.tunnel6 :
					   &d->cfg.tunnel;

		/* meant for the tunnel, it never goes out directly */
		a = t->set ? ACT_TUNNEL : ACT_BLOCK;
	}
	mark = fit_mark(d, e, action_mark(a, true));

	if (mark == PM_MARK_ACCEPT_ALWAYS && is_stray_dns(d, &e->info))
		mark = PM_MARK_REROUTE_DNS;
	return mark;
}

/* opening: was the packet that e was decided on the one creating its
 * entry? */
static void set_decided(struct flow_entry *e, uint32_t mark, bool opening)
{
	e->state = FS_DECIDED;
	e->mark = mark;
	e->decided_ms = now_ms();
	e->unconfirmed = opening && is_refusal(mark);
	e->gen = e->ns ? e->ns->clear_gen : 0;
}

/* Decided: said to whoever listens, counted for its program. */
static void decided(struct pmd *d, struct flow_entry *e, enum ev_type ev)
{
	events_flow(d, e, ev);
	apps_note(d->apps, &e->info, e->mark);
}

/* Answers the packets held for e with mark. */
static void decide_held(struct pmd *d, struct flow_entry *e, uint32_t mark)
{
	pending_unlink(&d->ft, e);
	for (int i = 0; i < e->nheld; i++)
		answer(d, e->ns, e->held_q[i], e->held_id[i], mark);
	if (e->nheld && is_block(mark))
		reject(d, e, e->pkt, e->pktlen);
	e->nheld = 0;
	free(e->pkt);
	e->pkt = NULL;
	e->pktlen = 0;
	/* held since the packet that opened it */
	set_decided(e, mark, true);
	decided(d, e, EV_ANSWER);
}

/* The first live rule for a flow; once rules only for new flows. */
static struct rule *match_rule(struct pmd *d, const struct flow_info *f, bool new_flow)
{
	return ruleset_first(&d->rules, f, now_ms(), new_flow);
}

/* A once rule decides one flow and is used up. */
static void used(struct pmd *d, struct rule *r)
{
	r->hits++;
	if (r->scope == SCOPE_ONCE)
		ruleset_del(&d->rules, r->id);
}

/*
 * Fair shares of the prompts: each direction at most half of max_pending,
 * and one uid at most half of its direction's share (at least one each),
 * so that a flood from one side or one user cannot take them all.
 */
static bool prompt_quota_ok(struct pmd *d, const struct flow_info *f)
{
	size_t dir_share = d->cfg.max_pending / 2, uid_share, same = 0;

	if (!dir_share)
		dir_share = 1;
	uid_share = dir_share / 2 ? dir_share / 2 : 1;
	if (d->ft.npending >= d->cfg.max_pending) {
		d->st.pending_full++;
		return false;
	}
	if (d->ft.npending_dir[f->dir & 1] >= dir_share) {
		d->st.quota_full++;
		return false;
	}
	for (struct flow_entry *p = d->ft.pending; p; p = p->pnext) {
		if (p->info.dir != f->dir || p->info.owner.have_uid != f->owner.have_uid)
			continue;
		if (!f->owner.have_uid || p->info.owner.uid == f->owner.uid)
			same++;
	}
	if (same >= uid_share) {
		d->st.quota_full++;
		return false;
	}
	return true;
}

/*
 * A new flow: its rule, else the default; "ask" holds it for a prompt
 * when it may be asked and there is room.  Everything decided is kept on
 * the connection.
 */
static void decide_new(struct pmd *d, struct flow_entry *e, uint16_t q, uint64_t id,
		       const uint8_t *pkt, size_t len)
{
	uint64_t now = now_ms();
	struct rule *r;
	enum action a;
	enum scope scope;
	uint64_t expires;
	uint32_t dns_mark;

	if (dns_flow_verdict(d, &e->info, &dns_mark)) {
		/* DNS itself, and ways around the resolver: not the rules' */
		e->rule_id = 0;
		set_decided(e, fit_mark(d, e, dns_mark), true);
		decided(d, e, EV_FLOW);
		answer(d, e->ns, q, id, e->mark);
		if (is_block(e->mark))
			reject(d, e, pkt, len);
		return;
	}
	r = dns_cname_rule(d, &e->info, match_rule(d, &e->info, true), now);
	a = r ? r->action : d->def;
	scope = r ? r->scope : SCOPE_ALWAYS;
	expires = r ? r->expires_ms : 0;

	e->rule_id = r ? r->id : 0;
	if (r)
		used(d, r);
	if (scope == SCOPE_ONCE && a != ACT_ASK) {
		/* a once rule answers for this one connection, as a prompt's
		 * answer does */
		e->answered = true;
		e->answer = a;
	}
	if (a == ACT_ASK) {
		if (e->info.no_socket) {
			/* Inbound to a port nothing listens on: there is
			 * nobody to ask for; the stack would refuse it. */
			d->st.not_local++;
			a = d->cfg.prompt_fallback;
		} else if (!prompt_quota_ok(d, &e->info)) {
			a = d->cfg.prompt_fallback;
		} else {
			pending_link(&d->ft, e);
			e->deadline_ms = now + (uint64_t)d->cfg.prompt_timeout_s * 1000;
			d->st.prompts++;
			hold(d, e, q, id, pkt, len);
			events_flow(d, e, EV_PROMPT);
			return;
		}
	}
	set_decided(e, mark_for(d, e, a), true);
	decided(d, e, EV_FLOW);
	/* the module remembers plain verdicts, not reroutes */
	if (scope != SCOPE_ONCE && e->mark >= PM_MARK_ACCEPT_ALWAYS &&
	    e->mark <= PM_MARK_DROP_ALWAYS && d->cfg.remember_s && d->be &&
	    d->be->verdict_remember && !dns_names_decide(d) &&
	    !ruleset_beyond_remember_key(&d->rules)) {
		/* What a rule (or the default) decides holds for flows like
		 * this one; a rule that ends sooner bounds it. */
		uint64_t ms = (uint64_t)d->cfg.remember_s * 1000;

		if (scope == SCOPE_FOR)
			ms = expires > now ? (ms < expires - now ? ms : expires - now) : 0;
		if (ms) {
			count(d, e->mark);
			if (d->be->verdict_remember(d, e->ns, id, e->mark, (uint32_t)ms) < 0)
				pm_warn("verdict %u for flow %llu failed", e->mark,
					(unsigned long long)id);
			return;
		}
	}
	answer(d, e->ns, q, id, e->mark);
	if (is_block(e->mark))
		reject(d, e, pkt, len);
}

/*
 * What a connection decided before gets now: a rule that matches, else
 * the answer given to its prompt, else the default.  Nobody is asked about
 * a connection that is already running: where the outcome would be a
 * prompt, it keeps the verdict it has.
 */
static uint32_t redecide_mark(struct pmd *d, struct flow_entry *e)
{
	struct rule *r;
	uint32_t dns_mark;

	if (dns_flow_verdict(d, &e->info, &dns_mark))
		return fit_mark(d, e, dns_mark);
	r = dns_cname_rule(d, &e->info, match_rule(d, &e->info, false), now_ms());

	if (r && r->action != ACT_ASK) {
		/* The rule that decided it before, deciding it again (its SYN
		 * sent again before our verdict came, a cleared mark), has
		 * not decided another connection. */
		if (e->rule_id != r->id)
			r->hits++;
		e->rule_id = r->id;
		return mark_for(d, e, r->action);
	}
	if (e->answered)
		return mark_for(d, e, e->answer);
	if (!r && d->def != ACT_ASK) {
		e->rule_id = 0;
		return mark_for(d, e, d->def);
	}
	return e->mark ? fit_mark(d, e, e->mark) : mark_for(d, e, d->cfg.prompt_fallback);
}

static void redecide(struct pmd *d, struct flow_entry *e, bool opening, uint16_t q,
		     uint64_t id, const uint8_t *pkt, size_t len)
{
	uint32_t mark = redecide_mark(d, e);

	d->st.redecided++;
	set_decided(e, mark, opening);
	answer(d, e->ns, q, id, mark);
	if (is_block(mark))
		reject(d, e, pkt, len);
}

/* IPv6 neighbour discovery and multicast listener messages keep the link
 * working; blocking them would cut the host off, whatever the rules say. */
static bool is_link_control(const struct flow_info *fi)
{
	if (fi->key.proto != IPPROTO_ICMPV6)
		return false;
	return (fi->icmp_type >= 130 && fi->icmp_type <= 137) || fi->icmp_type == 143;
}

/*
 * Found by its conntrack id (or tuple), but is it that connection?
 *
 * Where the fallback's kernel says whether a packet creates its entry
 * (NFQA_CT_INFO), that settles it: an id seen before then belonged to an
 * entry that is gone (ids are made from the entry's address, which is
 * reused).  The module does not say; there a different socket on our side
 * is a different connection.  A kernel without the conntrack glue gives
 * the fallback neither id nor state, only the tuple; then a TCP connection
 * is new only with a SYN, and for the rest: a connection whose kept mark
 * we have not cleared since we gave it would never be queued again, so
 * whatever is queued with its tuple is a new entry; after a clearing, the
 * same socket on our side is the same connection, and no socket (one
 * closing) is no new program to name.
 */
static bool is_other_connection(struct pmd *d, struct pm_ns *ns, const struct flow_entry *e,
				struct flow_info *fi)
{
	if (fi->ct_state_known)
		return fi->ct_new;
	if (fi->tcp_syn)
		return true;
	if (fi->ct_id)
		return fi->dir == PM_DIR_OUT && fi->owner.inode && e->info.owner.inode &&
		       fi->owner.inode != e->info.owner.inode;
	if (e->unconfirmed)
		return true;
	if (fi->key.proto == IPPROTO_TCP)
		return false;
	if (e->gen == ns->clear_gen)
		return true;
	if (!fi->owner.inode)
		attrib_socket(d->attrib, ns->diag_fd, ns == d->ns[0], fi);
	if (!fi->owner.inode)
		return false;
	/* an inbound connection was named after the listening socket; now
	 * its own socket answers, of the same user */
	if (fi->dir == PM_DIR_IN)
		return !e->info.owner.have_uid || fi->owner.uid != e->info.owner.uid;
	return fi->owner.inode != e->info.owner.inode;
}

/*
 * A new conntrack entry may still be a flow we know: the retransmission of
 * a packet that waits for its prompt, or of one we refused before its
 * entry could be confirmed, or a SYN sent again while the first still
 * waited in the queue (each copy has an unconfirmed entry of its own).
 * It is, when it has the same tuple and comes from the same socket; the
 * fallback looks the socket up for that.
 */
static bool may_be_sent_again(const struct flow_entry *e, const struct flow_info *fi)
{
	if (e->state == FS_PENDING || e->unconfirmed)
		return true;
	/* a TCP socket connects to one peer from one port once */
	return e->state == FS_DECIDED && fi->key.proto == IPPROTO_TCP && fi->tcp_syn;
}

static struct flow_entry *retransmission_of(struct pmd *d, struct pm_ns *ns,
					    struct flow_info *fi)
{
	bool looked = false;

	for (struct flow_entry *e = d->ft.by_tuple[tuple_hash(&d->ft, fi->netns, &fi->key)]; e;
	     e = e->hnext_tuple) {
		if (!same_tuple(e, fi) || !may_be_sent_again(e, fi))
			continue;
		if (is_icmp(fi->key.proto))
			return e;	/* no socket to tell: the echo identifier is it */
		if (!fi->owner.inode && !looked) {
			attrib_socket(d->attrib, ns->diag_fd, ns == d->ns[0], fi);
			looked = true;
		}
		if (fi->owner.inode && fi->owner.inode == e->info.owner.inode)
			return e;
	}
	return NULL;
}

void engine_packet(struct pmd *d, struct pm_ns *ns, struct flow_info *fi, bool parsed,
		   uint16_t queue, uint64_t id, const uint8_t *pkt, size_t pktlen)
{
	struct flow_entry *e;
	bool retrans = false;

	d->st.packets++;
	if (!parsed) {
		d->st.unparsable++;
		answer(d, ns, queue, id, PM_MARK_DROP);
		return;
	}
	if (fi->icmp_error || is_link_control(fi)) {
		/* An ICMP error belongs to the flow it reports on (conntrack
		 * relates it), including the one REJECT sends for a blocked
		 * flow: let it through, for this packet only. */
		d->st.icmp_errors++;
		answer(d, ns, queue, id, PM_MARK_ACCEPT);
		return;
	}
	fi->netns = ns->id;
	if (!fi->ct_state_known && !fi->ct_id)
		/* no word from the kernel: a TCP packet opens its entry only
		 * as a SYN; others are taken as opening unless found below */
		fi->ct_new = fi->key.proto == IPPROTO_TCP ? fi->tcp_syn : true;
	e = flowtab_lookup(&d->ft, fi);
	if (e && e->state != FS_PENDING && is_other_connection(d, ns, e, fi))
		e = NULL;
	else if (e && !fi->ct_state_known)
		fi->ct_new = false;
	if (!e && (fi->ct_new || !fi->ct_state_known)) {
		e = retransmission_of(d, ns, fi);
		retrans = e != NULL;
	}
	if (e) {
		touch(&d->ft, e);
		e->pkts++;
		e->info.ct_new = fi->ct_new || retrans;
		if (e->state == FS_PENDING)
			hold(d, e, queue, id, pkt, pktlen);
		else
			/* Decided before and asked again: its mark was
			 * cleared by a rule change, or its packet was
			 * refused before its entry existed. */
			redecide(d, e, retrans || fi->ct_new, queue, id, pkt, pktlen);
		return;
	}
	attrib_lookup(d->attrib, ns->diag_fd, ns == d->ns[0], fi, &d->st);
	if (ns == d->ns[0])	/* the resolver answers our own namespace */
		dns_name_flow(d, fi);
	e = flowtab_insert(&d->ft, ns, fi);
	if (!e) {
		info_release(fi);
		answer(d, ns, queue, id, action_mark(d->cfg.prompt_fallback, false));
		return;
	}
	info_handed_over(fi);
	e->created_ms = now_ms();
	e->pkts = 1;
	decide_new(d, e, queue, id, pkt, pktlen);
}

void engine_report(struct pmd *d, struct pm_ns *ns, struct flow_info *fi, uint32_t mark)
{
	struct flow_entry *e;

	d->st.packets++;
	d->st.remembered++;
	fi->netns = ns->id;
	if (ns == d->ns[0])
		dns_name_flow(d, fi);
	e = flowtab_insert(&d->ft, ns, fi);
	if (!e) {
		info_release(fi);
		return;
	}
	info_handed_over(fi);
	e->created_ms = now_ms();
	e->pkts = 1;
	set_decided(e, mark, false);
	decided(d, e, EV_FLOW);
}

bool engine_is_pending(struct pmd *d, struct pm_ns *ns, uint64_t held_id)
{
	for (struct flow_entry *e = d->ft.pending; e; e = e->pnext)
		for (int i = 0; e->ns == ns && i < e->nheld; i++)
			if (e->held_id[i] == held_id)
				return true;
	return false;
}

int engine_verdict(struct pmd *d, struct flow_entry *e, enum action a)
{
	if (!e || e->state != FS_PENDING)
		return -ENOENT;
	if (a == ACT_ASK)
		return -EINVAL;
	e->rule_id = 0;
	e->answered = true;
	e->answer = a;
	decide_held(d, e, mark_for(d, e, a));
	return 0;
}

void engine_rules_changed(struct pmd *d)
{
	struct flow_entry *e, *next;

	for (e = d->ft.pending; e; e = next) {
		struct rule *r = match_rule(d, &e->info, true);
		enum action a = r ? r->action : d->def;

		next = e->pnext;
		if (a == ACT_ASK)
			continue;
		e->rule_id = r ? r->id : 0;
		if (r)
			used(d, r);
		decide_held(d, e, mark_for(d, e, a));
	}
}

void engine_tick(struct pmd *d)
{
	uint64_t now = now_ms();
	struct flow_entry *e, *next;

	for (e = d->ft.pending; e; e = next) {
		next = e->pnext;
		if (now < e->deadline_ms)
			continue;
		d->st.timeouts++;
		/* The fallback answers for the user: this connection only. */
		e->answered = true;
		e->answer = d->cfg.prompt_fallback;
		decide_held(d, e, mark_for(d, e, d->cfg.prompt_fallback));
	}
	if (ruleset_expire(&d->rules, now) > 0) {
		char err[256];

		pmd_rules_changed(d, false, err, sizeof(err));
	}
}

void engine_release_all(struct pmd *d)
{
	while (d->ft.pending)
		decide_held(d, d->ft.pending, action_mark(d->cfg.prompt_fallback, false));
}

void engine_dns_query(struct pmd *d, const struct flow_key *k, const struct owner *o,
		      const char *name, bool blocked)
{
	struct pm_ns *ns = d->nns ? d->ns[0] : NULL;
	uint64_t netns = ns ? ns->id : 0;
	struct flow_entry *e;
	char *dup;

	/* the newest flow with the query's tuple, whatever its conntrack id */
	for (e = d->ft.by_tuple[tuple_hash(&d->ft, netns, k)]; e; e = e->hnext_tuple)
		if (e->info.netns == netns && !memcmp(&e->info.key, k, sizeof(*k)))
			break;
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
		fi.netns = netns;
		fi.key = *k;
		fi.dir = PM_DIR_OUT;
		fi.has_ports = true;
		if (owner_copy(&fi.owner, o) < 0) {
			free(dup);
			return;
		}
		e = flowtab_insert(&d->ft, ns, &fi);
		if (!e) {
			owner_release(&fi.owner);
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
