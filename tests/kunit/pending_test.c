// SPDX-License-Identifier: GPL-2.0
/* KUnit: the pending table's bounds, shares, indexes, expiry and dumps. */
#include <kunit/test.h>

#include "../../kmod/pending.c"

#define GEN 7

static const struct pm_limits limits = {
	.max_flows = 8,
	.max_held = 2,
	.max_bytes = 1 << 20,
	.timeout = 100,
};

struct pending_ctx {
	struct pm_table t;
};

static int pending_init(struct kunit *test)
{
	struct pending_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	int err;

	if (!ctx)
		return -ENOMEM;
	err = pm_pending_init();
	if (err)
		return err;
	err = pm_table_init(&ctx->t, limits.max_flows);
	if (err)
		return err;
	spin_lock_bh(&ctx->t.lock);
	pm_table_open(&ctx->t, GEN);
	spin_unlock_bh(&ctx->t.lock);
	test->priv = ctx;
	return 0;
}

static void free_packets(struct list_head *packets)
{
	struct pm_packet *p, *tmp;

	list_for_each_entry_safe(p, tmp, packets, list) {
		list_del(&p->list);
		kfree_skb(p->skb);
		pm_packet_free(p);
	}
}

/* What pm_carry_out() does, without acting on the packets. */
static void finish(struct pending_ctx *ctx, struct pm_flow *f)
{
	LIST_HEAD(packets);

	spin_lock_bh(&ctx->t.lock);
	pm_table_take(&ctx->t, f);
	pm_flow_take_packets(&ctx->t, f, &packets);
	pm_table_forget(&ctx->t, f);
	spin_unlock_bh(&ctx->t.lock);
	free_packets(&packets);
	pm_flow_free(f);
}

static void finish_list(struct pending_ctx *ctx, struct list_head *flows)
{
	struct pm_flow *f, *tmp;

	list_for_each_entry_safe(f, tmp, flows, age_node) {
		list_del_init(&f->age_node);
		finish(ctx, f);
	}
}

static void pending_exit(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	LIST_HEAD(all);

	spin_lock_bh(&ctx->t.lock);
	pm_table_take_all(&ctx->t, &all);
	spin_unlock_bh(&ctx->t.lock);
	finish_list(ctx, &all);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 0u);
	KUNIT_EXPECT_EQ(test, ctx->t.packets, 0u);
	KUNIT_EXPECT_EQ(test, ctx->t.bytes, 0u);
	pm_table_destroy(&ctx->t);
	KUNIT_EXPECT_EQ(test, pm_pending_live_flows(), 0);
	KUNIT_EXPECT_EQ(test, pm_pending_live_packets(), 0);
	pm_pending_exit();
}

/* Flow keys that differ only in a port, as two connections' would. */
static struct pm_flow_key key_of(unsigned int port)
{
	struct pm_flow_key k;

	memset(&k, 0, sizeof(k));
	k.src.ip = htonl(0x0a000001);
	k.dst.ip = htonl(0x0a000002);
	k.sport = htons(port);
	k.dport = htons(443);
	k.l3num = NFPROTO_IPV4;
	k.protonum = IPPROTO_TCP;
	return k;
}

