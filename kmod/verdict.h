/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_VERDICT_H
#define _PM_VERDICT_H

#include <linux/list.h>
#include <linux/netfilter.h>

#include "mark.h"
#include "pending.h"

struct pm_net;

int pm_packet_get_refs(struct pm_packet *p, struct sk_buff *skb,
		       const struct nf_hook_state *state);
void pm_packet_put_refs(struct pm_packet *p);

unsigned int pm_decided(struct pm_net *pn, struct sk_buff *skb,
			const struct nf_hook_state *state, u32 mark);
unsigned int pm_policy_verdict(struct pm_net *pn);
unsigned int pm_decide_now(struct sk_buff *skb, const struct nf_hook_state *state,
			   struct nf_conn *ct, u32 mark);

/* Why flows are resolved without a verdict from the listener. */
enum pm_resolve_reason {
	PM_RESOLVE_TIMEOUT,
	PM_RESOLVE_EVENT_FAILED,
	PM_RESOLVE_LISTENER_LOST,
	PM_RESOLVE_LISTENER_LEFT,
	PM_RESOLVE_LISTENER_SILENT,
	PM_RESOLVE_DEV_DOWN,
	PM_RESOLVE_SHUTDOWN,
};

void pm_resolve_flow(struct pm_net *pn, struct pm_flow *f,
		     const struct pm_verdict *v);
u32 pm_reset_marks(struct net *net);
void pm_resolve_flows(struct pm_net *pn, struct list_head *flows,
		      enum pm_resolve_reason why);

#endif /* _PM_VERDICT_H */
