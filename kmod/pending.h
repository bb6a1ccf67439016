/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_PENDING_H
#define _PM_PENDING_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>

#include "flow.h"
#include "owner.h"

/* A packet held until its flow is decided, and where it was stopped. */
struct pm_packet {
	struct list_head list;
	struct sk_buff *skb;
	struct nf_hook_state state;
};

/*
 * What makes packets one flow: the original tuple of their conntrack
 * entry and its zone.  Not the entry itself: until the first packet is
 * confirmed, each later packet of the flow gets an unconfirmed entry of
 * its own.  Built zeroed, so it compares and hashes as plain memory.
 */
struct pm_flow_key {
	union nf_inet_addr src;
	union nf_inet_addr dst;
	__be16 sport;		/* or the ICMP id */
	__be16 dport;		/* or the ICMP type and code */
	u16 zone;
	u8 l3num;
	u8 protonum;
};

/* A flow waiting for its verdict.  Ids grow in the order flows are added. */
struct pm_flow {
	struct hlist_node key_node;
	struct hlist_node id_node;
	struct list_head age_node;	/* in the table, or on a taken list */
	struct pm_flow_key key;
	u64 id;
	unsigned long created;	/* jiffies */
	unsigned long deadline;
	struct list_head packets;
	unsigned int held;
	unsigned int held_bytes;
	bool failed;		/* the listener never got it: fail policy */
	struct pm_flow_info info;
	struct pm_owner owner;
};

#define PM_TABLE_BITS 8

/*
 * The pending flows of one network namespace, bounded in flows, packets
 * per flow and bytes held.  All of it is under @lock (taken with BHs
 * off: the hooks run in softirq context too).
 */
struct pm_table {
	spinlock_t lock;	/* everything below */
	DECLARE_HASHTABLE(by_key, PM_TABLE_BITS);
	DECLARE_HASHTABLE(by_id, PM_TABLE_BITS);
	struct list_head by_age;
	unsigned int flows;
	unsigned int packets;
	unsigned int bytes;
	u64 next_id;
	bool closed;
};

struct pm_limits {
	unsigned int max_flows;
	unsigned int max_held;		/* packets per flow */
	unsigned int max_bytes;		/* truesize of all held packets */
	unsigned long timeout;		/* jiffies */
};

void pm_table_init(struct pm_table *t);
struct pm_flow *pm_table_find_key(struct pm_table *t,
				  const struct pm_flow_key *key);
struct pm_flow *pm_table_find_id(struct pm_table *t, u64 id);
int pm_table_add(struct pm_table *t, struct pm_flow *f,
		 const struct pm_limits *l, unsigned long now);
int pm_flow_hold(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l);
void pm_table_del(struct pm_table *t, struct pm_flow *f);
unsigned int pm_table_take_expired(struct pm_table *t, unsigned long now,
				   struct list_head *out, unsigned long *next);
unsigned int pm_table_take_all(struct pm_table *t, struct list_head *out);
bool pm_flows_unanswered_since(const struct list_head *flows,
			       unsigned long heard);
unsigned int pm_table_take_dev(struct pm_table *t,
			       const struct net_device *dev,
			       struct list_head *out);

int pm_pending_init(void);
void pm_pending_exit(void);
struct pm_flow *pm_flow_alloc(gfp_t gfp);
void pm_flow_free(struct pm_flow *f);
struct pm_packet *pm_packet_alloc(gfp_t gfp);
void pm_packet_free(struct pm_packet *p);
int pm_pending_live_flows(void);
int pm_pending_live_packets(void);

#endif /* _PM_PENDING_H */