static struct pm_flow *new_flow_of(struct kunit *test, struct pm_table *t,
				   unsigned int port, u8 dir, u32 uid)
{
	struct pm_flow *f = pm_flow_alloc(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->key = key_of(port);
	f->dir = dir;
	f->uid = uid;
	return f;
}

/*
 * Outside the shares tests, flows alternate directions and each has a
 * uid of its own: only the bound under test is reached.
 */
static struct pm_flow *new_flow(struct kunit *test, struct pending_ctx *ctx,
				unsigned int port)
{
	return new_flow_of(test, &ctx->t, port, port & 1, 100000 + port);
}

static struct pm_flow *find_port(struct pending_ctx *ctx, unsigned int port)
{
	struct pm_flow_key k = key_of(port);

	return pm_table_find_key(&ctx->t, &k);
}

static struct pm_packet *new_packet(struct kunit *test, unsigned int size,
				    struct net_device *out)
{
	struct pm_packet *p = pm_packet_alloc(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->skb = alloc_skb(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->skb);
	p->state.out = out;
	return p;
}

/* Add @f with a first packet; on failure both are freed. */
static int add_lim(struct kunit *test, struct pending_ctx *ctx,
		   struct pm_flow *f, unsigned long now,
		   const struct pm_limits *l, u32 gen)
{
	struct pm_packet *p = new_packet(test, 100, NULL);
	int err;

	spin_lock_bh(&ctx->t.lock);
	err = pm_table_add(&ctx->t, f, p, l, now, gen);
	spin_unlock_bh(&ctx->t.lock);
	if (err) {
		kfree_skb(p->skb);
		pm_packet_free(p);
		pm_flow_free(f);
	}
	return err;
}

static int add(struct kunit *test, struct pending_ctx *ctx, struct pm_flow *f,
	       unsigned long now)
{
	return add_lim(test, ctx, f, now, &limits, GEN);
}

static int hold(struct pending_ctx *ctx, struct pm_flow *f, struct pm_packet *p)
{
	int err;

	spin_lock_bh(&ctx->t.lock);
	err = pm_flow_hold(&ctx->t, f, p, &limits);
	spin_unlock_bh(&ctx->t.lock);
	if (err) {
		kfree_skb(p->skb);
		pm_packet_free(p);
	}
	return err;
}

static void pending_find(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, ctx, 0x1000);
	struct pm_flow *b = new_flow(test, ctx, 0x2000);
	struct pm_flow_key k = key_of(0x1000);

	KUNIT_ASSERT_EQ(test, add(test, ctx, a, 1000), 0);
	KUNIT_ASSERT_EQ(test, add(test, ctx, b, 1000), 0);
	KUNIT_EXPECT_GT(test, b->id, a->id);	/* ids grow with age */

	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x1000), a);
	KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x2000), b);
	KUNIT_EXPECT_NULL(test, find_port(ctx, 0x3000));
	KUNIT_EXPECT_PTR_EQ(test, pm_table_find_id(&ctx->t, a->id), a);
	k.zone = 7;	/* the zone is part of the key */
	KUNIT_EXPECT_NULL(test, pm_table_find_key(&ctx->t, &k));
	KUNIT_EXPECT_PTR_EQ(test, pm_table_find_id(&ctx->t, b->id), b);
	KUNIT_EXPECT_NULL(test, pm_table_find_id(&ctx->t, b->id + 1));

	/* taken for its verdict: no id any more, but later packets find it */
	pm_table_take(&ctx->t, a);
	KUNIT_EXPECT_NULL(test, pm_table_find_id(&ctx->t, a->id));
	KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x1000), a);
	KUNIT_EXPECT_EQ(test, ctx->t.waiting, 1u);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 2u);
	spin_unlock_bh(&ctx->t.lock);

	finish(ctx, a);
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_NULL(test, find_port(ctx, 0x1000));
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 1u);
	spin_unlock_bh(&ctx->t.lock);
}

