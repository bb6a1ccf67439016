/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_REMEMBER_H
#define _PM_REMEMBER_H

#include <linux/list.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>

#include "owner.h"

struct pm_flow;

/*
 * What a remembered verdict applies to: flows of the same program (its
 * executable, told apart from one that replaced it), user, direction and
 * protocol, with the same peer address and service port.  Built zeroed:
 * compared as memory.
 */
struct pm_remember_key {
	union nf_inet_addr peer;
	struct pm_exe_id exe;	/* zero: no program known */
	u32 uid;
	u16 port;		/* the remote port out, the local port in */
	u8 family;
	u8 protocol;
	u8 direction;
	u8 has_uid;
	u8 pad[2];
};

/* Found under RCU by the hooks; changed under the table's lock. */
struct pm_remembered {
	struct hlist_node node;
	struct list_head fifo;
	struct rcu_head rcu;
	struct pm_remember_key key;
	u32 mark;
	unsigned long expires;	/* jiffies */
	char *exe;		/* the program's path when it was decided */
};

struct pm_remember_buckets {
	struct rcu_head rcu;
	unsigned int bits;
	struct hlist_head b[];
};

/*
 * The remembered verdicts of one namespace, bounded, oldest out first,
 * in a hash table sized for the bound and hashed with a random seed.
 * Looked up without a lock: a storm of flows like a decided one costs
 * no lock and no path lookup per flow.
 */
struct pm_remember {
	spinlock_t lock;	/* changes; count and fifo */
	struct pm_remember_buckets __rcu *buckets;
	u32 seed;
	struct list_head fifo;
	unsigned int count;
};

void pm_remember_init(struct pm_remember *r);
void pm_remember_destroy(struct pm_remember *r);
void pm_remember_key(const struct pm_flow *f, struct pm_remember_key *key);
u32 pm_remember_lookup(struct pm_remember *r, const struct pm_remember_key *key,
		       unsigned long now, const char **exe);
int pm_remember_add(struct pm_remember *r, const struct pm_remember_key *key,
		    u32 mark, unsigned long now, unsigned long expires,
		    unsigned int max, const char *exe);
unsigned int pm_remember_flush(struct pm_remember *r);

#endif /* _PM_REMEMBER_H */
