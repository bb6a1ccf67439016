// SPDX-License-Identifier: GPL-2.0
/*
 * Acting on a verdict.  For a decided connection (ct->mark holds a
 * permanent mark) the hook calls pm_apply_kept_verdict() and the packet
 * never leaves the fast path.  Held packets are acted on here once their
 * flow is taken from the table: accepted ones continue through the hook
 * chain from the entry after ours, then okfn, as nf_reinject() does, so
 * every later hook (NAT, the user's own filter rules) still applies and
 * no earlier one runs twice.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/dst.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "compat.h"
#include "hooks.h"
#include "netns.h"
#include "verdict.h"

#if !IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
#error "portmaster needs CONFIG_NF_CONNTRACK_MARK"
#endif

/*
 * An unconfirmed entry belongs to one packet; clones that share it (IP
 * multicast routing, bridge netfilter) could change it on another CPU
 * while we hold one of them, so such a packet is not held (as
 * nfnetlink_queue refuses it).
 */
static bool pm_ct_shared_unconfirmed(const struct sk_buff *skb)
{
	struct nf_conn *ct = (struct nf_conn *)skb_nfct(skb);

	return ct && !nf_ct_is_confirmed(ct) &&
	       refcount_read(&ct->ct_general.use) > 1;
}

/**
 * pm_packet_prepare - take what a held packet needs to continue later
 * @p: where the packet is kept
 * @skb: the packet
 * @state: where it was stopped
 *
 * Its devices, its socket (also one that early demux only prefetched,
 * without a reference: the socket could be freed while the packet waits)
 * and a refcounted route, as nf_queue does.
 *
 * Return: 0; -ENETDOWN for a device going down; -EHOSTUNREACH when the
 * route cannot be kept; -ENOTCONN when the socket is already going;
 * -EBUSY for an unconfirmed entry shared by clones.  The packet must be
 * dropped on any error: accepting it would let it pass undecided.
 */
int pm_packet_prepare(struct pm_packet *p, struct sk_buff *skb,
		      const struct nf_hook_state *state)
{
	if ((state->in && !netif_running(state->in)) ||
	    (state->out && !netif_running(state->out)))
		return -ENETDOWN;
	if (pm_ct_shared_unconfirmed(skb))
		return -EBUSY;
	if (skb_sk_is_prefetched(skb)) {
		struct sock *sk = skb->sk;

		if (!sk_is_refcounted(sk)) {
			if (!refcount_inc_not_zero(&sk->sk_refcnt))
				return -ENOTCONN;
			/* skb_orphan() drops the reference we took */
			skb->destructor = sock_edemux;
		}
	}
	if (skb_dst(skb) && !skb_dst_force(skb))
		return -EHOSTUNREACH;
	if (state->sk && !refcount_inc_not_zero(&state->sk->sk_refcnt))
		return -ENOTCONN;
	p->skb = skb;
	p->skb_dev = skb->dev;
	p->state = *state;
	dev_hold(p->skb_dev);
	dev_hold(state->in);
	dev_hold(state->out);
	return 0;
}

void pm_packet_release(struct pm_packet *p)
{
	dev_put(p->skb_dev);
	dev_put(p->state.in);
	dev_put(p->state.out);
	if (p->state.sk)
		sock_gen_put(p->state.sk);
}

static void pm_reject(struct sk_buff *skb, const struct nf_hook_state *state)
{
	if (state->pf == NFPROTO_IPV4)
		nf_send_unreach(skb, ICMP_HOST_ANO, state->hook);
#if IS_ENABLED(CONFIG_IPV6)
	else if (state->pf == NFPROTO_IPV6)
		nf_send_unreach6(state->net, skb, ICMPV6_ADM_PROHIBITED,
				 state->hook);
#endif
}

/*
 * The reroutes are matched by a NAT rule on the packet mark, so that one
 * mark is set.  On output, a new mark may mean a new route (policy
 * routing by fwmark), as the mangle table does.
 */
