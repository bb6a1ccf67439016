// SPDX-License-Identifier: GPL-2.0
/*
 * The table of pending flows.  Found by conntrack entry from the hooks,
 * by id from a verdict, and in age order for the timeout.  It only keeps
 * things: what happens to a packet is decided elsewhere (verdict.c), by
 * whoever took its flow out of the table.
 */
#include <linux/atomic.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "pending.h"

static struct kmem_cache *pm_flow_cache;
static struct kmem_cache *pm_packet_cache;

/* Live objects, to prove at unload that nothing leaked. */
static atomic_t pm_live_flows = ATOMIC_INIT(0);
static atomic_t pm_live_packets = ATOMIC_INIT(0);

void pm_table_init(struct pm_table *t)
{
	spin_lock_init(&t->lock);
	hash_init(t->by_key);
	hash_init(t->by_id);
	INIT_LIST_HEAD(&t->by_age);
	t->flows = 0;
	t->packets = 0;
	t->bytes = 0;
	t->next_id = 0;
	t->closed = false;
}

static u32 pm_key_hash(const struct pm_flow_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), 0);
}

struct pm_flow *pm_table_find_key(struct pm_table *t,
				  const struct pm_flow_key *key)
{
	struct pm_flow *f;

	lockdep_assert_held(&t->lock);
	hash_for_each_possible(t->by_key, f, key_node, pm_key_hash(key))
		if (!memcmp(&f->key, key, sizeof(*key)))
			return f;
	return NULL;
}

struct pm_flow *pm_table_find_id(struct pm_table *t, u64 id)
{
	struct pm_flow *f;

	lockdep_assert_held(&t->lock);
	hash_for_each_possible(t->by_id, f, id_node, id)
		if (f->id == id)
			return f;
	return NULL;
}

/**
 * pm_table_add - add a new flow, with no packets yet
 * @t: the table, locked
 * @f: the flow, its key set; its id is given here
 * @l: the limits
 * @now: jiffies
 *
 * Return: 0; -ESHUTDOWN when the table is closed; -ENOSPC when full.
 */
int pm_table_add(struct pm_table *t, struct pm_flow *f,
		 const struct pm_limits *l, unsigned long now)
{
	lockdep_assert_held(&t->lock);
	if (t->closed)
		return -ESHUTDOWN;
	if (t->flows >= l->max_flows)
		return -ENOSPC;
	f->id = ++t->next_id;
	f->created = now;
	f->deadline = now + l->timeout;
	hash_add(t->by_key, &f->key_node, pm_key_hash(&f->key));
	hash_add(t->by_id, &f->id_node, f->id);
	list_add_tail(&f->age_node, &t->by_age);
	t->flows++;
	return 0;
}

/* Queue @p behind the packets already held for @f, if the bounds allow. */
int pm_flow_hold(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l)
{
	unsigned int size = p->skb->truesize;

	lockdep_assert_held(&t->lock);
	if (f->held >= l->max_held || t->bytes + size > l->max_bytes)
		return -ENOBUFS;
	list_add_tail(&p->list, &f->packets);
	f->held++;
	f->held_bytes += size;
	t->packets++;
	t->bytes += size;
	return 0;
}

/* Take @f out of the table; its packets stay on it, for the caller. */
void pm_table_del(struct pm_table *t, struct pm_flow *f)
{
	lockdep_assert_held(&t->lock);
	hash_del(&f->key_node);
	hash_del(&f->id_node);
	list_del_init(&f->age_node);
	t->flows--;
	t->packets -= f->held;
	t->bytes -= f->held_bytes;
}

static void pm_table_take(struct pm_table *t, struct pm_flow *f,
			  struct list_head *out)
{
	pm_table_del(t, f);
	list_add_tail(&f->age_node, out);
}

/**
 * pm_table_take_expired - move the flows due by @now to @out
 * @t: the table, locked
 * @now: jiffies
 * @out: receives the flows, oldest first, linked by age_node
 * @next: set to the earliest deadline left, or 0 when none is
 *
 * Flows marked failed are due at once.  Return: how many were taken.
 */
