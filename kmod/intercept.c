// SPDX-License-Identifier: GPL-2.0
/*
 * A packet of an undecided connection, step by step: it joins a flow that
 * is already waiting, or it is the first packet of a new flow, which is
 * decided by a remembered verdict or announced to the listener and held.
 * Each step either says what becomes of the packet (enum pm_outcome) or
 * lets the next one go on; the bounds are checked before anything costly
 * is built, so a flood is cheap to refuse.  Whatever overflows a bound,
 * or finds no memory, is dropped: never let through undecided.
 */
#include <linux/slab.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>

#include "intercept.h"
#include "netlink.h"
#include "netns.h"
#include "owner.h"
#include "remember.h"
#include "verdict.h"

/* What becomes of a packet of an undecided connection. */
enum pm_outcome {
	PM_NEXT,		/* not yet known: the next step says */
	PM_HELD,		/* held until its flow's verdict */
	PM_NOT_LOCAL,		/* no local socket takes it: the stack answers */
	PM_NO_LISTENER,		/* the listener left meanwhile: out of the way */
	PM_BY_POLICY,		/* the listener is gone or hangs */
	PM_REMEMBERED,		/* a remembered verdict decides it here */
	PM_DECIDED_MEANWHILE,	/* its flow was decided as it came */
	PM_DROP_TABLE_FULL,
	PM_DROP_QUOTA_FULL,
	PM_DROP_QUEUE_FULL,
	PM_DROP_NO_MEMORY,
	PM_DROP_NO_ROUTE,
	PM_DROP_UNSAFE,		/* device going down, socket gone, shared entry */
};

/* A packet and what the steps learn about it. */
struct pm_intercept {
	struct pm_net *pn;
	struct sk_buff *skb;
	const struct nf_hook_state *state;
	struct nf_conn *ct;
	enum ip_conntrack_info ctinfo;
	bool silent;
	struct pm_limits lim;
	struct pm_flow_key key;
	u8 dir;			/* of the flow */
	bool reply;		/* the packet goes the flow's reply way */
	struct sock *sk;	/* the local socket, if any */
	bool sk_ref;		/* ... looked up: a reference to put */
	u32 uid;		/* the socket's, for the shares of the table */
	u32 gen;		/* the listener the flow is announced to */
	u32 portid;
	struct pm_flow *flow;	/* a new flow, until the table has it */
	char *exe_buf;		/* the program's path, until the flow has it */
	unsigned int exe_size;
	const char *exe;
	const char *remembered_exe;	/* the path a remembered verdict has */
	struct sk_buff *event;	/* its FLOW_NEW, until sent */
	u64 *id_slot;
	struct pm_packet *packet;	/* until held */
	u32 mark;		/* PM_REMEMBERED, PM_DECIDED_MEANWHILE */
};

/* A prepared holder for the packet, or why there is none. */
static enum pm_outcome pm_packet_ready(struct pm_intercept *c)
{
	int err;

	if (c->packet)
		return PM_NEXT;
	c->packet = pm_packet_alloc(GFP_ATOMIC);
	if (!c->packet)
		return PM_DROP_NO_MEMORY;
	err = pm_packet_prepare(c->packet, c->skb, c->state);
	if (!err)
		return PM_NEXT;
	pm_packet_free(c->packet);
	c->packet = NULL;
	return err == -EHOSTUNREACH ? PM_DROP_NO_ROUTE : PM_DROP_UNSAFE;
}

/* Hold the packet with @f, which is waiting or being decided. */
static enum pm_outcome pm_hold_with(struct pm_intercept *c, struct pm_flow *f)
{
	if (pm_flow_hold(&c->pn->table, f, c->packet, &c->lim))
		return PM_DROP_QUEUE_FULL;
	c->packet = NULL;
	return PM_HELD;
}

/* Step: a later packet of a flow that is already waiting waits with it. */
static enum pm_outcome pm_step_join(struct pm_intercept *c)
{
	struct pm_table *t = &c->pn->table;
	enum pm_outcome o;
	struct pm_flow *f;

	/*
	 * Nothing waits, as nearly always once verdicts are remembered:
	 * no lock to take.  A flow another CPU adds after this read is
	 * found by pm_step_announce(), under the lock, as one added after
	 * the lookup below would be.
	 */
	if (!READ_ONCE(t->flows))
		return PM_NEXT;
	spin_lock_bh(&t->lock);
	f = pm_table_find_key(t, &c->key);
	spin_unlock_bh(&t->lock);
	if (!f)
		return PM_NEXT;

