/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_MARK_H
#define _PM_MARK_H

#include <linux/types.h>
#include <linux/portmaster.h>

enum pm_action {
	PM_ACTION_ACCEPT,
	PM_ACTION_REJECT,
	PM_ACTION_DROP,
};

/* What a 17xx mark means for the packets it decides. */
struct pm_verdict {
	u32 mark;
	enum pm_action action;
	bool permanent;		/* written to ct->mark, later packets stay in kernel */
	bool mark_packet;	/* skb->mark too, so that a NAT rule sees it */
};

/* The verdict marks in a fixed order, for per-mark statistics. */
#define PM_NR_VERDICTS 8

bool pm_verdict_from_mark(u32 mark, struct pm_verdict *v);
bool pm_mark_is_permanent(u32 mark);
int pm_verdict_index(u32 mark);
u32 pm_verdict_mark(int index);

/* The fail policy as a verdict: accept unmarked, or drop. */
void pm_verdict_from_policy(u8 policy, struct pm_verdict *v);

#endif /* _PM_MARK_H */
