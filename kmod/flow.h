/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_FLOW_H
#define _PM_FLOW_H

#include <linux/types.h>
#include <linux/skbuff.h>
#include <linux/netfilter.h>

/* Which of the optional parts of a flow's identity are known. */
#define PM_FLOW_PORTS		BIT(0)
#define PM_FLOW_ICMP		BIT(1)
#define PM_FLOW_FRAGMENT	BIT(2)	/* a later fragment: no L4 header */

/* A flow as the daemon sees it: who talks to whom, over what. */
struct pm_flow_info {
	u8 family;		/* AF_INET or AF_INET6 */
	u8 protocol;
	u8 direction;		/* enum pm_direction, of the flow */
	u8 flags;
	union nf_inet_addr saddr;
	union nf_inet_addr daddr;
	u16 sport;		/* host order */
	u16 dport;
	u8 icmp_type;
	u8 icmp_code;
	int ifindex;
	u32 ct_id;
};

struct nf_conn;
struct pm_flow_key;

void pm_flow_key_from_ct(const struct nf_conn *ct, struct pm_flow_key *key);
int pm_flow_parse(const struct sk_buff *skb, u8 nfproto,
		  struct pm_flow_info *info);
void pm_flow_reverse(struct pm_flow_info *info);
bool pm_proto_has_ports(u8 protocol);
bool pm_is_icmp_error(u8 family, u8 protocol, u8 type);

#endif /* _PM_FLOW_H */
