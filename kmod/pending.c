// SPDX-License-Identifier: GPL-2.0
/*
 * The table of flows waiting for a verdict.  Found by conntrack tuple from
 * the hooks, by id from a verdict, in deadline order for the timeout and
 * in id order for a dump.  It only keeps things and counts them against
 * their bounds: what happens to a packet is decided elsewhere
 * (verdict.c), by whoever took its flow out of the table.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/portmaster.h>

#include "pending.h"

static struct kmem_cache *pm_flow_cache;
static struct kmem_cache *pm_packet_cache;

/*
 * Live objects, so that unload can prove nothing leaked.  Two shared
 * atomics on every held packet are a cost only a debug build pays;
 * kmem_cache_destroy() warns of a leak in any build.
 */
#if IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) || IS_ENABLED(CONFIG_KUNIT)
static atomic_t pm_live_flows = ATOMIC_INIT(0);
static atomic_t pm_live_packets = ATOMIC_INIT(0);
#define pm_live_inc(v)	atomic_inc(v)
#define pm_live_dec(v)	atomic_dec(v)
#define pm_live_read(v)	atomic_read(v)
#else
#define pm_live_inc(v)	do { } while (0)
#define pm_live_dec(v)	do { } while (0)
#define pm_live_read(v)	0
#endif

#define PM_TABLE_MIN_BITS 4
#define PM_TABLE_MAX_BITS 16

/* A table with no buckets yet: they come with the first listener. */
int pm_table_init(struct pm_table *t, unsigned int max_flows)
{
	memset(t, 0, sizeof(*t));
	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->by_age);
	INIT_LIST_HEAD(&t->by_order);
	t->seed = get_random_u32();
	return max_flows ? pm_table_resize(t, max_flows) : 0;
}

static u32 pm_key_hash(const struct pm_table *t, const struct pm_flow_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), t->seed) &
	       ((1U << t->bits) - 1);
}

static u32 pm_id_hash(const struct pm_table *t, u64 id)
{
	return hash_64(id, t->bits);
}

/**
 * pm_table_resize - size the hash tables for @max_flows
 * @t: the table, unlocked
 * @max_flows: the bound the table is kept to
 *
 * Runs in process context: it allocates with GFP_KERNEL, then rehashes
 * every flow under the lock.  Return: 0 or -ENOMEM (the old size stays).
 */
int pm_table_resize(struct pm_table *t, unsigned int max_flows)
{
	unsigned int bits = clamp_t(unsigned int, order_base_2(max_flows),
				    PM_TABLE_MIN_BITS, PM_TABLE_MAX_BITS);
	struct hlist_head *by_key, *by_id, *old_key, *old_id;
	unsigned int i, old_bits;
	struct hlist_node *tmp;
	struct pm_flow *f;

	if (bits == READ_ONCE(t->bits))
		return 0;
	by_key = kvcalloc(1U << bits, sizeof(*by_key), GFP_KERNEL);
	by_id = kvcalloc(1U << bits, sizeof(*by_id), GFP_KERNEL);
	if (!by_key || !by_id) {
		kvfree(by_key);
		kvfree(by_id);
		return -ENOMEM;
	}

	spin_lock_bh(&t->lock);
	old_key = t->by_key;
	old_id = t->by_id;
	old_bits = t->bits;
	t->by_key = by_key;
	t->by_id = by_id;
	t->bits = bits;
	for (i = 0; old_key && i < (1U << old_bits); i++) {
		hlist_for_each_entry_safe(f, tmp, &old_key[i], key_node)
			hlist_add_head(&f->key_node,
				       &by_key[pm_key_hash(t, &f->key)]);
		hlist_for_each_entry_safe(f, tmp, &old_id[i], id_node)
			hlist_add_head(&f->id_node, &by_id[pm_id_hash(t, f->id)]);
	}
	spin_unlock_bh(&t->lock);
	kvfree(old_key);
	kvfree(old_id);
	return 0;
}

/* The table must be empty: every flow resolved. */
void pm_table_destroy(struct pm_table *t)
{
	WARN_ON_ONCE(t->flows || !list_empty(&t->by_order));
	kvfree(t->by_key);
	kvfree(t->by_id);
	t->by_key = NULL;
	t->by_id = NULL;
	t->bits = 0;
}

/* From now on flows announced to listener @gen may be added. */
void pm_table_open(struct pm_table *t, u32 gen)
{
	lockdep_assert_held(&t->lock);
	t->gen = gen;
	t->open = true;
}

