/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_REPORT_H
#define _PM_REPORT_H

#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct net;
struct pm_flow;

/*
 * Reports of flows the kernel decided itself (remembered verdicts), sent
 * to the listener in batches: many messages in one skb, sent when it is
 * full or a few milliseconds after its first message, so that a storm of
 * decided flows costs the listener one wakeup per batch, not per flow.
 */
struct pm_report {
	spinlock_t lock;	/* skb, portid, count */
	struct sk_buff *skb;
	u32 portid;
	unsigned int count;
	struct net *net;
	struct delayed_work flush;
};

#define PM_REPORT_DELAY_MS 10

void pm_report_init(struct pm_report *r, struct net *net);
void pm_report_flow(struct pm_report *r, const struct pm_flow *f,
		    const char *exe, u32 mark, u32 portid);
void pm_report_stop(struct pm_report *r);

#endif /* _PM_REPORT_H */
