// SPDX-License-Identifier: GPL-2.0
/* KUnit: the pending table's bounds, indexes and expiry. */
#include <kunit/test.h>

#include "../../kmod/pending.c"

static const struct pm_limits limits = {
	.max_flows = 3,
	.max_held = 2,
	.max_bytes = 1 << 20,
	.timeout = 100,
};

struct pending_ctx {
	struct pm_table t;
	struct pm_flow *flows[8];
	int nflows;
};

static int pending_init(struct kunit *test)
{
	struct pending_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	pm_table_init(&ctx->t);
	test->priv = ctx;
	return pm_pending_init();
}

/* Free whatever a case left: the flows and the packets held on them. */
static void pending_free_flow(struct pm_flow *f)
{
	struct pm_packet *p, *tmp;

	list_for_each_entry_safe(p, tmp, &f->packets, list) {
		list_del(&p->list);
		kfree_skb(p->skb);
		pm_packet_free(p);
	}
	pm_flow_free(f);
}

static void pending_exit(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	LIST_HEAD(all);
	struct pm_flow *f, *tmp;

	spin_lock_bh(&ctx->t.lock);
	pm_table_take_all(&ctx->t, &all);
	spin_unlock_bh(&ctx->t.lock);
	list_for_each_entry_safe(f, tmp, &all, age_node) {
		list_del(&f->age_node);
		pending_free_flow(f);
	}
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

static struct pm_flow *new_flow(struct kunit *test, unsigned int port)
{
	struct pm_flow *f = pm_flow_alloc(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->key = key_of(port);
	return f;
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

static int add(struct pending_ctx *ctx, struct pm_flow *f, unsigned long now)
{
	int err;

	spin_lock_bh(&ctx->t.lock);
	err = pm_table_add(&ctx->t, f, &limits, now);
	spin_unlock_bh(&ctx->t.lock);
	return err;
}

static int hold(struct pending_ctx *ctx, struct pm_flow *f, struct pm_packet *p)
{
	int err;

	spin_lock_bh(&ctx->t.lock);
	err = pm_flow_hold(&ctx->t, f, p, &limits);
	spin_unlock_bh(&ctx->t.lock);
	return err;
}

static void pending_find(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, 0x1000), *b = new_flow(test, 0x2000);

	KUNIT_ASSERT_EQ(test, add(ctx, a, 1000), 0);
	KUNIT_ASSERT_EQ(test, add(ctx, b, 1000), 0);
	KUNIT_EXPECT_GT(test, b->id, a->id);	/* ids grow with age */

	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x1000), a);
	KUNIT_EXPECT_PTR_EQ(test, find_port(ctx, 0x2000), b);
	KUNIT_EXPECT_NULL(test, find_port(ctx, 0x3000));
	KUNIT_EXPECT_PTR_EQ(test, pm_table_find_id(&ctx->t, a->id), a);
	/* the zone is part of the key */
	{
		struct pm_flow_key k = key_of(0x1000);

		k.zone = 7;
		KUNIT_EXPECT_NULL(test, pm_table_find_key(&ctx->t, &k));
	}
	KUNIT_EXPECT_PTR_EQ(test, pm_table_find_id(&ctx->t, b->id), b);
	KUNIT_EXPECT_NULL(test, pm_table_find_id(&ctx->t, b->id + 1));

	pm_table_del(&ctx->t, a);
	KUNIT_EXPECT_NULL(test, find_port(ctx, 0x1000));
	KUNIT_EXPECT_NULL(test, pm_table_find_id(&ctx->t, a->id));
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 1u);
	spin_unlock_bh(&ctx->t.lock);
	pending_free_flow(a);
}

static void pending_flow_bound(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *extra;
	int i;

	for (i = 0; i < limits.max_flows; i++)
		KUNIT_ASSERT_EQ(test, add(ctx, new_flow(test, 0x100 * (i + 1)), 0), 0);
	extra = new_flow(test, 0x9000);
	KUNIT_EXPECT_EQ(test, add(ctx, extra, 0), -ENOSPC);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, limits.max_flows);
	pending_free_flow(extra);
}

static void pending_packet_bounds(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *f = new_flow(test, 0x1000);
	struct pm_packet *p;
	struct pm_limits small = limits;
	int i;

	KUNIT_ASSERT_EQ(test, add(ctx, f, 0), 0);
	for (i = 0; i < limits.max_held; i++)
		KUNIT_ASSERT_EQ(test, hold(ctx, f, new_packet(test, 100, NULL)), 0);
	p = new_packet(test, 100, NULL);
	KUNIT_EXPECT_EQ(test, hold(ctx, f, p), -ENOBUFS);	/* per flow */
	KUNIT_EXPECT_EQ(test, f->held, limits.max_held);
	KUNIT_EXPECT_EQ(test, ctx->t.packets, limits.max_held);

	/* and the bytes of the whole table */
	small.max_held = 100;
	small.max_bytes = ctx->t.bytes + p->skb->truesize - 1;
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_flow_hold(&ctx->t, f, p, &small), -ENOBUFS);
	small.max_bytes++;
	KUNIT_EXPECT_EQ(test, pm_flow_hold(&ctx->t, f, p, &small), 0);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, f->held, limits.max_held + 1);
	KUNIT_EXPECT_EQ(test, ctx->t.bytes, f->held_bytes);

	spin_lock_bh(&ctx->t.lock);
	pm_table_del(&ctx->t, f);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, ctx->t.packets, 0u);
	KUNIT_EXPECT_EQ(test, ctx->t.bytes, 0u);
	pending_free_flow(f);
}