/* No flow is added any more, whoever saw which listener. */
void pm_table_close(struct pm_table *t)
{
	lockdep_assert_held(&t->lock);
	t->open = false;
}

/*
 * The slot where @uid's flows of direction @dir are counted: its own,
 * else (with @claim) a free one, else one shared by hash.  -1: @uid has
 * no flow and nothing was claimed.
 */
static int pm_uid_slot(const struct pm_table *t, u8 dir, u32 uid, bool claim)
{
	const struct pm_uid_share *s = t->uids[dir];
	int i, free = -1;

	/* Every new flow asks, most often of an empty direction: no scan. */
	if (!READ_ONCE(t->dir_flows[dir]))
		return claim ? 0 : -1;
	for (i = 0; i < PM_UID_SLOTS; i++) {
		if (!READ_ONCE(s[i].flows)) {
			if (free < 0)
				free = i;
		} else if (READ_ONCE(s[i].uid) == uid) {
			return i;
		}
	}
	if (free >= 0)
		return claim ? free : -1;
	BUILD_BUG_ON(PM_UID_SLOTS != 1 << 6);
	return hash_32(uid ^ t->seed, 6);
}

/* Inbound flows may take half the table, outbound ones the other half. */
static unsigned int pm_dir_share(unsigned int max_flows, u8 dir)
{
	unsigned int in = max_flows / 2;

	return max(1U, dir == PM_DIR_IN ? in : max_flows - in);
}

/**
 * pm_table_room - would a new flow find a place?
 * @t: the table; locked for an exact answer, or not, for a cheap one
 * @l: the limits
 * @dir: the flow's direction
 * @uid: the uid of its local socket
 *
 * A flood from outside, or one program's storm, takes its own share and
 * no more: one uid may take half of its direction's share.
 */
enum pm_room pm_table_room(const struct pm_table *t, const struct pm_limits *l,
			   u8 dir, u32 uid)
{
	unsigned int dir_cap = pm_dir_share(l->max_flows, dir);
	int slot = pm_uid_slot(t, dir, uid, false);

	if (READ_ONCE(t->flows) >= l->max_flows)
		return PM_ROOM_TABLE_FULL;
	if (READ_ONCE(t->dir_flows[dir]) >= dir_cap ||
	    (slot >= 0 &&
	     READ_ONCE(t->uids[dir][slot].flows) >= max(1U, dir_cap / 2)))
		return PM_ROOM_QUOTA_FULL;
	return PM_ROOM_OK;
}

struct pm_flow *pm_table_find_key(struct pm_table *t,
				  const struct pm_flow_key *key)
{
	struct pm_flow *f;

	lockdep_assert_held(&t->lock);
	if (!t->by_key)
		return NULL;
	hlist_for_each_entry(f, &t->by_key[pm_key_hash(t, key)], key_node)
		if (!memcmp(&f->key, key, sizeof(*key)))
			return f;
	return NULL;
}

/* A waiting flow by its id: a flow already taken has no id any more. */
struct pm_flow *pm_table_find_id(struct pm_table *t, u64 id)
{
	struct pm_flow *f;

	lockdep_assert_held(&t->lock);
	if (!t->by_id)
		return NULL;
	hlist_for_each_entry(f, &t->by_id[pm_id_hash(t, id)], id_node)
		if (f->id == id)
			return f;
	return NULL;
}

/* Deadlines differ only when the timeout changed: the tail is the place. */
static void pm_age_insert(struct pm_table *t, struct pm_flow *f)
{
	struct pm_flow *pos;

	list_for_each_entry_reverse(pos, &t->by_age, age_node) {
		if (!time_before(f->deadline, pos->deadline)) {
			list_add(&f->age_node, &pos->age_node);
			return;
		}
	}
	list_add(&f->age_node, &t->by_age);
}

/**
 * pm_table_add - add a new flow with its first packet
 * @t: the table, locked
 * @f: the flow, its key, dir and uid set; its id is given here
 * @p: its first packet
 * @l: the limits
 * @now: jiffies
 * @gen: the listener it is announced to
 *
 * Return: 0; -ESHUTDOWN when no flow is taken for listener @gen (it left,
 * died or hangs, or the namespace goes); -ENOSPC when the table is full;
 * -EDQUOT when the flow's direction or uid has taken its share; -ENOBUFS
 * when the held packets use all the bytes they may.
 */
