// SPDX-License-Identifier: GPL-2.0
/*
 * The reroutes in the kernel: a connection given 1799 (stray DNS) or
 * 1717 (the tunnel) is DNATed to where the listener said, by a lookup
 * function of the NAT core, as a NAT rule matching the mark would do.
 * So module mode needs no ruleset at all; the packet mark is still set,
 * for a user's own rule.  Without a place set, the module only marks.
 */
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_nat.h>

#include "netns.h"
#include "policy.h"
#include "reroute.h"

static unsigned int pm_reroute_fn(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	struct pm_net *pn = priv;
	const struct pm_reroutes *rs = rcu_dereference(pn->reroutes);
	const struct pm_reroute *r;
	enum ip_conntrack_info ctinfo;
	struct nf_nat_range2 range;
	struct nf_conn *ct;
	u32 mark;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || !rs)
		return NF_ACCEPT;
	mark = READ_ONCE(ct->mark);
	if (mark == PM_MARK_REROUTE_DNS)
		r = &rs->dns;
	else if (mark == PM_MARK_REROUTE_TUNNEL)
		r = &rs->tunnel;
	else
		return NF_ACCEPT;

	memset(&range, 0, sizeof(range));
	if (state->pf == NFPROTO_IPV4 && r->has4)
		range.min_addr.ip = r->addr4;
	else if (state->pf == NFPROTO_IPV6 && r->has6)
		range.min_addr.in6 = r->addr6;
	else
		return NF_ACCEPT;
	range.max_addr = range.min_addr;
	range.flags = NF_NAT_RANGE_MAP_IPS;
	if (r->port) {
		range.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		range.min_proto.all = r->port;
		range.max_proto.all = r->port;
	}
	return nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
}

static bool pm_reroutes_any(const struct pm_reroutes *rs)
{
	return rs && (rs->dns.has4 || rs->dns.has6 || rs->tunnel.has4 ||
		      rs->tunnel.has6);
}

/* Our lookup function in the NAT core, while a reroute is set. */
static int pm_reroute_sync(struct pm_net *pn)
{
	const struct pm_reroutes *rs;
	bool want;
	int err;

	rs = rcu_dereference_protected(pn->reroutes,
				       lockdep_is_held(&pn->listener_lock));
	want = pn->active && pm_reroutes_any(rs);
	if (want == pn->reroute_registered)
		return 0;
	if (!want) {
		nf_nat_ipv4_unregister_fn(pn->net, &pn->reroute_ops[0]);
		nf_nat_ipv6_unregister_fn(pn->net, &pn->reroute_ops[1]);
		pn->reroute_registered = false;
		return 0;
	}
	pn->reroute_ops[0] = (struct nf_hook_ops) {
		.hook = pm_reroute_fn,
		.priv = pn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_NAT_DST,
	};
	pn->reroute_ops[1] = pn->reroute_ops[0];
	pn->reroute_ops[1].pf = NFPROTO_IPV6;
	pn->reroute_ops[1].priority = NF_IP6_PRI_NAT_DST;
	err = nf_nat_ipv4_register_fn(pn->net, &pn->reroute_ops[0]);
	if (err)
		return err;
	err = nf_nat_ipv6_register_fn(pn->net, &pn->reroute_ops[1]);
	if (err) {
		nf_nat_ipv4_unregister_fn(pn->net, &pn->reroute_ops[0]);
		return err;
	}
	pn->reroute_registered = true;
	return 0;
}

int pm_reroute_activate(struct pm_net *pn)
{
	return pm_reroute_sync(pn);
}

void pm_reroute_deactivate(struct pm_net *pn)
{
	pm_reroute_sync(pn);	/* pn->active is false by now: off */
}

/* One place from its nested attributes; an empty nest turns it off. */
static int pm_reroute_parse(const struct nlattr *nest, struct pm_reroute *r,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[PM_REROUTE_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, PM_REROUTE_A_MAX, nest, pm_nla_reroute,
			       extack);
	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	if (tb[PM_REROUTE_A_ADDR4]) {
		r->addr4 = nla_get_in_addr(tb[PM_REROUTE_A_ADDR4]);
		r->has4 = true;
	}
	if (tb[PM_REROUTE_A_ADDR6]) {
		r->addr6 = nla_get_in6_addr(tb[PM_REROUTE_A_ADDR6]);
		r->has6 = true;
	}
	if (tb[PM_REROUTE_A_PORT])
		r->port = htons(nla_get_u16(tb[PM_REROUTE_A_PORT]));
	return 0;
}

/**
 * pm_reroute_set - the places of PM_CONFIG_A_REROUTE_DNS and _TUNNEL
 * @pn: the namespace
 * @dns: its nest, or NULL to keep it
 * @tunnel: likewise
 * @extack: for the errors
 *
 * Process context.  Return: 0 or an errno; nothing changed on error.
 */
int pm_reroute_set(struct pm_net *pn, const struct nlattr *dns,
		   const struct nlattr *tunnel, struct netlink_ext_ack *extack)
{
	struct pm_reroutes *old, *rs;
	int err;

	if (!dns && !tunnel)
		return 0;
	rs = kzalloc(sizeof(*rs), GFP_KERNEL);
	if (!rs)
		return -ENOMEM;
	mutex_lock(&pn->listener_lock);
	old = rcu_dereference_protected(pn->reroutes,
					lockdep_is_held(&pn->listener_lock));
	if (old)
		*rs = *old;
	err = dns ? pm_reroute_parse(dns, &rs->dns, extack) : 0;
	if (!err && tunnel)
		err = pm_reroute_parse(tunnel, &rs->tunnel, extack);
	if (err) {
		mutex_unlock(&pn->listener_lock);
		kfree(rs);
		return err;
	}
	rcu_assign_pointer(pn->reroutes, rs);
	err = pm_reroute_sync(pn);
	mutex_unlock(&pn->listener_lock);
	if (old)
		kfree_rcu(old, rcu);
	return err;
}

static int pm_reroute_put_one(struct sk_buff *msg, int type,
			      const struct pm_reroute *r)
{
	struct nlattr *nest = nla_nest_start(msg, type);

	if (!nest)
		return -EMSGSIZE;
	if ((r->has4 && nla_put_in_addr(msg, PM_REROUTE_A_ADDR4, r->addr4)) ||
	    (r->has6 && nla_put_in6_addr(msg, PM_REROUTE_A_ADDR6, &r->addr6)) ||
	    (r->port && nla_put_u16(msg, PM_REROUTE_A_PORT, ntohs(r->port)))) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

int pm_reroute_put_config(struct sk_buff *msg, struct pm_net *pn)
{
	static const struct pm_reroute none;
	const struct pm_reroutes *rs;
	int err;

	rcu_read_lock();
	rs = rcu_dereference(pn->reroutes);
	err = pm_reroute_put_one(msg, PM_CONFIG_A_REROUTE_DNS,
				 rs ? &rs->dns : &none) ?:
	      pm_reroute_put_one(msg, PM_CONFIG_A_REROUTE_TUNNEL,
				 rs ? &rs->tunnel : &none);
	rcu_read_unlock();
	return err;
}

/* At the namespace's end: no hook looks any more. */
void pm_reroute_destroy(struct pm_net *pn)
{
	kfree(rcu_replace_pointer(pn->reroutes, NULL, true));
}
