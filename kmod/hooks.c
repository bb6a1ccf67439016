// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks: IPv4 and IPv6, LOCAL_OUT and LOCAL_IN, in every
 * network namespace.  A packet of a decided connection is handled from
 * ct->mark without a lock, an allocation or a message.  The first packet
 * of an undecided flow creates a pending flow and one event to the
 * listener; it and the flow's later packets are held until the verdict.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/netfilter/nf_conntrack.h>

#include "hooks.h"
#include "netlink.h"
#include "netns.h"
#include "owner.h"
#include "remember.h"
#include "verdict.h"

/*
 * An ICMP error about a connection travels with that connection's entry.
 * It is let through whatever the verdict: a rejected sender must hear of
 * its rejection, and an error carries no new flow.
 */
static bool pm_skb_is_icmp_error(const struct sk_buff *skb, u8 pf)
{
	struct pm_flow_info info;

	if (pm_flow_parse(skb, pf, &info) || !(info.flags & PM_FLOW_ICMP))
		return false;
	return pm_is_icmp_error(info.family, info.protocol, info.icmp_type);
}

static void pm_flow_owner(struct pm_flow *f, struct sk_buff *skb,
			  const struct nf_hook_state *state)
{
	struct user_namespace *userns = state->net->user_ns;
	struct sock *sk;

	if (state->hook == NF_INET_LOCAL_OUT) {
		pm_owner_from_sock(skb_to_full_sk(skb), userns, &f->owner);
		return;
	}
	if (skb->sk) {	/* early demux found it */
		pm_owner_from_sock(skb_to_full_sk(skb), userns, &f->owner);
		return;
	}
	sk = pm_owner_lookup_local(state->net, skb, state->in, state->pf);
	if (sk) {
		pm_owner_from_sock(sk, userns, &f->owner);
		sock_gen_put(sk);
	}
}

#define PM_EXE_SHORT 256

/*
 * A new flow's identity and owner, read outside the table lock.  The
 * executable is read here, in the sender's context, or never; its path
 * goes to *exe (in *exe_buf, for the caller to free).
 */
static struct pm_flow *pm_flow_new(struct sk_buff *skb,
				   const struct nf_hook_state *state,
				   struct nf_conn *ct,
				   enum ip_conntrack_info ctinfo,
				   const struct pm_flow_key *key,
				   const struct pm_listener *l,
				   char **exe_buf, const char **exe)
{
	bool reply = CTINFO2DIR(ctinfo) == IP_CT_DIR_REPLY;
	bool out = state->hook == NF_INET_LOCAL_OUT;
	const struct net_device *dev = out ? state->out : state->in;
	struct pm_flow *f;

	*exe_buf = NULL;
	*exe = NULL;
	f = pm_flow_alloc(GFP_ATOMIC);
	if (!f)
		return NULL;
	if (pm_flow_parse(skb, state->pf, &f->info)) {
		pm_flow_free(f);
		return NULL;
	}
	if (reply)
		pm_flow_reverse(&f->info);
	f->info.direction = out != reply ? PM_DIR_OUT : PM_DIR_IN;
	f->info.ifindex = dev ? dev->ifindex : 0;
	f->info.ct_id = nf_ct_get_id(ct);
	f->key = *key;

	pm_flow_owner(f, skb, state);
	if (out && !reply && pm_owner_in_sender_context()) {
		pm_owner_from_current(l->pidns, &f->owner);
		/* most paths are short: a page only for one that is not */
		*exe_buf = kmalloc(PM_EXE_SHORT, GFP_ATOMIC);
		*exe = pm_owner_exe(&f->owner, *exe_buf, PM_EXE_SHORT);
		if (IS_ERR(*exe)) {
			kfree(*exe_buf);
			*exe_buf = kmalloc(PATH_MAX, GFP_ATOMIC);
			*exe = pm_owner_exe(&f->owner, *exe_buf, PATH_MAX);
			if (IS_ERR(*exe))
				*exe = NULL;
		}
	}
	return f;
}

/*
 * A flow decided by a remembered verdict: acted on at once, in the hook,
 * and reported to the listener, which is not asked.
 */