int pm_table_add(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l, unsigned long now, u32 gen)
{
	lockdep_assert_held(&t->lock);
	if (!t->open || t->gen != gen || !t->by_key)
		return -ESHUTDOWN;
	switch (pm_table_room(t, l, f->dir, f->uid)) {
	case PM_ROOM_TABLE_FULL:
		return -ENOSPC;
	case PM_ROOM_QUOTA_FULL:
		return -EDQUOT;
	case PM_ROOM_OK:
		break;
	}
	if (t->bytes + p->skb->truesize > l->max_bytes)
		return -ENOBUFS;
	f->id = ++t->next_id;
	f->created = now;
	f->deadline = now + l->timeout;
	f->waiting = true;
	hlist_add_head(&f->key_node, &t->by_key[pm_key_hash(t, &f->key)]);
	hlist_add_head(&f->id_node, &t->by_id[pm_id_hash(t, f->id)]);
	pm_age_insert(t, f);
	f->order.cursor = false;
	list_add_tail(&f->order.node, &t->by_order);
	t->flows++;
	t->waiting++;
	t->dir_flows[f->dir]++;
	f->uid_slot = pm_uid_slot(t, f->dir, f->uid, true);
	if (!t->uids[f->dir][f->uid_slot].flows++)
		t->uids[f->dir][f->uid_slot].uid = f->uid;
	return pm_flow_hold(t, f, p, l);
}

/**
 * pm_flow_keep_exe - keep the program's path with a waiting flow
 * @t: the table, locked
 * @f: the flow
 * @buf: the buffer that holds the path, of @size bytes; the flow owns it
 *	from now on if this returns true
 * @size: its size
 * @exe: the path, in @buf
 * @l: the limits: the path is counted in the bytes held
 *
 * For a dump that recovers the flow, and for a verdict that asks to be
 * remembered (its reports then name the program without a path lookup
 * per flow).  Return: whether it is kept.
 */
bool pm_flow_keep_exe(struct pm_table *t, struct pm_flow *f, char *buf,
		      unsigned int size, const char *exe,
		      const struct pm_limits *l)
{
	lockdep_assert_held(&t->lock);
	if (f->exe || !f->waiting || t->bytes + size > l->max_bytes)
		return false;
	f->exe_buf = buf;
	f->exe = exe;
	f->exe_bytes = size;
	t->bytes += size;
	return true;
}

/*
 * Queue @p behind the packets already held for @f, if the bounds allow.
 * A flow whose verdict is being carried out takes as many again at most,
 * so that carrying it out ends even under a flood.
 */
int pm_flow_hold(struct pm_table *t, struct pm_flow *f, struct pm_packet *p,
		 const struct pm_limits *l)
{
	unsigned int size = p->skb->truesize;

	lockdep_assert_held(&t->lock);
	if (f->held >= l->max_held || t->bytes + size > l->max_bytes)
		return -ENOBUFS;
	if (!f->waiting && f->late++ >= l->max_held)
		return -ENOBUFS;
	list_add_tail(&p->list, &f->packets);
	f->held++;
	f->held_bytes += size;
	t->packets++;
	t->bytes += size;
	return 0;
}

/*
 * Take a waiting flow for its verdict: no verdict, timeout or dump finds
 * it any more, but later packets still join it until pm_table_forget().
 */
void pm_table_take(struct pm_table *t, struct pm_flow *f)
{
	lockdep_assert_held(&t->lock);
	if (!f->waiting)
		return;
	hash_del(&f->id_node);
	list_del_init(&f->age_node);
	list_del(&f->order.node);
	f->waiting = false;
	t->waiting--;
	t->bytes -= f->exe_bytes;	/* the path goes with the flow itself */
	f->exe_bytes = 0;
}

/* Move the packets held for @f to @out; returns how many. */
unsigned int pm_flow_take_packets(struct pm_table *t, struct pm_flow *f,
				  struct list_head *out)
{
	unsigned int n = f->held;

	lockdep_assert_held(&t->lock);
	list_splice_tail_init(&f->packets, out);
	t->packets -= f->held;
	t->bytes -= f->held_bytes;
	f->held = 0;
	f->held_bytes = 0;
	return n;
}

/* The end of a taken flow that holds no packet: out of the table. */
void pm_table_forget(struct pm_table *t, struct pm_flow *f)
{
	lockdep_assert_held(&t->lock);
	WARN_ON_ONCE(f->waiting || f->held);
	hash_del(&f->key_node);
	t->flows--;
	t->dir_flows[f->dir]--;
	t->uids[f->dir][f->uid_slot].flows--;
}

static void pm_table_take_to(struct pm_table *t, struct pm_flow *f,
			     struct list_head *out)
{
	pm_table_take(t, f);
	list_add_tail(&f->age_node, out);
}