static int pm_mark_skb(struct sk_buff *skb, const struct nf_hook_state *state,
		       u32 mark)
{
	if (skb->mark == mark)
		return 0;
	skb->mark = mark;
	if (state->hook != NF_INET_LOCAL_OUT)
		return 0;
	if (state->pf == NFPROTO_IPV4)
		return ip_route_me_harder(state->net, state->sk, skb,
					  RTN_UNSPEC);
#if IS_ENABLED(CONFIG_IPV6)
	if (state->pf == NFPROTO_IPV6)
		return ip6_route_me_harder(state->net, state->sk, skb);
#endif
	return 0;
}

/* The fast path: a connection whose permanent verdict is in ct->mark. */
unsigned int pm_apply_kept_verdict(struct pm_net *pn, struct sk_buff *skb,
				   const struct nf_hook_state *state, u32 mark)
{
	pm_stat_inc(pn, PM_STAT_FAST_PATH);
	switch (mark) {
	case PM_MARK_ACCEPT_ALWAYS:
		return NF_ACCEPT;
	case PM_MARK_BLOCK_ALWAYS:
		pm_reject(skb, state);
		return NF_DROP;
	case PM_MARK_DROP_ALWAYS:
		return NF_DROP;
	default:	/* the reroutes */
		return pm_mark_skb(skb, state, mark) < 0 ? NF_DROP : NF_ACCEPT;
	}
}

/*
 * Keep a permanent verdict on the connection, where the user's rules can
 * match it with -m connmark.  A mark that is not ours is left alone.
 */
static void pm_ct_set_mark(struct nf_conn *ct, u32 mark)
{
	u32 old = READ_ONCE(ct->mark);

	if (old == mark)
		return;
	if (old != PM_MARK_UNDECIDED && pm_verdict_index(old) < 0)
		return;
	WRITE_ONCE(ct->mark, mark);
	nf_conntrack_event_cache(IPCT_MARK, ct);
}

/*
 * A new flow decided in the hook (by a remembered verdict): the mark is
 * kept, and a blocked flow's entry is confirmed before its packet goes,
 * so that its retransmissions stay in the fast path.
 */
unsigned int pm_apply_new_verdict(struct sk_buff *skb,
				  const struct nf_hook_state *state,
				  struct nf_conn *ct, u32 mark)
{
	struct pm_verdict v;

	if (!pm_verdict_from_mark(mark, &v))
		return NF_DROP;
	if (v.permanent)
		pm_ct_set_mark(ct, mark);
	switch (v.action) {
	case PM_ACTION_ACCEPT:
		if (v.mark_packet && pm_mark_skb(skb, state, mark) < 0)
			return NF_DROP;
		return NF_ACCEPT;
	case PM_ACTION_REJECT:
		if (v.permanent)
			nf_conntrack_confirm(skb);
		pm_reject(skb, state);
		return NF_DROP;
	case PM_ACTION_DROP:
	default:
		if (v.permanent)
			nf_conntrack_confirm(skb);
		return NF_DROP;
	}
}

/* A listener that is gone or hangs: what the namespace's policy says. */
unsigned int pm_fail_policy(struct pm_net *pn)
{
	if (READ_ONCE(pn->config.fail_policy) == PM_FAIL_CLOSED) {
		pm_stat_inc(pn, PM_STAT_POLICY_DROP);
		return NF_DROP;
	}
	pm_stat_inc(pn, PM_STAT_POLICY_ACCEPT);
	return NF_ACCEPT;
}

/* Accept: continue through the hooks after ours, then okfn. */
static void pm_continue(struct pm_net *pn, struct sk_buff *skb,
			struct nf_hook_state *state)
{
	const struct nf_hook_entries *hooks;
	int i, ret;

	hooks = pm_hook_entries(state->net, state->pf, state->hook);
	i = pm_hook_index(hooks, pn);
	if (i < 0) {	/* our hooks are gone: nowhere to continue from */
		kfree_skb(skb);
		return;
	}
	ret = nf_hook_slow(skb, state, hooks, i + 1);
	if (ret == 1)
		state->okfn(state->net, state->sk, skb);
}