/* A flood of one direction, or one uid, leaves room for the others. */
static void pending_shares(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_table *t = &ctx->t;
	const u32 flooder = 1000;
	int i;

	/* 8 flows: inbound may take 4, one uid 2 of them */
	for (i = 0; i < 2; i++)
		KUNIT_ASSERT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x100 + i,
								 PM_DIR_IN, flooder), 0), 0);
	KUNIT_EXPECT_EQ(test, pm_table_room(t, &limits, PM_DIR_IN, flooder),
			PM_ROOM_QUOTA_FULL);
	KUNIT_EXPECT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x102,
							 PM_DIR_IN, flooder), 0), -EDQUOT);
	/* other uids still get in, up to the direction's share */
	for (i = 0; i < 2; i++)
		KUNIT_ASSERT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x200 + i,
								 PM_DIR_IN, 2000 + i), 0), 0);
	KUNIT_EXPECT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x300,
							 PM_DIR_IN, 3000), 0), -EDQUOT);
	/* outbound flows were never crowded out, not even the flooder's */
	KUNIT_ASSERT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x400,
							 PM_DIR_OUT, flooder), 0), 0);
	for (i = 1; i < 4; i++)
		KUNIT_ASSERT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x400 + i,
								 PM_DIR_OUT, 4000 + i), 0), 0);
	KUNIT_EXPECT_EQ(test, t->flows, 8u);
	/* and the table as a whole is full */
	KUNIT_EXPECT_EQ(test, add(test, ctx, new_flow_of(test, t, 0x500,
							 PM_DIR_OUT, 5000), 0), -ENOSPC);
	KUNIT_EXPECT_EQ(test, pm_table_room(t, &limits, PM_DIR_OUT, 5000),
			PM_ROOM_TABLE_FULL);
}

/*
 * Uids are counted exactly while there are slots; past that, one more
 * shares a slot (by hash) rather than escape its bound.
 */
static void pending_many_uids(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_limits big = limits;
	u64 seen = 0;
	struct pm_flow *f;
	int i, slot;

	big.max_flows = 1024;
	for (i = 0; i < PM_UID_SLOTS; i++)
		KUNIT_ASSERT_EQ(test, add_lim(test, ctx, new_flow_of(test, &ctx->t, 0x1000 + i,
								     PM_DIR_OUT, 7000 + i),
					      0, &big, GEN), 0);
	/* each uid in a slot of its own */
	for (i = 0; i < PM_UID_SLOTS; i++) {
		u32 uid = ctx->t.uids[PM_DIR_OUT][i].uid;

		KUNIT_EXPECT_EQ(test, ctx->t.uids[PM_DIR_OUT][i].flows, 1u);
		KUNIT_ASSERT_TRUE(test, uid >= 7000 && uid < 7000 + PM_UID_SLOTS);
		seen |= BIT_ULL(uid - 7000);
	}
	KUNIT_EXPECT_EQ(test, seen, ~0ULL);
	f = new_flow_of(test, &ctx->t, 0x2000, PM_DIR_OUT, 9999);
	KUNIT_ASSERT_EQ(test, add_lim(test, ctx, f, 0, &big, GEN), 0);
	slot = f->uid_slot;
	KUNIT_EXPECT_EQ(test, ctx->t.uids[PM_DIR_OUT][slot].flows, 2u);
	finish(ctx, f);
	KUNIT_EXPECT_EQ(test, ctx->t.uids[PM_DIR_OUT][slot].flows, 1u);
}

/* A table of one flow still takes a flow of each direction, one at a time. */
static void pending_tiny_shares(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_limits one = limits;

	one.max_flows = 1;
	KUNIT_EXPECT_EQ(test, pm_table_room(&ctx->t, &one, PM_DIR_IN, 0), PM_ROOM_OK);
	KUNIT_EXPECT_EQ(test, pm_table_room(&ctx->t, &one, PM_DIR_OUT, 0), PM_ROOM_OK);
	KUNIT_ASSERT_EQ(test, add_lim(test, ctx, new_flow(test, ctx, 1), 0, &one, GEN), 0);
	KUNIT_EXPECT_EQ(test, add_lim(test, ctx, new_flow(test, ctx, 2), 0, &one, GEN),
			-ENOSPC);
}

