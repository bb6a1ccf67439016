/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_INTERCEPT_H
#define _PM_INTERCEPT_H

#include <linux/netfilter.h>
#include <net/netfilter/nf_conntrack.h>

struct pm_net;

unsigned int pm_intercept(struct pm_net *pn, struct sk_buff *skb,
			  const struct nf_hook_state *state,
			  struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			  bool silent);

#endif /* _PM_INTERCEPT_H */
