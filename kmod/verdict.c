// SPDX-License-Identifier: GPL-2.0
/*
 * Acting on a verdict.  For a decided connection (ct->mark holds a
 * permanent mark) the hook calls pm_decided() and the packet never leaves
 * the fast path.  Held packets are resolved here once their flow is out of
 * the pending table: accepted ones continue through the hook chain from
 * the entry after ours, then okfn, as nf_reinject() does, so every later
 * hook (NAT, the user's own filter rules) still applies and no earlier one
 * runs twice.
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
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "hooks.h"
#include "netns.h"
#include "verdict.h"

#if !IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
#error "portmaster needs CONFIG_NF_CONNTRACK_MARK"
#endif

/*
 * Take what a held packet needs to continue later: its devices, its
 * socket and a refcounted route, as nf_queue does.
 */
int pm_packet_get_refs(struct pm_packet *p, struct sk_buff *skb,
		       const struct nf_hook_state *state)
{
	if ((state->in && !netif_running(state->in)) ||
	    (state->out && !netif_running(state->out)))
		return -ENETDOWN;
	if (skb_dst(skb) && !skb_dst_force(skb))
		return -ENETDOWN;
	if (state->sk && !refcount_inc_not_zero(&state->sk->sk_refcnt))
		return -ENOTCONN;
	dev_hold(state->in);
	dev_hold(state->out);
	p->skb = skb;
	p->state = *state;
	return 0;
}

void pm_packet_put_refs(struct pm_packet *p)
{
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
unsigned int pm_decided(struct pm_net *pn, struct sk_buff *skb,
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
unsigned int pm_decide_now(struct sk_buff *skb, const struct nf_hook_state *state,
			   struct nf_conn *ct, u32 mark)
{
	struct pm_verdict v;

	if (!pm_verdict_from_mark(mark, &v))
		return NF_ACCEPT;
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

unsigned int pm_policy_verdict(struct pm_net *pn)
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

/*
 * A later packet of a held flow got an unconfirmed entry of its own.  Once
 * the first packet has confirmed the connection, the later one joins it,
 * as it would have had it arrived then: otherwise it would clash with the
 * confirmed entry and, for protocols that do not merge clashes (ICMP,
 * TCP), be dropped at confirmation.
 */
static struct nf_conn *pm_join_confirmed(struct sk_buff *skb,
					 struct nf_conn *ct,
					 enum ip_conntrack_info ctinfo)
{
	const struct nf_conntrack_tuple_hash *h;
	struct nf_conn *winner;

	if (nf_ct_is_confirmed(ct))
		return ct;
	h = nf_conntrack_find_get(nf_ct_net(ct), nf_ct_zone(ct),
				  &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple);
	if (!h)
		return ct;
	winner = nf_ct_tuplehash_to_ctrack(h);
	if (NF_CT_DIRECTION(h) != IP_CT_DIR_ORIGINAL) {
		nf_ct_put(winner);
		return ct;
	}
	nf_ct_put(ct);
	nf_ct_set(skb, winner, ctinfo);	/* the lookup's reference moves here */
	return winner;
}

static void pm_packet_act(struct pm_net *pn, struct pm_packet *p,
			  const struct pm_verdict *v, bool first)
{
	struct sk_buff *skb = p->skb;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;

	ct = nf_ct_get(skb, &ctinfo);
	if (ct && !first && v->action == PM_ACTION_ACCEPT)
		ct = pm_join_confirmed(skb, ct, ctinfo);
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
	pm_packet_put_refs(p);
	pm_packet_free(p);
}

/**
 * pm_resolve_flow - act on every packet held for a flow, then free it
 * @pn: the flow's namespace
 * @f: the flow, already out of the pending table
 * @v: the verdict
 *
 * Runs in process context; the packets continue with BHs off, as they
 * would have in the hook.
 */
void pm_resolve_flow(struct pm_net *pn, struct pm_flow *f,
		     const struct pm_verdict *v)
{
	struct pm_packet *p, *tmp;
	bool first = true;

	rcu_read_lock();
	local_bh_disable();
	list_for_each_entry_safe(p, tmp, &f->packets, list) {
		list_del(&p->list);
		pm_packet_act(pn, p, v, first);
		first = false;
	}
	local_bh_enable();
	rcu_read_unlock();
	f->held = 0;
	f->held_bytes = 0;
	pm_flow_free(f);
}

/* Resolve flows taken from the table without an answer. */
void pm_resolve_flows(struct pm_net *pn, struct list_head *flows,
		      enum pm_resolve_reason why)
{
	struct pm_verdict v;
	struct pm_flow *f, *tmp;
	u8 policy = READ_ONCE(pn->config.fail_policy);

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
		if (why == PM_RESOLVE_TIMEOUT && !f->failed)
			pm_stat_inc(pn, PM_STAT_TIMEOUTS);
		if (policy == PM_FAIL_CLOSED)
			pm_stat_add(pn, PM_STAT_POLICY_DROP, f->held);
		else
			pm_stat_add(pn, PM_STAT_POLICY_ACCEPT, f->held);
		pm_resolve_flow(pn, f, &v);
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