static void pending_packet_bounds(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *f = new_flow(test, ctx, 0x1000);
	struct pm_limits small = limits;
	struct pm_packet *p;

	KUNIT_ASSERT_EQ(test, add(test, ctx, f, 0), 0);	/* holds one */
	KUNIT_ASSERT_EQ(test, hold(ctx, f, new_packet(test, 100, NULL)), 0);
	KUNIT_EXPECT_EQ(test, hold(ctx, f, new_packet(test, 100, NULL)), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, f->held, limits.max_held);
	KUNIT_EXPECT_EQ(test, ctx->t.packets, limits.max_held);

	/* and the bytes of the whole table */
	p = new_packet(test, 100, NULL);
	small.max_held = 100;
	small.max_bytes = ctx->t.bytes + p->skb->truesize - 1;
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_flow_hold(&ctx->t, f, p, &small), -ENOBUFS);
	small.max_bytes++;
	KUNIT_EXPECT_EQ(test, pm_flow_hold(&ctx->t, f, p, &small), 0);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, f->held, limits.max_held + 1);
	KUNIT_EXPECT_EQ(test, ctx->t.bytes, f->held_bytes);

	finish(ctx, f);
	KUNIT_EXPECT_EQ(test, ctx->t.packets, 0u);
	KUNIT_EXPECT_EQ(test, ctx->t.bytes, 0u);
}

/*
 * A flow whose verdict is being carried out takes later packets, but
 * only as many again as a waiting one: a flood cannot keep it going.
 */
static void pending_late_joins(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *f = new_flow(test, ctx, 0x1000);
	LIST_HEAD(packets);
	int i;

	KUNIT_ASSERT_EQ(test, add(test, ctx, f, 0), 0);
	spin_lock_bh(&ctx->t.lock);
	pm_table_take(&ctx->t, f);
	KUNIT_EXPECT_EQ(test, pm_flow_take_packets(&ctx->t, f, &packets), 1u);
	spin_unlock_bh(&ctx->t.lock);
	free_packets(&packets);

	for (i = 0; i < limits.max_held; i++)
		KUNIT_EXPECT_EQ(test, hold(ctx, f, new_packet(test, 64, NULL)), 0);
	KUNIT_EXPECT_EQ(test, hold(ctx, f, new_packet(test, 64, NULL)), -ENOBUFS);
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_flow_take_packets(&ctx->t, f, &packets),
			(unsigned int)limits.max_held);
	spin_unlock_bh(&ctx->t.lock);
	free_packets(&packets);
	/* emptied, it still takes no more */
	KUNIT_EXPECT_EQ(test, hold(ctx, f, new_packet(test, 64, NULL)), -ENOBUFS);
	finish(ctx, f);
}

static void pending_expiry(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, ctx, 0x1000);
	struct pm_flow *b = new_flow(test, ctx, 0x2000);
	struct pm_flow *c = new_flow(test, ctx, 0x3000);
	struct pm_limits shorter = limits;
	unsigned long next;
	LIST_HEAD(due);
	unsigned int n;

	shorter.timeout = 20;
	KUNIT_ASSERT_EQ(test, add(test, ctx, a, 1000), 0);	/* due at 1100 */
	KUNIT_ASSERT_EQ(test, add(test, ctx, b, 1050), 0);	/* due at 1150 */
	/* the timeout was shortened: due at 1080, before the others */
	KUNIT_ASSERT_EQ(test, add_lim(test, ctx, c, 1060, &shorter, GEN), 0);

	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 1079, &due, &next);
	KUNIT_EXPECT_EQ(test, n, 0u);
	KUNIT_EXPECT_EQ(test, next, 1080ul);
	n = pm_table_take_expired(&ctx->t, 1080, &due, &next);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&due, struct pm_flow, age_node), c);
	KUNIT_EXPECT_EQ(test, next, 1100ul);

	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 1100, &due, &next);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_EQ(test, next, 1150ul);
	/* b is due at 1150, not a tick before */
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, 1149, &due, &next), 0u);
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, 5000, &due, &next), 1u);
	KUNIT_EXPECT_EQ(test, next, 0ul);
	KUNIT_EXPECT_EQ(test, ctx->t.waiting, 0u);
	spin_unlock_bh(&ctx->t.lock);
	finish_list(ctx, &due);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 0u);
}

static void pending_wrap(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, ctx, 0x1000);
	unsigned long next;
	LIST_HEAD(due);

	KUNIT_ASSERT_EQ(test, add(test, ctx, a, ULONG_MAX - 10), 0);
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, ULONG_MAX, &due, &next), 0u);
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, 200, &due, &next), 1u);
	spin_unlock_bh(&ctx->t.lock);
	finish_list(ctx, &due);
}

