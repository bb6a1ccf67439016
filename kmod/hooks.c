// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks: IPv4 and IPv6, LOCAL_OUT and LOCAL_IN, in the
 * namespaces a listener watches.  A packet of a decided connection is
 * handled from ct->mark without a lock, an allocation or a message; a
 * packet of an undecided one goes to pm_intercept().
 */
#include <net/netfilter/nf_conntrack.h>

#include "hooks.h"
#include "intercept.h"
#include "netns.h"
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

static unsigned int pm_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct pm_net *pn = priv;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	u8 listener;
	u32 mark;

	listener = READ_ONCE(pn->listener_state);
	if (listener == PM_LISTENER_NONE || READ_ONCE(pm_unloading))
		return NF_ACCEPT;
	pm_stat_inc(pn, PM_STAT_PACKETS);

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct)	/* untracked or invalid: not a flow we can name */
		return NF_ACCEPT;
	if (unlikely(ctinfo == IP_CT_RELATED || ctinfo == IP_CT_RELATED_REPLY) &&
	    pm_skb_is_icmp_error(skb, state->pf))
		return NF_ACCEPT;

	mark = READ_ONCE(ct->mark);
	if (likely(pm_mark_is_permanent(mark)))
		return pm_apply_kept_verdict(pn, skb, state, mark);
	if (mark != PM_MARK_UNDECIDED)	/* someone else's: theirs to decide */
		return NF_ACCEPT;
	if (listener == PM_LISTENER_LOST)
		return pm_fail_policy(pn);
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