static unsigned int pm_remembered(struct pm_net *pn, struct sk_buff *skb,
				  const struct nf_hook_state *state,
				  struct nf_conn *ct, struct pm_flow *f,
				  const char *exe, u32 portid, u32 mark)
{
	pm_stat_inc(pn, PM_STAT_REMEMBERED);
	pm_report_flow(&pn->report, f, exe, mark, portid);
	return pm_decide_now(skb, state, ct, mark);
}

/*
 * A new flow of an undecided connection: held and announced, decided by a
 * remembered verdict, or, when the listener hangs (@silent), decided by
 * the fail policy unless a remembered verdict applies.
 */
static unsigned int pm_intercept(struct pm_net *pn, struct sk_buff *skb,
				 const struct nf_hook_state *state,
				 struct nf_conn *ct,
				 enum ip_conntrack_info ctinfo, bool silent)
{
	struct pm_table *t = &pn->table;
	struct sk_buff *event = NULL;
	struct pm_flow *f = NULL, *other;
	struct pm_remember_key rkey;
	const struct pm_listener *l;
	struct pm_flow_key key;
	const char *exe = NULL;
	char *exe_buf = NULL;
	struct pm_limits lim;
	unsigned int verdict;
	struct pm_packet *p;
	u32 portid = 0, mark;
	u64 *id_slot = NULL;
	bool pending;
	u64 id = 0;
	int err;

	if (silent && !READ_ONCE(pn->remember.count))
		return pm_policy_verdict(pn);
	pm_config_limits(pn, &lim);
	pm_flow_key_from_ct(ct, &key);

	spin_lock_bh(&t->lock);
	pending = pm_table_find_key(t, &key);
	spin_unlock_bh(&t->lock);

	if (!pending) {
		/* Hooks run under rcu_read_lock(): the listener stays while used. */
		l = rcu_dereference(pn->listener);
		if (!l)
			return pm_policy_verdict(pn);
		portid = l->portid;
		f = pm_flow_new(skb, state, ct, ctinfo, &key, l, &exe_buf, &exe);
		if (!f)
			return pm_policy_verdict(pn);

		/* Like a flow decided before: decided now, reported, not asked. */
		mark = 0;
		if (READ_ONCE(pn->remember.count)) {
			pm_remember_key(f, &rkey);
			mark = pm_remember_lookup(&pn->remember, &rkey, jiffies);
		}
		if (mark || silent) {
			verdict = mark ? pm_remembered(pn, skb, state, ct, f,
						       exe, portid, mark) :
					 pm_policy_verdict(pn);
			kfree(exe_buf);
			pm_flow_free(f);
			return verdict;
		}

		event = pm_netlink_flow_event(f, exe, 0, GFP_ATOMIC, &id_slot);
		kfree(exe_buf);
		if (!event) {
			pm_flow_free(f);
			return pm_policy_verdict(pn);
		}
	}

	p = pm_packet_alloc(GFP_ATOMIC);
	if (!p) {
		err = -ENOBUFS;
		goto free_flow;
	}
	if (pm_packet_get_refs(p, skb, state)) {
		pm_packet_free(p);
		err = -ENOTCONN;
		goto free_flow;
	}

	spin_lock_bh(&t->lock);
	other = pm_table_find_key(t, &key);
	if (other) {
		/* a later packet of a pending flow waits with it */
		err = pm_flow_hold(t, other, p, &lim);
		spin_unlock_bh(&t->lock);
		if (f) {	/* another CPU was quicker */
			kfree_skb(event);
			pm_flow_free(f);
		}
		if (err)
			goto refuse;
		return NF_STOLEN;
	}
	if (!f) {
		/* decided since we looked: its verdict is on ct by now */
		spin_unlock_bh(&t->lock);
		pm_packet_put_refs(p);
		pm_packet_free(p);
		mark = READ_ONCE(ct->mark);
		return pm_mark_is_permanent(mark) ?
			pm_decided(pn, skb, state, mark) : pm_policy_verdict(pn);
	}
	err = pm_table_add(t, f, &lim, jiffies);
	if (!err) {
		err = pm_flow_hold(t, f, p, &lim);
		if (err) {
			pm_table_del(t, f);
		} else {
			id = f->id;
			memcpy(id_slot, &id, sizeof(id));
			pm_net_kick_expiry(pn, f->deadline);
		}
	}
	spin_unlock_bh(&t->lock);
	if (err) {
		kfree_skb(event);
		pm_flow_free(f);
		goto refuse;
	}