/* A listener is hung when a flow waited out its time with it quiet. */
static void pending_unanswered(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, ctx, 0x1000);
	struct pm_flow *b = new_flow(test, ctx, 0x2000);
	unsigned long next;
	LIST_HEAD(due);

	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 0));
	KUNIT_ASSERT_EQ(test, add(test, ctx, a, 1000), 0);
	KUNIT_ASSERT_EQ(test, add(test, ctx, b, 1050), 0);
	spin_lock_bh(&ctx->t.lock);
	pm_table_take_expired(&ctx->t, 2000, &due, &next);
	spin_unlock_bh(&ctx->t.lock);

	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, 999));
	/* heard after a's announcement, before b's: b waited unanswered */
	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, 1020));
	/* heard in the same tick as b's announcement, or later: alive */
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 1050));
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 1999));
	/* a flow whose event never reached the listener says nothing of it */
	b->event_lost = true;
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 1020));
	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, 999));
	/* across the jiffies wrap */
	a->created = 5;
	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, ULONG_MAX - 5));
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 6));
	finish_list(ctx, &due);
}

/* Flows of a listener that left, or of the wrong one, are not added. */
static void pending_closed_and_dev(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct net_device *dev1 = (struct net_device *)0x1111;
	struct net_device *dev2 = (struct net_device *)0x2222;
	struct pm_flow *a = new_flow(test, ctx, 0x1000);
	struct pm_flow *b = new_flow(test, ctx, 0x2000);
	LIST_HEAD(gone);

	KUNIT_ASSERT_EQ(test, add(test, ctx, a, 0), 0);
	KUNIT_ASSERT_EQ(test, add(test, ctx, b, 0), 0);
	KUNIT_ASSERT_EQ(test, hold(ctx, a, new_packet(test, 64, dev1)), 0);
	KUNIT_ASSERT_EQ(test, hold(ctx, b, new_packet(test, 64, dev2)), 0);

	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_table_take_dev(&ctx->t, dev2, &gone), 1u);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&gone, struct pm_flow, age_node), b);
	KUNIT_EXPECT_EQ(test, ctx->t.waiting, 1u);

	KUNIT_EXPECT_EQ(test, add_lim(test, ctx, new_flow(test, ctx, 0x4000), 0,
				      &limits, GEN + 1), -ESHUTDOWN);
	spin_lock_bh(&ctx->t.lock);
	pm_table_close(&ctx->t);
	KUNIT_EXPECT_EQ(test, pm_table_take_all(&ctx->t, &gone), 1u);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, add(test, ctx, new_flow(test, ctx, 0x3000), 0),
			-ESHUTDOWN);
	finish_list(ctx, &gone);
}

