/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_REROUTE_H
#define _PM_REROUTE_H

#include <linux/in6.h>
#include <net/netlink.h>

struct pm_net;

/* Where a reroute goes, per family; a port of 0 keeps the flow's. */
struct pm_reroute {
	struct in6_addr addr6;
	__be32 addr4;
	__be16 port;
	bool has4;
	bool has6;
};

struct pm_reroutes {
	struct rcu_head rcu;
	struct pm_reroute dns;		/* PM_MARK_REROUTE_DNS */
	struct pm_reroute tunnel;	/* PM_MARK_REROUTE_TUNNEL */
};

int pm_reroute_set(struct pm_net *pn, const struct nlattr *dns,
		   const struct nlattr *tunnel, struct netlink_ext_ack *extack);
int pm_reroute_put_config(struct sk_buff *msg, struct pm_net *pn);
int pm_reroute_activate(struct pm_net *pn);
void pm_reroute_deactivate(struct pm_net *pn);
void pm_reroute_destroy(struct pm_net *pn);

#endif /* _PM_REROUTE_H */