/**
 * pm_ct_confirmed_twin - the confirmed entry of an unconfirmed one's tuple
 * @ct: an unconfirmed entry
 *
 * A later packet of a flow whose first packet was not yet confirmed gets
 * an unconfirmed entry of its own; once the first is confirmed, this is
 * the entry it belongs to.  Return: it, with a reference, or NULL.
 */
struct nf_conn *pm_ct_confirmed_twin(struct nf_conn *ct)
{
	const struct nf_conntrack_tuple_hash *h;

	if (nf_ct_is_confirmed(ct))
		return NULL;
	h = nf_conntrack_find_get(nf_ct_net(ct), nf_ct_zone(ct),
				  &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple);
	if (!h)
		return NULL;
	if (NF_CT_DIRECTION(h) != IP_CT_DIR_ORIGINAL) {
		nf_ct_put(nf_ct_tuplehash_to_ctrack(h));
		return NULL;
	}
	return nf_ct_tuplehash_to_ctrack(h);
}

/* The packet's own entry gives way to @twin; the reference moves too. */
void pm_ct_join(struct sk_buff *skb, struct nf_conn *twin)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	nf_ct_put(ct);
	nf_ct_set(skb, twin, ctinfo);
}

/*
 * On 6.1 conntrack's update (pm_ct_update()) has joined a held later
 * packet to the entry its first packet confirmed already; 6.12 leaves
 * that to the clash resolution at confirmation, which drops the clash
 * for protocols that do not merge (ICMP, TCP).  So here it joins that
 * entry, as it would have had it arrived then, provided its NAT (done
 * before our LOCAL_IN hook) gave the same result; a packet that cannot
 * be made consistent is dropped.  Return: false to drop.
 */
static bool pm_join_confirmed(struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct, *twin;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct)
		return true;
	twin = pm_ct_confirmed_twin(ct);
	if (!twin)	/* the first packet never confirmed it: ours may */
		return true;
	if (!nf_ct_tuple_equal(&ct->tuplehash[IP_CT_DIR_REPLY].tuple,
			       &twin->tuplehash[IP_CT_DIR_REPLY].tuple)) {
		nf_ct_put(twin);
		return false;
	}
	pm_ct_join(skb, twin);
	return true;
}

/* Conntrack's own bookkeeping before an accepted held packet goes on. */
static enum pm_ct_update pm_packet_ct_update(struct pm_packet *p, bool first)
{
	enum pm_ct_update u = pm_ct_update(p->state.net, p->skb);

	if (u == PM_CT_GO && !first && !pm_join_confirmed(p->skb))
		u = PM_CT_DROP;
	return u;
}

static void pm_packet_act(struct pm_net *pn, struct pm_packet *p,
			  const struct pm_verdict *v, bool first)
{
	struct sk_buff *skb = p->skb;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;

	if (v->action == PM_ACTION_ACCEPT) {
		switch (pm_packet_ct_update(p, first)) {
		case PM_CT_STOLEN:
			goto release;
		case PM_CT_DROP:
			kfree_skb(skb);
			goto release;
		case PM_CT_GO:
			break;
		}
	}
	ct = nf_ct_get(skb, &ctinfo);
	if (v->permanent && ct)
		pm_ct_set_mark(ct, v->mark);

	switch (v->action) {
	case PM_ACTION_ACCEPT:
		if (v->mark_packet && pm_mark_skb(skb, &p->state, v->mark) < 0) {
			kfree_skb(skb);
			break;
		}
		pm_continue(pn, skb, &p->state);
		break;
	case PM_ACTION_REJECT:
	case PM_ACTION_DROP:
		/*
		 * A permanent block must outlive the packet, so the entry
		 * holding the mark is confirmed before its first packet is
		 * dropped; retransmissions then stay in the fast path.
		 */
		if (first && v->permanent)
			nf_conntrack_confirm(skb);
		if (v->action == PM_ACTION_REJECT)
			pm_reject(skb, &p->state);
		kfree_skb(skb);
		break;
	}
release:
	pm_packet_release(p);
	pm_packet_free(p);
}

