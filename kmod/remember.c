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
#include <linux/slab.h>
#include <linux/portmaster.h>

#include "pending.h"
#include "remember.h"

void pm_remember_init(struct pm_remember *r)
{
	spin_lock_init(&r->lock);
	hash_init(r->by_key);
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
	key->exe_ino = f->owner.exe_ino;
	key->exe_dev = f->owner.exe_dev;
}

static u32 pm_remember_hash(const struct pm_remember_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), 0);
}

static struct pm_remembered *
pm_remember_find(struct pm_remember *r, const struct pm_remember_key *key)
{
	struct pm_remembered *e;

	hash_for_each_possible(r->by_key, e, node, pm_remember_hash(key))
		if (!memcmp(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

static void pm_remember_del(struct pm_remember *r, struct pm_remembered *e)
{
	hash_del(&e->node);
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

/**
 * pm_remember_add - remember a verdict for flows like @key until @expires
 * @r: the table
 * @key: the flows it applies to
 * @mark: a permanent verdict mark
 * @expires: jiffies
 * @max: how many a namespace may remember; the oldest make room
 *
 * Return: 0 or -ENOMEM.
 */
int pm_remember_add(struct pm_remember *r, const struct pm_remember_key *key,
		    u32 mark, unsigned long expires, unsigned int max)
{
	struct pm_remembered *e, *n;

	n = kmalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->key = *key;
	n->mark = mark;
	n->expires = expires;

	spin_lock_bh(&r->lock);
	e = pm_remember_find(r, key);
	if (e)
		pm_remember_del(r, e);
	while (r->count && r->count >= max)
		pm_remember_del(r, list_first_entry(&r->fifo,
						    struct pm_remembered, fifo));
	if (max) {
		hash_add(r->by_key, &n->node, pm_remember_hash(key));
		list_add_tail(&n->fifo, &r->fifo);
		r->count++;
		n = NULL;
	}
	spin_unlock_bh(&r->lock);
	kfree(n);
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