	o = pm_packet_ready(c);
	if (o != PM_NEXT)
		return o;
	spin_lock_bh(&t->lock);
	f = pm_table_find_key(t, &c->key);
	o = f ? pm_hold_with(c, f) : PM_NEXT;
	spin_unlock_bh(&t->lock);
	return o;
}

static bool pm_lookup_is_authoritative(u8 protonum)
{
	return protonum == IPPROTO_TCP || protonum == IPPROTO_UDP ||
	       protonum == IPPROTO_UDPLITE;
}

/* A socket some process opened, not one of the stack's own. */
static bool pm_sk_of_a_process(const struct sock *sk)
{
	return sk && sk_fullsock(sk) && sk->sk_socket &&
	       READ_ONCE(sk->sk_socket->file);
}

/*
 * Step: the direction of the flow and its local socket.  An inbound
 * packet that no local socket will receive (a closed port, a scan, a
 * flood) is not ours to hold or announce: the stack answers it as it
 * would without us, and its answer (a reset, an echo reply, sent from
 * no process's socket) goes likewise.  Only where the socket lookup knows
 * every receiver (TCP, UDP); an echo request is answered by the stack.
 */
static enum pm_outcome pm_step_local_socket(struct pm_intercept *c)
{
	const struct nf_hook_state *state = c->state;
	bool out = state->hook == NF_INET_LOCAL_OUT;

	c->reply = CTINFO2DIR(c->ctinfo) == IP_CT_DIR_REPLY;
	c->dir = out != c->reply ? PM_DIR_OUT : PM_DIR_IN;

	if (out) {
		c->sk = skb_to_full_sk(c->skb);
		if (c->reply && !pm_sk_of_a_process(c->sk))
			return PM_NOT_LOCAL;
		return PM_NEXT;
	}
	if (c->skb->sk) {	/* early demux found it */
		c->sk = skb_to_full_sk(c->skb);
		return PM_NEXT;
	}
	c->sk = pm_owner_lookup_local(state->net, c->skb, state->in, state->pf);
	if (c->sk) {
		c->sk_ref = true;
		return PM_NEXT;
	}
	if (pm_lookup_is_authoritative(c->key.protonum))
		return PM_NOT_LOCAL;
	if (!c->reply && (c->key.protonum == IPPROTO_ICMP ||
			  c->key.protonum == IPPROTO_ICMPV6))
		return PM_NOT_LOCAL;
	return PM_NEXT;
}

/* Step: is there room for a new flow of this direction and uid? */
static enum pm_outcome pm_step_room(struct pm_intercept *c)
{
	c->uid = U32_MAX;	/* no socket: a uid of its own */
	if (c->sk && sk_fullsock(c->sk))
		c->uid = __kuid_val(c->sk->sk_uid);
	switch (pm_table_room(&c->pn->table, &c->lim, c->dir, c->uid)) {
	case PM_ROOM_TABLE_FULL:
		return PM_DROP_TABLE_FULL;
	case PM_ROOM_QUOTA_FULL:
		return PM_DROP_QUOTA_FULL;
	case PM_ROOM_OK:
		break;
	}
	return PM_NEXT;
}

#define PM_EXE_SHORT 256

/*
 * The executable's path, for a flow that is announced: read in the
 * sender's context or never.  (A remembered verdict needs only the
 * executable's identity, read in pm_step_new_flow().)
 */
static void pm_flow_exe(struct pm_intercept *c)
{
	struct pm_owner *o = &c->flow->owner;

	if (!(o->flags & PM_OWNER_TASK) || c->state->hook != NF_INET_LOCAL_OUT)
		return;
	/* most paths are short: a page only for one that is not */
	c->exe_size = PM_EXE_SHORT;
	c->exe_buf = kmalloc(c->exe_size, GFP_ATOMIC);
	c->exe = pm_owner_exe(o, c->exe_buf, c->exe_size);
	if (IS_ERR(c->exe)) {
		kfree(c->exe_buf);
		c->exe_size = PATH_MAX;
		c->exe_buf = kmalloc(c->exe_size, GFP_ATOMIC);
		c->exe = pm_owner_exe(o, c->exe_buf, c->exe_size);
		if (IS_ERR(c->exe))
			c->exe = NULL;
	}
}

/*
 * Step: the new flow's identity and owner.  The listener (read under the
 * hook's RCU read lock) tells which namespaces its pids and uids are in.
 */
static enum pm_outcome pm_step_new_flow(struct pm_intercept *c)
{
	const struct nf_hook_state *state = c->state;
	const struct net_device *dev;
	const struct pm_listener *l;
	struct pm_flow *f;

	l = rcu_dereference(c->pn->listener);
	if (!l)
		return PM_NO_LISTENER;
	c->gen = l->gen;
	c->portid = l->portid;

