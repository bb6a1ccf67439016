/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_PENDING_H
#define _PM_PENDING_H

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
	struct net_device *skb_dev;	/* skb->dev, held as nf_queue does */
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

/*
 * A place in the list of waiting flows in id order: a flow, or where a
 * GET_FLOWS dump stopped (a cursor), so that a dump resumes in O(1)
 * whatever came and went meanwhile.
 */
struct pm_order {
	struct list_head node;
	bool cursor;
};

/*
 * A flow from its first packet until every packet held for it has been
 * acted on.  It is "waiting" while it has no verdict (in by_id, by_age
 * and by_order); once taken for a verdict it stays in by_key only, so
 * that a packet arriving while the verdict is carried out joins it and
 * gets the same verdict.
 */
struct pm_flow {
	struct hlist_node key_node;
	struct hlist_node id_node;
	struct list_head age_node;	/* by_age while waiting, then a taken list */
	struct pm_order order;
	struct pm_flow_key key;
	u64 id;
	unsigned long created;	/* jiffies */
	unsigned long deadline;
	struct list_head packets;
	unsigned int held;
	unsigned int held_bytes;
	unsigned int late;	/* joined once taken for its verdict */
	u32 uid;		/* the local socket's, for the shares */
	u8 dir;			/* enum pm_direction */
	u8 uid_slot;		/* where its uid is counted */
	bool waiting;
	bool event_lost;	/* the listener never got its event */
	const char *exe;	/* the program's path, in exe_buf, if kept */
	char *exe_buf;
	unsigned int exe_bytes;	/* counted in the table's bytes while waiting */
	struct pm_flow_info info;
	struct pm_owner owner;
};

/*
 * Flows of one direction are counted per uid, exactly, in this many
 * slots; only when more uids than that have flows waiting at once do
 * some share a slot.
 */
#define PM_UID_SLOTS 64

struct pm_uid_share {
	u32 uid;
	u32 flows;		/* 0: a free slot */
};

/*
 * The flows of one network namespace, bounded in flows (as a whole, per
 * direction and per uid), packets per flow and bytes held.  Everything is
 * under @lock (taken with BHs off: the hooks run in softirq context too).
 * The hash tables are sized for the bound and hashed with a random seed.
 */
struct pm_table {
	spinlock_t lock;	/* everything below */
	struct hlist_head *by_key;
	struct hlist_head *by_id;
	unsigned int bits;
	u32 seed;
	struct list_head by_age;	/* waiting flows, by deadline */
	struct list_head by_order;	/* waiting flows by id, and cursors */
	unsigned int flows;	/* in by_key: waiting or being acted on */
	unsigned int waiting;
	unsigned int packets;
	unsigned int bytes;
	unsigned int dir_flows[2];
	struct pm_uid_share uids[2][PM_UID_SLOTS];
	u64 next_id;
	u32 gen;		/* the listener whose flows may be added */
	bool open;		/* new flows may be added at all */
};

struct pm_limits {
	unsigned int max_flows;
	unsigned int max_held;		/* packets per flow */
	unsigned int max_bytes;		/* truesize of all held packets */
	unsigned long timeout;		/* jiffies */
};

/* Whether a new flow of a direction and uid would find a place. */
enum pm_room {
	PM_ROOM_OK,
	PM_ROOM_TABLE_FULL,	/* max_flows reached */
	PM_ROOM_QUOTA_FULL,	/* its direction's or its uid's share taken */
};

int pm_table_init(struct pm_table *t, unsigned int max_flows);
int pm_table_resize(struct pm_table *t, unsigned int max_flows);
void pm_table_destroy(struct pm_table *t);
void pm_table_open(struct pm_table *t, u32 gen);
void pm_table_close(struct pm_table *t);

enum pm_room pm_table_room(const struct pm_table *t, const struct pm_limits *l,
			   u8 dir, u32 uid);
struct pm_flow *pm_table_find_key(struct pm_table *t,
				  const struct pm_flow_key *key);
struct pm_flow *pm_table_find_id(struct pm_table *t, u64 id);
int pm_table_add(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l, unsigned long now, u32 gen);
bool pm_flow_keep_exe(struct pm_table *t, struct pm_flow *f, char *buf,
		      unsigned int size, const char *exe,
		      const struct pm_limits *l);
int pm_flow_hold(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l);
void pm_table_take(struct pm_table *t, struct pm_flow *f);
unsigned int pm_flow_take_packets(struct pm_table *t, struct pm_flow *f,
				  struct list_head *out);
void pm_table_forget(struct pm_table *t, struct pm_flow *f);
unsigned int pm_table_take_expired(struct pm_table *t, unsigned long now,
				   struct list_head *out, unsigned long *next);
unsigned int pm_table_take_all(struct pm_table *t, struct list_head *out);
unsigned int pm_table_take_dev(struct pm_table *t,
			       const struct net_device *dev,
			       struct list_head *out);
bool pm_flows_unanswered_since(const struct list_head *flows,
			       unsigned long heard);

void pm_table_cursor_start(struct pm_table *t, struct pm_order *cursor);
struct pm_flow *pm_table_cursor_peek(struct pm_table *t,
				     const struct pm_order *cursor);
void pm_table_cursor_pass(struct pm_table *t, struct pm_order *cursor,
			  struct pm_flow *f);
void pm_table_cursor_end(struct pm_table *t, struct pm_order *cursor);

int pm_pending_init(void);
void pm_pending_exit(void);
struct pm_flow *pm_flow_alloc(gfp_t gfp);
void pm_flow_free(struct pm_flow *f);
struct pm_packet *pm_packet_alloc(gfp_t gfp);
void pm_packet_free(struct pm_packet *p);
int pm_pending_live_flows(void);
int pm_pending_live_packets(void);

#endif /* _PM_PENDING_H */