/**
 * pm_carry_out - act on every packet of a flow, then forget and free it
 * @pn: the flow's namespace
 * @f: the flow, taken from the waiting flows or still waiting
 * @v: the verdict
 *
 * Packets that arrive meanwhile join the flow (a bounded number) and get
 * the same verdict, in order, after the first: the flow leaves the table
 * only when it holds none.  Runs in process context; the packets
 * continue with BHs off, as they would have in the hook.
 */
void pm_carry_out(struct pm_net *pn, struct pm_flow *f,
		  const struct pm_verdict *v)
{
	struct pm_table *t = &pn->table;
	struct pm_packet *p, *tmp;
	bool first = true;
	LIST_HEAD(batch);

	for (;;) {
		spin_lock_bh(&t->lock);
		pm_table_take(t, f);
		if (!pm_flow_take_packets(t, f, &batch)) {
			pm_table_forget(t, f);
			spin_unlock_bh(&t->lock);
			break;
		}
		spin_unlock_bh(&t->lock);

		rcu_read_lock();
		local_bh_disable();
		list_for_each_entry_safe(p, tmp, &batch, list) {
			list_del(&p->list);
			pm_packet_act(pn, p, v, first);
			first = false;
		}
		local_bh_enable();
		rcu_read_unlock();
	}
	pm_flow_free(f);
}

/* Resolve flows taken from the table without an answer. */
void pm_resolve_flows(struct pm_net *pn, struct list_head *flows,
		      enum pm_resolve_reason why)
{
	u8 policy = READ_ONCE(pn->config.fail_policy);
	struct pm_flow *f, *tmp;
	struct pm_verdict v;

	switch (why) {
	case PM_RESOLVE_LISTENER_LEFT:	/* a clean goodbye: out of the way */
		policy = PM_FAIL_OPEN;
		break;
	case PM_RESOLVE_DEV_DOWN:	/* nowhere left to go */
		policy = PM_FAIL_CLOSED;
		break;
	case PM_RESOLVE_SHUTDOWN:	/* a dying namespace: nowhere to go */
		if (!check_net(pn->net))
			policy = PM_FAIL_CLOSED;
		break;
	default:
		break;
	}
	pm_verdict_from_policy(policy, &v);

	list_for_each_entry_safe(f, tmp, flows, age_node) {
		list_del_init(&f->age_node);
		if (why == PM_RESOLVE_TIMEOUT)
			pm_stat_inc(pn, PM_STAT_TIMEOUTS);
		if (policy == PM_FAIL_CLOSED)
			pm_stat_add(pn, PM_STAT_POLICY_DROP, f->held);
		else
			pm_stat_add(pn, PM_STAT_POLICY_ACCEPT, f->held);
		pm_carry_out(pn, f, &v);
	}
}

static int pm_reset_one(struct nf_conn *ct, void *data)
{
	u32 *count = data;

	if (pm_verdict_index(READ_ONCE(ct->mark)) >= 0) {
		WRITE_ONCE(ct->mark, PM_MARK_UNDECIDED);
		nf_conntrack_event_cache(IPCT_MARK, ct);
		(*count)++;
	}
	return 0;	/* keep the entry: its next packet asks again */
}

/*
 * Forget every verdict kept in the namespace's conntrack entries, so that
 * connections are decided again under new rules.  The entries stay, so an
 * established connection is asked about, not torn down.
 */
u32 pm_reset_marks(struct net *net)
{
	u32 count = 0;
	struct nf_ct_iter_data d = {
		.net = net,
		.data = &count,
	};

	nf_ct_iterate_cleanup_net(pm_reset_one, &d);
	return count;
}