	f = pm_flow_alloc(GFP_ATOMIC);
	if (!f)
		return PM_DROP_NO_MEMORY;
	c->flow = f;
	if (pm_flow_parse(c->skb, state->pf, &f->info))
		return PM_DROP_UNSAFE;	/* nothing to name: nothing to allow */
	if (c->reply)
		pm_flow_reverse(&f->info);
	f->info.direction = c->dir;
	dev = state->hook == NF_INET_LOCAL_OUT ? state->out : state->in;
	f->info.ifindex = dev ? dev->ifindex : 0;
	f->info.ct_id = nf_ct_get_id(c->ct);
	f->key = c->key;
	f->dir = c->dir;
	f->uid = c->uid;

	pm_owner_from_sock(c->sk, l->userns, &f->owner);
	if (state->hook == NF_INET_LOCAL_OUT && !c->reply &&
	    pm_owner_in_sender_context()) {
		pm_owner_from_current(l->pidns, &f->owner);
		pm_owner_exe(&f->owner, NULL, 0);	/* who, not yet where */
	}
	return PM_NEXT;
}

/* Step: like a flow decided before, decided now, reported, not asked. */
static enum pm_outcome pm_step_remembered(struct pm_intercept *c)
{
	struct pm_remember_key key;

	if (READ_ONCE(c->pn->remember.count)) {
		pm_remember_key(c->flow, &key);
		c->mark = pm_remember_lookup(&c->pn->remember, &key, jiffies,
					     &c->remembered_exe);
		if (c->mark)
			return PM_REMEMBERED;
	}
	return c->silent ? PM_BY_POLICY : PM_NEXT;
}

/*
 * Step: the flow was decided between conntrack's lookup for this packet
 * and now: its first packet has confirmed the connection with a kept
 * verdict.  This packet joins that entry and gets that verdict, rather
 * than a second question.
 */
static enum pm_outcome pm_step_decided_meanwhile(struct pm_intercept *c)
{
	struct nf_conn *twin = pm_ct_confirmed_twin(c->ct);
	u32 mark;

	if (!twin)
		return PM_NEXT;
	mark = READ_ONCE(twin->mark);
	if (!pm_mark_is_permanent(mark)) {	/* asked again, as its next packet */
		nf_ct_put(twin);
		return PM_NEXT;
	}
	pm_ct_join(c->skb, twin);
	c->ct = twin;
	c->mark = mark;
	return PM_DECIDED_MEANWHILE;
}

/* An add the table refused because the listener changed: as it is now. */
static enum pm_outcome pm_listener_outcome(struct pm_net *pn)
{
	return READ_ONCE(pn->listener_state) == PM_LISTENER_NONE ?
	       PM_NO_LISTENER : PM_BY_POLICY;
}

static enum pm_outcome pm_add_error(struct pm_net *pn, int err)
{
	switch (err) {
	case -ENOSPC:
		return PM_DROP_TABLE_FULL;
	case -EDQUOT:
		return PM_DROP_QUOTA_FULL;
	case -ENOBUFS:
		return PM_DROP_QUEUE_FULL;
	default:	/* -ESHUTDOWN */
		return pm_listener_outcome(pn);
	}
}

/* The event could not be delivered: the flow waits for a dump instead. */
static void pm_event_lost(struct pm_intercept *c, u64 id)
{
	struct pm_table *t = &c->pn->table;
	struct pm_flow *f;

	pm_stat_inc(c->pn, PM_STAT_EVENT_FAILED);
	spin_lock_bh(&t->lock);
	f = pm_table_find_id(t, id);
	if (f)
		f->event_lost = true;
	spin_unlock_bh(&t->lock);
}

/* Step: announce the new flow to the listener and hold its packet. */
static enum pm_outcome pm_step_announce(struct pm_intercept *c)
{
	struct pm_table *t = &c->pn->table;
	struct pm_flow *f = c->flow, *other;
	enum pm_outcome o;
	u64 id;
	int err;

	pm_flow_exe(c);
	c->event = pm_netlink_flow_event(f, c->exe, 0, GFP_ATOMIC, &c->id_slot);
	if (!c->event)
		return PM_DROP_NO_MEMORY;
	o = pm_packet_ready(c);
	if (o != PM_NEXT)
		return o;

	spin_lock_bh(&t->lock);
	other = pm_table_find_key(t, &c->key);
	if (other) {	/* another CPU announced it first */
		o = pm_hold_with(c, other);
		spin_unlock_bh(&t->lock);
		return o;
	}
	err = pm_table_add(t, f, c->packet, &c->lim, jiffies, c->gen);
	if (err) {
		spin_unlock_bh(&t->lock);
		return pm_add_error(c->pn, err);
	}
	c->flow = NULL;
	c->packet = NULL;
	if (c->exe && pm_flow_keep_exe(t, f, c->exe_buf, c->exe_size, c->exe,
				       &c->lim))
		c->exe_buf = NULL;
	id = f->id;
	memcpy(c->id_slot, &id, sizeof(id));
	pm_net_kick_expiry(c->pn, f->deadline);
	spin_unlock_bh(&t->lock);

