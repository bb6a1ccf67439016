// SPDX-License-Identifier: GPL-2.0
/*
 * Remembered verdicts.  A listener may ask, with a permanent verdict, that
 * new flows like this one (same program, user, direction, protocol, peer
 * and port) be given the same verdict in the kernel for a while, without
 * asking it.  Under a storm of connections that is what keeps a firewall
 * from costing one trip to userspace per connection, so the hooks look
 * them up under RCU alone.  The listener forgets them all with
 * PM_CMD_RESET when its rules change.
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
	RCU_INIT_POINTER(r->buckets, NULL);
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
			    const struct pm_remember_buckets *b,
			    const struct pm_remember_key *key)
{
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), r->seed) &
	       ((1U << b->bits) - 1);
}

/**
 * pm_remember_lookup - the verdict remembered for flows like @key
 * @r: the table
 * @key: the flow's key
 * @now: jiffies
 * @exe: if not NULL, set to the program's path when it was decided (or
 *	NULL); valid only while the caller holds rcu_read_lock()
 *
 * Lockless.  An expired entry is a miss; the next change takes it out.
 * Return: the mark, or 0.
 */
u32 pm_remember_lookup(struct pm_remember *r, const struct pm_remember_key *key,
		       unsigned long now, const char **exe)
{
	const struct pm_remember_buckets *b;
	const struct pm_remembered *e;
	u32 mark = 0;

	rcu_read_lock();
	b = rcu_dereference(r->buckets);
	if (!b)
		goto out;
	hlist_for_each_entry_rcu(e, &b->b[pm_remember_hash(r, b, key)], node) {
		if (memcmp(&e->key, key, sizeof(*key)))
			continue;
		if (time_before(now, READ_ONCE(e->expires))) {
			mark = e->mark;
			if (exe)
				*exe = e->exe;
		}
		break;
	}
out:
	rcu_read_unlock();
	return mark;
}

static void pm_remembered_free_rcu(struct rcu_head *head)
{
	struct pm_remembered *e = container_of(head, struct pm_remembered, rcu);

	kfree(e->exe);
	kfree(e);
}

static void pm_remember_del(struct pm_remember *r, struct pm_remembered *e)
{
	lockdep_assert_held(&r->lock);
	hlist_del_rcu(&e->node);
	list_del(&e->fifo);
	r->count--;
	call_rcu(&e->rcu, pm_remembered_free_rcu);
}

static struct pm_remembered *
pm_remember_find_locked(struct pm_remember *r, const struct pm_remember_key *key)
{
	struct pm_remember_buckets *b;
	struct pm_remembered *e;

	b = rcu_dereference_protected(r->buckets, lockdep_is_held(&r->lock));
	if (!b)
		return NULL;
	hlist_for_each_entry(e, &b->b[pm_remember_hash(r, b, key)], node)
		if (!memcmp(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

/*
 * Buckets for @max entries, allocated in process context.  Entries are
 * never moved between arrays under the hooks' feet: the array is replaced
 * only while it is empty, the old one freed after a grace period.  A
 * failure keeps the old array (only slower).
 */
static void pm_remember_size(struct pm_remember *r, unsigned int max)
{
	unsigned int bits = clamp_t(unsigned int, order_base_2(max),
				    PM_REMEMBER_MIN_BITS, PM_REMEMBER_MAX_BITS);
	struct pm_remember_buckets *b, *old;

	rcu_read_lock();
	old = rcu_dereference(r->buckets);
	if (old && (old->bits == bits || READ_ONCE(r->count))) {
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();
	b = kvzalloc(struct_size(b, b, 1U << bits), GFP_KERNEL);
	if (!b)
		return;
	b->bits = bits;
	spin_lock_bh(&r->lock);
	old = rcu_dereference_protected(r->buckets, lockdep_is_held(&r->lock));
	if (r->count) {		/* filled meanwhile: keep what is there */
		spin_unlock_bh(&r->lock);
		kvfree(b);
		return;
	}
	rcu_assign_pointer(r->buckets, b);
	spin_unlock_bh(&r->lock);
	if (old)
		kvfree_rcu(old, rcu);
}

/* Expired entries at the head of the fifo go before any is added. */
static void pm_remember_prune(struct pm_remember *r, unsigned long now)
{
	struct pm_remembered *e, *tmp;

	list_for_each_entry_safe(e, tmp, &r->fifo, fifo) {
		if (time_before(now, e->expires))
			break;
		pm_remember_del(r, e);
	}
}

/**
 * pm_remember_add - remember a verdict for flows like @key until @expires
 * @r: the table
 * @key: the flows it applies to
 * @mark: a permanent verdict mark
 * @now: jiffies
 * @expires: jiffies
 * @max: how many a namespace may remember; the oldest make room
 * @exe: the program's path, or NULL, for the reports of flows it decides
 *
 * Process context.  Return: 0 or -ENOMEM.
 */
int pm_remember_add(struct pm_remember *r, const struct pm_remember_key *key,
		    u32 mark, unsigned long now, unsigned long expires,
		    unsigned int max, const char *exe)
{
	struct pm_remember_buckets *b;
	struct pm_remembered *e, *n;

	if (!max) {	/* remember nothing, not even what was */
		pm_remember_flush(r);
		return 0;
	}
	pm_remember_size(r, max);
	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->key = *key;
	n->mark = mark;
	n->expires = expires;
	n->exe = exe ? kstrdup(exe, GFP_KERNEL) : NULL;

	spin_lock_bh(&r->lock);
	b = rcu_dereference_protected(r->buckets, lockdep_is_held(&r->lock));
	if (!b) {
		spin_unlock_bh(&r->lock);
		kfree(n->exe);
		kfree(n);
		return -ENOMEM;
	}
	pm_remember_prune(r, now);
	e = pm_remember_find_locked(r, key);
	if (e)
		pm_remember_del(r, e);
	while (r->count && r->count >= max)
		pm_remember_del(r, list_first_entry(&r->fifo,
						    struct pm_remembered, fifo));
	hlist_add_head_rcu(&n->node, &b->b[pm_remember_hash(r, b, key)]);
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

/* At the namespace's end: no hook looks any more. */
void pm_remember_destroy(struct pm_remember *r)
{
	struct pm_remember_buckets *b;

	pm_remember_flush(r);
	b = rcu_replace_pointer(r->buckets, NULL, true);
	if (b)
		kvfree_rcu(b, rcu);
}