unsigned int pm_table_take_expired(struct pm_table *t, unsigned long now,
				   struct list_head *out, unsigned long *next)
{
	struct pm_flow *f, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&t->lock);
	*next = 0;
	list_for_each_entry_safe(f, tmp, &t->by_age, age_node) {
		if (f->failed || time_after_eq(now, f->deadline)) {
			pm_table_take(t, f, out);
			n++;
		} else if (!*next || time_before(f->deadline, *next)) {
			*next = f->deadline;
		}
	}
	return n;
}

/**
 * pm_flows_unanswered_since - did a flow wait with the listener quiet?
 * @flows: flows taken from the table (linked by age_node)
 * @heard: jiffies the listener last sent anything
 *
 * Return: true when one of @flows reached the listener (its event did not
 * fail) and was announced after @heard: the listener said nothing for as
 * long as that flow waited.
 */
bool pm_flows_unanswered_since(const struct list_head *flows,
			       unsigned long heard)
{
	const struct pm_flow *f;

	list_for_each_entry(f, flows, age_node)
		if (!f->failed && time_before(heard, f->created))
			return true;
	return false;
}

unsigned int pm_table_take_all(struct pm_table *t, struct list_head *out)
{
	struct pm_flow *f, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&t->lock);
	list_for_each_entry_safe(f, tmp, &t->by_age, age_node) {
		pm_table_take(t, f, out);
		n++;
	}
	return n;
}

/* The flows with a packet that entered or leaves by @dev. */
unsigned int pm_table_take_dev(struct pm_table *t,
			       const struct net_device *dev,
			       struct list_head *out)
{
	struct pm_flow *f, *tmp;
	struct pm_packet *p;
	unsigned int n = 0;

	lockdep_assert_held(&t->lock);
	list_for_each_entry_safe(f, tmp, &t->by_age, age_node) {
		list_for_each_entry(p, &f->packets, list) {
			if (p->state.in == dev || p->state.out == dev) {
				pm_table_take(t, f, out);
				n++;
				break;
			}
		}
	}
	return n;
}

struct pm_flow *pm_flow_alloc(gfp_t gfp)
{
	struct pm_flow *f = kmem_cache_zalloc(pm_flow_cache, gfp);

	if (!f)
		return NULL;
	INIT_LIST_HEAD(&f->packets);
	INIT_LIST_HEAD(&f->age_node);
	atomic_inc(&pm_live_flows);
	return f;
}

void pm_flow_free(struct pm_flow *f)
{
	WARN_ON_ONCE(!list_empty(&f->packets));
	kmem_cache_free(pm_flow_cache, f);
	atomic_dec(&pm_live_flows);
}

struct pm_packet *pm_packet_alloc(gfp_t gfp)
{
	struct pm_packet *p = kmem_cache_zalloc(pm_packet_cache, gfp);

	if (p)
		atomic_inc(&pm_live_packets);
	return p;
}

void pm_packet_free(struct pm_packet *p)
{
	kmem_cache_free(pm_packet_cache, p);
	atomic_dec(&pm_live_packets);
}

int pm_pending_live_flows(void)
{
	return atomic_read(&pm_live_flows);
}

int pm_pending_live_packets(void)
{
	return atomic_read(&pm_live_packets);
}

int pm_pending_init(void)
{
	pm_flow_cache = KMEM_CACHE(pm_flow, 0);
	if (!pm_flow_cache)
		return -ENOMEM;
	pm_packet_cache = KMEM_CACHE(pm_packet, 0);
	if (!pm_packet_cache) {
		kmem_cache_destroy(pm_flow_cache);
		return -ENOMEM;
	}
	return 0;
}

void pm_pending_exit(void)
{
	kmem_cache_destroy(pm_packet_cache);
	kmem_cache_destroy(pm_flow_cache);
}