static void pending_expiry(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, 0x1000);
	struct pm_flow *b = new_flow(test, 0x2000);
	struct pm_flow *c = new_flow(test, 0x3000);
	struct pm_flow *f, *tmp;
	unsigned long next;
	LIST_HEAD(due);
	unsigned int n;

	KUNIT_ASSERT_EQ(test, add(ctx, a, 1000), 0);	/* due at 1100 */
	KUNIT_ASSERT_EQ(test, add(ctx, b, 1050), 0);	/* due at 1150 */
	KUNIT_ASSERT_EQ(test, add(ctx, c, 1060), 0);	/* due at 1160 */
	c->failed = true;				/* due now */

	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 1099, &due, &next);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&due, struct pm_flow, age_node), c);
	KUNIT_EXPECT_EQ(test, next, 1100ul);

	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 1100, &due, &next);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_EQ(test, next, 1150ul);

	/* b is due at 1150, not a tick before */
	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 1149, &due, &next);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, n, 0u);

	spin_lock_bh(&ctx->t.lock);
	n = pm_table_take_expired(&ctx->t, 5000, &due, &next);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, n, 1u);
	KUNIT_EXPECT_EQ(test, next, 0ul);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 0u);

	list_for_each_entry_safe(f, tmp, &due, age_node) {
		list_del(&f->age_node);
		pending_free_flow(f);
	}
}

static void pending_wrap(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, 0x1000);
	unsigned long next;
	LIST_HEAD(due);

	KUNIT_ASSERT_EQ(test, add(ctx, a, ULONG_MAX - 10), 0);
	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, ULONG_MAX, &due, &next), 0u);
	KUNIT_EXPECT_EQ(test, pm_table_take_expired(&ctx->t, 200, &due, &next), 1u);
	spin_unlock_bh(&ctx->t.lock);
	list_del(&a->age_node);
	pending_free_flow(a);
}

/* A listener is hung when a flow waited out its time with it quiet. */
static void pending_unanswered(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct pm_flow *a = new_flow(test, 0x1000);
	struct pm_flow *b = new_flow(test, 0x2000);
	struct pm_flow *f, *tmp;
	unsigned long next;
	LIST_HEAD(due);

	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 0));
	KUNIT_ASSERT_EQ(test, add(ctx, a, 1000), 0);
	KUNIT_ASSERT_EQ(test, add(ctx, b, 1050), 0);
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
	b->failed = true;
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 1020));
	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, 999));
	/* across the jiffies wrap */
	a->created = 5;
	KUNIT_EXPECT_TRUE(test, pm_flows_unanswered_since(&due, ULONG_MAX - 5));
	KUNIT_EXPECT_FALSE(test, pm_flows_unanswered_since(&due, 6));

	list_for_each_entry_safe(f, tmp, &due, age_node) {
		list_del(&f->age_node);
		pending_free_flow(f);
	}
}

static void pending_closed_and_dev(struct kunit *test)
{
	struct pending_ctx *ctx = test->priv;
	struct net_device *dev1 = (struct net_device *)0x1111;
	struct net_device *dev2 = (struct net_device *)0x2222;
	struct pm_flow *a = new_flow(test, 0x1000);
	struct pm_flow *b = new_flow(test, 0x2000);
	struct pm_flow *late, *f, *tmp;
	LIST_HEAD(gone);

	KUNIT_ASSERT_EQ(test, add(ctx, a, 0), 0);
	KUNIT_ASSERT_EQ(test, add(ctx, b, 0), 0);
	KUNIT_ASSERT_EQ(test, hold(ctx, a, new_packet(test, 64, dev1)), 0);
	KUNIT_ASSERT_EQ(test, hold(ctx, b, new_packet(test, 64, dev2)), 0);

	spin_lock_bh(&ctx->t.lock);
	KUNIT_EXPECT_EQ(test, pm_table_take_dev(&ctx->t, dev2, &gone), 1u);
	spin_unlock_bh(&ctx->t.lock);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&gone, struct pm_flow, age_node), b);
	KUNIT_EXPECT_EQ(test, ctx->t.flows, 1u);

	spin_lock_bh(&ctx->t.lock);
	ctx->t.closed = true;
	KUNIT_EXPECT_EQ(test, pm_table_take_all(&ctx->t, &gone), 1u);
	spin_unlock_bh(&ctx->t.lock);
	late = new_flow(test, 0x3000);
	KUNIT_EXPECT_EQ(test, add(ctx, late, 0), -ESHUTDOWN);
	pending_free_flow(late);

	list_for_each_entry_safe(f, tmp, &gone, age_node) {
		list_del(&f->age_node);
		pending_free_flow(f);
	}
}

static struct kunit_case pending_test_cases[] = {
	KUNIT_CASE(pending_find),
	KUNIT_CASE(pending_flow_bound),
	KUNIT_CASE(pending_packet_bounds),
	KUNIT_CASE(pending_expiry),
	KUNIT_CASE(pending_wrap),
	KUNIT_CASE(pending_unanswered),
	KUNIT_CASE(pending_closed_and_dev),
	{}
};

static struct kunit_suite pending_test_suite = {
	.name = "portmaster_pending",
	.init = pending_init,
	.exit = pending_exit,
	.test_cases = pending_test_cases,
};

kunit_test_suite(pending_test_suite);
