/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_NETLINK_H
#define _PM_NETLINK_H

#include <linux/skbuff.h>

struct net;
struct pm_flow;

struct sk_buff *pm_netlink_flow_event(const struct pm_flow *f, const char *exe,
				      u32 mark, gfp_t gfp, u64 **id_slot);
size_t pm_netlink_flow_msg_size(const char *exe);
int pm_netlink_put_flow_msg(struct sk_buff *skb, const struct pm_flow *f,
			    const char *exe, u32 mark);
int pm_netlink_unicast(struct net *net, struct sk_buff *msg, u32 portid);

int pm_netlink_init(void);
void pm_netlink_exit(void);

#endif /* _PM_NETLINK_H */
