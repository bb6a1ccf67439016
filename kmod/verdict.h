/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_VERDICT_H
#define _PM_VERDICT_H

#include <linux/list.h>
#include <linux/netfilter.h>

#include "mark.h"
#include "pending.h"

struct nf_conn;
struct pm_net;

int pm_packet_prepare(struct pm_packet *p, struct sk_buff *skb,
		      const struct nf_hook_state *state);
void pm_packet_release(struct pm_packet *p);

struct nf_conn *pm_ct_confirmed_twin(struct nf_conn *ct);
void pm_ct_join(struct sk_buff *skb, struct nf_conn *twin);

unsigned int pm_apply_kept_verdict(struct pm_net *pn, struct sk_buff *skb,
				   const struct nf_hook_state *state, u32 mark);
unsigned int pm_apply_new_verdict(struct sk_buff *skb,
				  const struct nf_hook_state *state,
				  struct nf_conn *ct, u32 mark);
unsigned int pm_fail_policy(struct pm_net *pn);

/* Why flows are resolved without a verdict from the listener. */
enum pm_resolve_reason {
	PM_RESOLVE_TIMEOUT,
	PM_RESOLVE_LISTENER_LOST,
	PM_RESOLVE_LISTENER_LEFT,
	PM_RESOLVE_LISTENER_SILENT,
	PM_RESOLVE_DEV_DOWN,
	PM_RESOLVE_SHUTDOWN,
};

void pm_carry_out(struct pm_net *pn, struct pm_flow *f,
		  const struct pm_verdict *v);
void pm_resolve_flows(struct pm_net *pn, struct list_head *flows,
		      enum pm_resolve_reason why);
u32 pm_reset_marks(struct net *net);

#endif /* _PM_VERDICT_H */