	pm_stat_inc(pn, PM_STAT_INTERCEPTED);
	if (pm_netlink_unicast(state->net, event, portid)) {
		/* The listener cannot take it: resolve by policy, soon. */
		pm_stat_inc(pn, PM_STAT_EVENT_FAILED);
		spin_lock_bh(&t->lock);
		f = pm_table_find_id(t, id);
		if (f) {
			f->failed = true;
			pm_net_kick_expiry(pn, jiffies);
		}
		spin_unlock_bh(&t->lock);
	}
	return NF_STOLEN;

free_flow:
	if (f) {
		kfree_skb(event);
		pm_flow_free(f);
	}
	if (err == -ENOBUFS)
		pm_stat_inc(pn, PM_STAT_QUEUE_FULL);
	return pm_policy_verdict(pn);

refuse:
	pm_packet_put_refs(p);
	pm_packet_free(p);
	if (err == -ESHUTDOWN)
		return NF_ACCEPT;
	if (err == -ENOSPC)
		pm_stat_inc(pn, PM_STAT_TABLE_FULL);
	else if (err == -ENOBUFS)
		pm_stat_inc(pn, PM_STAT_QUEUE_FULL);
	return pm_policy_verdict(pn);
}

static unsigned int pm_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct pm_net *pn = priv;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	u8 listener;
	u32 mark;

	pm_stat_inc(pn, PM_STAT_PACKETS);
	listener = READ_ONCE(pn->listener_state);
	if (listener == PM_LISTENER_NONE || READ_ONCE(pm_unloading))
		return NF_ACCEPT;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct)	/* untracked or invalid: not a flow we can name */
		return NF_ACCEPT;
	if (unlikely(ctinfo == IP_CT_RELATED || ctinfo == IP_CT_RELATED_REPLY) &&
	    pm_skb_is_icmp_error(skb, state->pf))
		return NF_ACCEPT;

	mark = READ_ONCE(ct->mark);
	if (likely(pm_mark_is_permanent(mark)))
		return pm_decided(pn, skb, state, mark);
	if (mark != PM_MARK_UNDECIDED)	/* someone else's: theirs to decide */
		return NF_ACCEPT;
	if (listener == PM_LISTENER_LOST)
		return pm_policy_verdict(pn);
	return pm_intercept(pn, skb, state, ct, ctinfo,
			    listener == PM_LISTENER_SILENT);
}

void pm_hooks_fill(struct nf_hook_ops *ops, struct pm_net *pn)
{
	static const struct {
		u8 pf;
		u8 hooknum;
	} points[PM_NR_HOOKS] = {
		{ NFPROTO_IPV4, NF_INET_LOCAL_OUT },
		{ NFPROTO_IPV4, NF_INET_LOCAL_IN },
		{ NFPROTO_IPV6, NF_INET_LOCAL_OUT },
		{ NFPROTO_IPV6, NF_INET_LOCAL_IN },
	};
	int i;

	for (i = 0; i < PM_NR_HOOKS; i++) {
		ops[i] = (struct nf_hook_ops) {
			.hook = pm_hook,
			.priv = pn,
			.pf = points[i].pf,
			.hooknum = points[i].hooknum,
			.priority = PM_HOOK_PRIORITY,
		};
	}
}

/* The netns' current hook array: it changes as hooks come and go. */
const struct nf_hook_entries *pm_hook_entries(const struct net *net, u8 pf,
					      u8 hook)
{
	switch (pf) {
	case NFPROTO_IPV4:
		return rcu_dereference(net->nf.hooks_ipv4[hook]);
	case NFPROTO_IPV6:
		return rcu_dereference(net->nf.hooks_ipv6[hook]);
	default:
		return NULL;
	}
}

/* Where our entry is in @hooks now, or -1 when it is not there. */
int pm_hook_index(const struct nf_hook_entries *hooks, const struct pm_net *pn)
{
	unsigned int i;

	if (!hooks)
		return -1;
	for (i = 0; i < hooks->num_hook_entries; i++)
		if (hooks->hooks[i].hook == pm_hook &&
		    hooks->hooks[i].priv == pn)
			return i;
	return -1;
}
