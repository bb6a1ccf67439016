// SPDX-License-Identifier: GPL-2.0
/*
 * Batched reports of flows decided in the kernel (see report.h).  A
 * report is information, not a question: if the listener cannot take a
 * batch, it is counted and lost, and no packet waits for it.
 */
#include <linux/jiffies.h>
#include <net/genetlink.h>

#include "netlink.h"
#include "netns.h"
#include "report.h"

/* Room left below which a batch goes out rather than risk a split. */
#define PM_REPORT_SLACK 1024

static void pm_report_send(struct net *net, struct sk_buff *skb, u32 portid,
			   unsigned int count)
{
	if (!skb)
		return;
	if (pm_netlink_unicast(net, skb, portid))
		pm_stat_add(pm_pernet(net), PM_STAT_EVENT_FAILED, count);
}

/* Take the batch out, for sending outside the lock. */
static struct sk_buff *pm_report_take(struct pm_report *r, u32 *portid,
				      unsigned int *count)
{
	struct sk_buff *skb = r->skb;

	lockdep_assert_held(&r->lock);
	*portid = r->portid;
	*count = r->count;
	r->skb = NULL;
	r->count = 0;
	return skb;
}

static void pm_report_flush_work(struct work_struct *work)
{
	struct pm_report *r = container_of(to_delayed_work(work),
					   struct pm_report, flush);
	struct sk_buff *skb;
	unsigned int count;
	u32 portid;

	spin_lock_bh(&r->lock);
	skb = pm_report_take(r, &portid, &count);
	spin_unlock_bh(&r->lock);
	pm_report_send(r->net, skb, portid, count);
}

void pm_report_init(struct pm_report *r, struct net *net)
{
	spin_lock_init(&r->lock);
	r->skb = NULL;
	r->portid = 0;
	r->count = 0;
	r->net = net;
	INIT_DELAYED_WORK(&r->flush, pm_report_flush_work);
}

/**
 * pm_report_flow - report a flow decided in the kernel
 * @r: the namespace's batch
 * @f: the flow
 * @exe: its executable's path, or NULL
 * @mark: the verdict it got
 * @portid: the listener
 *
 * Runs in the hook: nothing here sleeps.
 */
void pm_report_flow(struct pm_report *r, const struct pm_flow *f,
		    const char *exe, u32 mark, u32 portid)
{
	struct sk_buff *full = NULL, *alone = NULL;
	unsigned int full_count = 0;
	u32 full_portid = 0;
	bool big;
	int tries;

	big = pm_netlink_flow_msg_size(exe) + PM_REPORT_SLACK > NLMSG_GOODSIZE;
	spin_lock_bh(&r->lock);
	if (r->skb && (r->portid != portid || big))	/* keep the order */
		full = pm_report_take(r, &full_portid, &full_count);
	for (tries = 0; !big && tries < 2; tries++) {
		if (!r->skb) {
			r->skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
			if (!r->skb)
				break;
			r->portid = portid;
		}
		if (!pm_netlink_put_flow_msg(r->skb, f, exe, mark)) {
			if (!r->count++)
				mod_delayed_work(pm_wq, &r->flush,
						 msecs_to_jiffies(PM_REPORT_DELAY_MS));
			break;
		}
		/* no room: this batch goes, the report starts the next */
		if (full || !r->count)
			break;
		full = pm_report_take(r, &full_portid, &full_count);
	}
	if (r->skb && skb_tailroom(r->skb) < PM_REPORT_SLACK && !full)
		full = pm_report_take(r, &full_portid, &full_count);
	spin_unlock_bh(&r->lock);
	pm_report_send(r->net, full, full_portid, full_count);
	if (big) {	/* a path near PATH_MAX: a message of its own */
		alone = pm_netlink_flow_event(f, exe, mark, GFP_ATOMIC, NULL);
		if (alone)
			pm_report_send(r->net, alone, portid, 1);
		else
			pm_stat_inc(pm_pernet(r->net), PM_STAT_EVENT_FAILED);
	}
}

/* No more reports: what is batched is dropped (the listener is gone). */
void pm_report_stop(struct pm_report *r)
{
	cancel_delayed_work_sync(&r->flush);
	spin_lock_bh(&r->lock);
	kfree_skb(r->skb);
	r->skb = NULL;
	r->count = 0;
	spin_unlock_bh(&r->lock);
}