	pm_stat_inc(c->pn, PM_STAT_INTERCEPTED);
	err = pm_netlink_unicast(c->state->net, c->event, c->portid);
	c->event = NULL;	/* consumed, sent or not */
	if (err)
		pm_event_lost(c, id);
	return PM_HELD;
}

/* What the hook returns for @o, counted. */
static unsigned int pm_outcome_verdict(struct pm_intercept *c,
				       enum pm_outcome o)
{
	struct pm_net *pn = c->pn;

	switch (o) {
	case PM_HELD:
		return NF_STOLEN;
	case PM_NOT_LOCAL:
		pm_stat_inc(pn, PM_STAT_NOT_LOCAL);
		return NF_ACCEPT;
	case PM_NO_LISTENER:
		return NF_ACCEPT;
	case PM_BY_POLICY:
		return pm_fail_policy(pn);
	case PM_REMEMBERED:
		pm_stat_inc(pn, PM_STAT_REMEMBERED);
		pm_report_flow(&pn->report, c->flow, c->remembered_exe, c->mark,
			       c->portid);
		return pm_apply_new_verdict(c->skb, c->state, c->ct, c->mark);
	case PM_DECIDED_MEANWHILE:
		return pm_apply_kept_verdict(pn, c->skb, c->state, c->mark);
	case PM_DROP_TABLE_FULL:
		pm_stat_inc(pn, PM_STAT_TABLE_FULL);
		return NF_DROP;
	case PM_DROP_QUOTA_FULL:
		pm_stat_inc(pn, PM_STAT_QUOTA_FULL);
		return NF_DROP;
	case PM_DROP_QUEUE_FULL:
		pm_stat_inc(pn, PM_STAT_QUEUE_FULL);
		return NF_DROP;
	case PM_DROP_NO_MEMORY:
		pm_stat_inc(pn, PM_STAT_NO_MEMORY);
		return NF_DROP;
	case PM_DROP_NO_ROUTE:
		pm_stat_inc(pn, PM_STAT_NO_ROUTE);
		return NF_DROP;
	case PM_DROP_UNSAFE:
	case PM_NEXT:		/* no step decided: nothing may let it pass */
		return NF_DROP;
	}
	return NF_DROP;
}

/* Whatever the steps built and nobody took. */
static void pm_intercept_release(struct pm_intercept *c)
{
	if (c->packet) {
		pm_packet_release(c->packet);
		pm_packet_free(c->packet);
	}
	kfree_skb(c->event);
	kfree(c->exe_buf);
	if (c->flow)
		pm_flow_free(c->flow);
	if (c->sk_ref)
		sock_gen_put(c->sk);
}

/**
 * pm_intercept - a packet of a connection with no verdict kept on it
 * @pn: its namespace
 * @skb: the packet
 * @state: the hook
 * @ct: its conntrack entry
 * @ctinfo: and how it relates to it
 * @silent: the listener hangs: only a remembered verdict is taken
 *
 * Runs in the hook, under its RCU read lock, in any context.
 * Return: the hook's verdict.
 */
unsigned int pm_intercept(struct pm_net *pn, struct sk_buff *skb,
			  const struct nf_hook_state *state,
			  struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			  bool silent)
{
	struct pm_intercept c = {
		.pn = pn,
		.skb = skb,
		.state = state,
		.ct = ct,
		.ctinfo = ctinfo,
		.silent = silent,
	};
	enum pm_outcome o = PM_NEXT;
	unsigned int verdict;

	if (silent && !READ_ONCE(pn->remember.count))
		return pm_fail_policy(pn);
	pm_config_limits(pn, &c.lim);
	pm_flow_key_from_ct(ct, &c.key);

	o = pm_step_join(&c);
	if (o == PM_NEXT)
		o = pm_step_local_socket(&c);
	if (o == PM_NEXT)
		o = pm_step_room(&c);
	if (o == PM_NEXT)
		o = pm_step_new_flow(&c);
	if (o == PM_NEXT)
		o = pm_step_remembered(&c);
	if (o == PM_NEXT)
		o = pm_step_decided_meanwhile(&c);
	if (o == PM_NEXT)
		o = pm_step_announce(&c);

	verdict = pm_outcome_verdict(&c, o);
	pm_intercept_release(&c);
	return verdict;
}