/**
 * pm_table_take_expired - take the flows due by @now
 * @t: the table, locked
 * @now: jiffies
 * @out: receives the flows, oldest first, linked by age_node
 * @next: set to the earliest deadline left, or 0 when none is
 *
 * Only the due flows are looked at: by_age is in deadline order.
 * Return: how many were taken.
 */
unsigned int pm_table_take_expired(struct pm_table *t, unsigned long now,
				   struct list_head *out, unsigned long *next)
{
	struct pm_flow *f, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&t->lock);
	*next = 0;
	list_for_each_entry_safe(f, tmp, &t->by_age, age_node) {
		if (time_before(now, f->deadline)) {
			*next = f->deadline;
			break;
		}
		pm_table_take_to(t, f, out);
		n++;
	}
	return n;
}

/**
 * pm_flows_unanswered_since - did a flow wait with the listener quiet?
 * @flows: flows taken from the table (linked by age_node)
 * @heard: jiffies the listener last sent anything
 *
 * Return: true when one of @flows reached the listener (its event was not
 * lost) and was announced after @heard: the listener said nothing for as
 * long as that flow waited.
 */
bool pm_flows_unanswered_since(const struct list_head *flows,
			       unsigned long heard)
{
	const struct pm_flow *f;

	list_for_each_entry(f, flows, age_node)
		if (!f->event_lost && time_before(heard, f->created))
			return true;
	return false;
}

unsigned int pm_table_take_all(struct pm_table *t, struct list_head *out)
{
	struct pm_flow *f, *tmp;
	unsigned int n = 0;

	lockdep_assert_held(&t->lock);
	list_for_each_entry_safe(f, tmp, &t->by_age, age_node) {
		pm_table_take_to(t, f, out);
		n++;
	}
	return n;
}

static bool pm_packet_uses(const struct pm_packet *p,
			   const struct net_device *dev)
{
	return p->state.in == dev || p->state.out == dev || p->skb_dev == dev;
}

/* The waiting flows with a packet that entered or leaves by @dev. */
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
			if (pm_packet_uses(p, dev)) {
				pm_table_take_to(t, f, out);
				n++;
				break;
			}
		}
	}
	return n;
}

/* A dump starts before the oldest waiting flow. */
void pm_table_cursor_start(struct pm_table *t, struct pm_order *cursor)
{
	lockdep_assert_held(&t->lock);
	cursor->cursor = true;
	list_add(&cursor->node, &t->by_order);
}

/* The waiting flow after @cursor, or NULL at the end. */
struct pm_flow *pm_table_cursor_peek(struct pm_table *t,
				     const struct pm_order *cursor)
{
	struct pm_order *o;

	lockdep_assert_held(&t->lock);
	for (o = list_entry(cursor->node.next, struct pm_order, node);
	     &o->node != &t->by_order; o = list_next_entry(o, node))
		if (!o->cursor)	/* not another dump's place */
			return container_of(o, struct pm_flow, order);
	return NULL;
}

/* Move @cursor past @f, which it peeked. */
void pm_table_cursor_pass(struct pm_table *t, struct pm_order *cursor,
			  struct pm_flow *f)
{
	lockdep_assert_held(&t->lock);
	list_move(&cursor->node, &f->order.node);
}

void pm_table_cursor_end(struct pm_table *t, struct pm_order *cursor)
{
	lockdep_assert_held(&t->lock);
	list_del(&cursor->node);
}

struct pm_flow *pm_flow_alloc(gfp_t gfp)
{
	struct pm_flow *f = kmem_cache_zalloc(pm_flow_cache, gfp);

	if (!f)
		return NULL;
	INIT_LIST_HEAD(&f->packets);
	INIT_LIST_HEAD(&f->age_node);
	pm_live_inc(&pm_live_flows);
	return f;
}

void pm_flow_free(struct pm_flow *f)
{
	WARN_ON_ONCE(!list_empty(&f->packets));
	kfree(f->exe_buf);
	kmem_cache_free(pm_flow_cache, f);
	pm_live_dec(&pm_live_flows);
}

struct pm_packet *pm_packet_alloc(gfp_t gfp)
{
	struct pm_packet *p = kmem_cache_zalloc(pm_packet_cache, gfp);

	if (p)
		pm_live_inc(&pm_live_packets);
	return p;
}

void pm_packet_free(struct pm_packet *p)
{
	kmem_cache_free(pm_packet_cache, p);
	pm_live_dec(&pm_live_packets);
}

int pm_pending_live_flows(void)
{
	return pm_live_read(&pm_live_flows);
}

int pm_pending_live_packets(void)
{
	return pm_live_read(&pm_live_packets);
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
