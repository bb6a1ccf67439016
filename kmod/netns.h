/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_NETNS_H
#define _PM_NETNS_H

#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "mark.h"
#include "pending.h"
#include "remember.h"
#include "report.h"
#include "reroute.h"

struct pid_namespace;
struct user_namespace;

/* The counters of one namespace, in the order of enum pm_stats_attr. */
enum pm_stat {
	PM_STAT_PACKETS,
	PM_STAT_INTERCEPTED,
	PM_STAT_FAST_PATH,
	PM_STAT_TIMEOUTS,
	PM_STAT_TABLE_FULL,
	PM_STAT_QUEUE_FULL,
	PM_STAT_EVENT_FAILED,
	PM_STAT_POLICY_ACCEPT,
	PM_STAT_POLICY_DROP,
	PM_STAT_LISTENER_LOST,
	PM_STAT_REMEMBERED,
	PM_STAT_LISTENER_SILENT,
	PM_STAT_QUOTA_FULL,
	PM_STAT_NO_MEMORY,
	PM_STAT_NOT_LOCAL,
	PM_STAT_NO_ROUTE,
	PM_STAT_VERDICTS,	/* one per verdict mark, in pm_verdict_index() order */
	PM_STAT_NR = PM_STAT_VERDICTS + PM_NR_VERDICTS
};

/* Per cpu, so that the hooks never write a shared cache line. */
struct pm_stats {
	u64 c[PM_STAT_NR];
};

/* Settings of one namespace; read locklessly by the hooks. */
struct pm_config {
	u8 fail_policy;		/* enum pm_fail_policy */
	u32 timeout_ms;
	u32 max_pending;
	u32 max_held;
};

#define PM_NR_HOOKS 4

/* The registered verdict listener.  Freed after an RCU grace period. */
struct pm_listener {
	u32 portid;
	u32 gen;			/* tells its flows from a successor's */
	struct pid_namespace *pidns;	/* pids are given as it sees them */
	struct user_namespace *userns;	/* and uids */
	bool keepalive;		/* has registered again: may be taken as hung */
	struct rcu_work free_work;
};

/*
 * The state of one network namespace.  Its hooks and its use of
 * conntrack exist only while a listener has registered (and, if it died,
 * until one registers again or the namespace goes).
 */
struct pm_net {
	struct net *net;
	struct pm_table table;
	struct pm_remember remember;
	struct pm_report report;
	struct pm_config config;
	struct pm_stats __percpu *stats;

	/* Registration changes under listener_lock; the hooks read RCU. */
	struct mutex listener_lock;
	struct pm_listener __rcu *listener;
	u32 listener_gen;
	bool active;			/* hooks and conntrack on */
	struct nf_hook_ops ops[PM_NR_HOOKS];

	/* Where 1799 and 1717 go; changed under listener_lock. */
	struct pm_reroutes __rcu *reroutes;
	bool reroute_registered;	/* our NAT lookup functions */
	struct nf_hook_ops reroute_ops[2];

	/*
	 * Written under table.lock, so that the table's openness, the state
	 * and what was last heard change together; the hooks read the state
	 * locklessly.
	 */
	u8 listener_state;		/* enum pm_listener_state */
	unsigned long last_heard;	/* jiffies of its last command */

	struct delayed_work expiry;	/* verdict timeouts */
};

static inline void pm_stat_add(struct pm_net *pn, enum pm_stat i, u64 n)
{
	this_cpu_add(pn->stats->c[i], n);
}

static inline void pm_stat_inc(struct pm_net *pn, enum pm_stat i)
{
	this_cpu_inc(pn->stats->c[i]);
}

extern struct workqueue_struct *pm_wq;
extern bool pm_unloading;

struct pm_net *pm_pernet(const struct net *net);
void pm_stats_sum(struct pm_net *pn, struct pm_stats *sum);
void pm_config_limits(const struct pm_net *pn, struct pm_limits *l);
void pm_net_kick_expiry(struct pm_net *pn, unsigned long when);
int pm_net_activate(struct pm_net *pn);
void pm_net_deactivate(struct pm_net *pn);
void pm_net_dev_down(struct net_device *dev);

int pm_netns_init(void);
void pm_netns_exit(void);

#endif /* _PM_NETNS_H */
