// SPDX-License-Identifier: GPL-2.0
/*
 * Remembered verdicts.  A listener may ask, with a permanent verdict, that
 * new flows like this one (same program, user, direction, protocol, peer
 * and port) be given the same verdict in the kernel for a while, without
 * asking it.  Under a storm of connections that is what keeps a firewall
 * from costing one trip to userspace per connection.  The listener forgets
 * them all with PM_CMD_RESET when its rules change.
 */
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/portmaster.h>

#include "pending.h"
#include "remember.h"

#define PM_REMEMBER_MIN_BITS 4
#define PM_REMEMBER_MAX_BITS 18

/* No buckets yet: the first verdict to remember sizes them. */
void pm_remember_init(struct pm_remember *r)
{
	spin_lock_init(&r->lock);
	r->by_key = NULL;
	r->bits = 0;
	r->seed = get_random_u32();
	INIT_LIST_HEAD(&r->fifo);
	r->count = 0;
}

void pm_remember_key(const struct pm_flow *f, struct pm_remember_key *key)
{
	const struct pm_flow_info *i = &f->info;
	bool out = i->direction == PM_DIR_OUT;

	memset(key, 0, sizeof(*key));
	key->peer = out ? i->daddr : i->saddr;
	if (i->flags & PM_FLOW_PORTS)
		key->port = i->dport;	/* the service: theirs out, ours in */
	key->family = i->family;
	key->protocol = i->protocol;
	key->direction = i->direction;
	if (f->owner.flags & PM_OWNER_SOCKET) {
		key->uid = f->owner.uid;
		key->has_uid = 1;
	}
	key->exe = f->owner.exe;
}

static u32 pm_remember_hash(const struct pm_remember *r,
			    const struct pm_remember_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), r->seed) &
	       ((1U << r->bits) - 1);
}

static struct pm_remembered *
pm_remember_find(struct pm_remember *r, const struct pm_remember_key *key)
{
	struct pm_remembered *e;

	if (!r->by_key)
		return NULL;
	hlist_for_each_entry(e, &r->by_key[pm_remember_hash(r, key)], node)
		if (!memcmp(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

static void pm_remember_del(struct pm_remember *r, struct pm_remembered *e)
{
	hlist_del(&e->node);
	list_del(&e->fifo);
	r->count--;
	kfree(e);
}

/* The remembered mark for @key, or 0.  An expired entry goes on the way. */
u32 pm_remember_lookup(struct pm_remember *r, const struct pm_remember_key *key,
		       unsigned long now)
{
	struct pm_remembered *e;
	u32 mark = 0;

	spin_lock_bh(&r->lock);
	e = pm_remember_find(r, key);
	if (e) {
		if (time_before(now, e->expires))
			mark = e->mark;
		else
			pm_remember_del(r, e);
	}
	spin_unlock_bh(&r->lock);
	return mark;
}

/*
 * Buckets for @max entries.  Process context: allocates with GFP_KERNEL,
 * rehashes under the lock.  A failure keeps the old size (only slower).
 */
static void pm_remember_size(struct pm_remember *r, unsigned int max)
{
	unsigned int bits = clamp_t(unsigned int, order_base_2(max),
				    PM_REMEMBER_MIN_BITS, PM_REMEMBER_MAX_BITS);
	struct hlist_head *by_key, *old;
	struct pm_remembered *e;

	if (bits == READ_ONCE(r->bits))
		return;
	by_key = kvcalloc(1U << bits, sizeof(*by_key), GFP_KERNEL);
	if (!by_key)
		return;
	spin_lock_bh(&r->lock);
	old = r->by_key;
	r->by_key = by_key;
	r->bits = bits;
	list_for_each_entry(e, &r->fifo, fifo)
		hlist_add_head(&e->node, &by_key[pm_remember_hash(r, &e->key)]);
	spin_unlock_bh(&r->lock);
	kvfree(old);
}

/**
 * pm_remember_add - remember a verdict for flows like @key until @expires
 * @r: the table
 * @key: the flows it applies to
 * @mark: a permanent verdict mark
 * @expires: jiffies
 * @max: how many a namespace may remember; the oldest make room
 *
 * Process context.  Return: 0 or -ENOMEM.
 */
int pm_remember_add(struct pm_remember *r, const struct pm_remember_key *key,
		    u32 mark, unsigned long expires, unsigned int max)
{
	struct pm_remembered *e, *n;

	if (!max) {	/* remember nothing, not even what was */
		pm_remember_flush(r);
		return 0;
	}
	pm_remember_size(r, max);
	n = kmalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->key = *key;
	n->mark = mark;
	n->expires = expires;

	spin_lock_bh(&r->lock);
	if (!r->by_key) {
		spin_unlock_bh(&r->lock);
		kfree(n);
		return -ENOMEM;
	}
	e = pm_remember_find(r, key);
	if (e)
		pm_remember_del(r, e);
	while (r->count && r->count >= max)
		pm_remember_del(r, list_first_entry(&r->fifo,
						    struct pm_remembered, fifo));
	hlist_add_head(&n->node, &r->by_key[pm_remember_hash(r, key)]);
	list_add_tail(&n->fifo, &r->fifo);
	r->count++;
	spin_unlock_bh(&r->lock);
	return 0;
}

/* Forget everything; returns how many were remembered. */
unsigned int pm_remember_flush(struct pm_remember *r)
{
	struct pm_remembered *e, *tmp;
	unsigned int n;

	spin_lock_bh(&r->lock);
	n = r->count;
	list_for_each_entry_safe(e, tmp, &r->fifo, fifo)
		pm_remember_del(r, e);
	spin_unlock_bh(&r->lock);
	return n;
}

void pm_remember_destroy(struct pm_remember *r)
{
	pm_remember_flush(r);
	kvfree(r->by_key);
	r->by_key = NULL;
	r->bits = 0;
}
