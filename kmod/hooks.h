/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_HOOKS_H
#define _PM_HOOKS_H

#include <linux/netfilter.h>

struct pm_net;

/*
 * After conntrack (-200) so that every packet has its entry, after the
 * mangle table (-150), and before NAT (-100) so that the reroute marks
 * are seen by the DNAT rules.
 */
#define PM_HOOK_PRIORITY (NF_IP_PRI_NAT_DST - 20)

void pm_hooks_fill(struct nf_hook_ops *ops, struct pm_net *pn);
const struct nf_hook_entries *pm_hook_entries(const struct net *net, u8 pf,
					      u8 hook);
int pm_hook_index(const struct nf_hook_entries *hooks,
		  const struct pm_net *pn);

#endif /* _PM_HOOKS_H */