/* A dump visits each waiting flow once, whatever comes and goes. */
static void pending_dump_cursor(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_order cursor, other;
	struct pm_flow *f[4], *seen;
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = new_flow(test, ctx, 0x100 + i);
		KUNIT_ASSERT_EQ(test, add(test, ctx, f[i], 0), 0);
	}
	spin_lock_bh(&ctx->t.lock);
	pm_table_cursor_start(&ctx->t, &cursor);
	pm_table_cursor_start(&ctx->t, &other);	/* another dump, ignored */
	seen = pm_table_cursor_peek(&ctx->t, &cursor);
	KUNIT_EXPECT_PTR_EQ(test, seen, f[0]);
	/* peeking does not move: a message that did not fit is sent again */
	KUNIT_EXPECT_PTR_EQ(test, pm_table_cursor_peek(&ctx->t, &cursor), f[0]);
	pm_table_cursor_pass(&ctx->t, &cursor, seen);
	spin_unlock_bh(&ctx->t.lock);

	/* between two parts of the dump: f[1] decided, a new flow added */
	finish(ctx, f[1]);
	KUNIT_ASSERT_EQ(test, add(test, ctx, new_flow(test, ctx, 0x200), 0), 0);

	spin_lock_bh(&ctx->t.lock);
	seen = pm_table_cursor_peek(&ctx->t, &cursor);
	KUNIT_EXPECT_PTR_EQ(test, seen, f[2]);
	pm_table_cursor_pass(&ctx->t, &cursor, seen);
	seen = pm_table_cursor_peek(&ctx->t, &cursor);
	KUNIT_EXPECT_PTR_EQ(test, seen, f[3]);
	pm_table_cursor_pass(&ctx->t, &cursor, seen);
	seen = pm_table_cursor_peek(&ctx->t, &cursor);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_EXPECT_EQ(test, ntohs(seen->key.sport), 0x200);
	pm_table_cursor_pass(&ctx->t, &cursor, seen);
	KUNIT_EXPECT_NULL(test, pm_table_cursor_peek(&ctx->t, &cursor));
	/* the other dump still starts at the beginning */
	KUNIT_EXPECT_PTR_EQ(test, pm_table_cursor_peek(&ctx->t, &other), f[0]);
	pm_table_cursor_end(&ctx->t, &cursor);
	pm_table_cursor_end(&ctx->t, &other);
	spin_unlock_bh(&ctx->t.lock);
}

/* Resizing to a new bound keeps every flow findable by key and id. */
static void pending_resize(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *f[6];
	int i;

	for (i = 0; i < 6; i++) {
		f[i] = new_flow(test, ctx, 0x100 + i);
		KUNIT_ASSERT_EQ(test, add(test, ctx, f[i], 0), 0);
	}
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 6u);
	KUNIT_ASSERT_EQ(test, pm_table_resize(&ctx->t, 4096), 0);
	KUNIT_EXPECT_EQ(test, ctx->t.bits, 12u);
	spin_lock_bh(&ctx->t.lock);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x100 + i), f[i]);
		KUNIT_EXPECT_PTR_EQ(test, pm_table_find_id(&ctx->t, f[i]->id), f[i]);
	}
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_ASSERT_EQ(test, pm_table_resize(&ctx->t, 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->t.bits, (unsigned int)PM_TABLE_MIN_BITS);
	spin_lock_bh(&ctx->t.lock);
	for (i = 0; i < 6; i++)
		KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x100 + i), f[i]);
	spin_unlock_bh(&ctx->t.lock);
}

/* Two tables hash with different seeds: collisions cannot be planned. */
static void pending_seeded(struct kunit *test)
{
	struct pm_table *a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	struct pm_table *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	bool differ = false;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, pm_table_init(a, 1024), 0);
	KUNIT_ASSERT_EQ(test, pm_table_init(b, 1024), 0);
	for (i = 0; i < 16 && !differ; i++) {
		struct pm_flow_key k = key_of(i);

		differ = pm_key_hash(a, &k) != pm_key_hash(b, &k);
	}
	KUNIT_EXPECT_TRUE(test, differ);
	pm_table_destroy(a);
	pm_table_destroy(b);
}

static struct kunit_case pending_test_cases[] = {
	KUNIT_CASE(pending_find),
	KUNIT_CASE(pending_shares),
	KUNIT_CASE(pending_many_uids),
	KUNIT_CASE(pending_tiny_shares),
	KUNIT_CASE(pending_packet_bounds),
	KUNIT_CASE(pending_late_joins),
	KUNIT_CASE(pending_expiry),
	KUNIT_CASE(pending_wrap),
	KUNIT_CASE(pending_unanswered),
	KUNIT_CASE(pending_closed_and_dev),
	KUNIT_CASE(pending_dump_cursor),
	KUNIT_CASE(pending_resize),
	KUNIT_CASE(pending_seeded),
	{}
};

static struct kunit_suite pending_test_suite = {
	.name = "portmaster_pending",
	.init = pending_init,
	.exit = pending_exit,
	.test_cases = pending_test_cases,
};

kunit_test_suite(pending_test_suite);
