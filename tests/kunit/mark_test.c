// SPDX-License-Identifier: GPL-2.0
/* KUnit: the 17xx marks as verdicts. */
#include <kunit/test.h>

#include "../../kmod/mark.c"

struct mark_case {
	u32 mark;
	enum pm_action action;
	bool permanent;
	bool mark_packet;
};

static const struct mark_case mark_cases[] = {
	{ 1700, PM_ACTION_ACCEPT, false, false },
	{ 1701, PM_ACTION_REJECT, false, false },
	{ 1702, PM_ACTION_DROP, false, false },
	{ 1710, PM_ACTION_ACCEPT, true, false },
	{ 1711, PM_ACTION_REJECT, true, false },
	{ 1712, PM_ACTION_DROP, true, false },
	{ 1717, PM_ACTION_ACCEPT, true, true },
	{ 1799, PM_ACTION_ACCEPT, true, true },
};

static void mark_verdicts(struct kunit *test)
{
	struct pm_verdict v;
	int i;

	for (i = 0; i < ARRAY_SIZE(mark_cases); i++) {
		const struct mark_case *c = &mark_cases[i];

		KUNIT_ASSERT_TRUE_MSG(test, pm_verdict_from_mark(c->mark, &v),
				      "mark %u", c->mark);
		KUNIT_EXPECT_EQ_MSG(test, v.mark, c->mark, "mark %u", c->mark);
		KUNIT_EXPECT_EQ_MSG(test, v.action, c->action, "mark %u", c->mark);
		KUNIT_EXPECT_EQ_MSG(test, v.permanent, c->permanent, "mark %u", c->mark);
		KUNIT_EXPECT_EQ_MSG(test, v.mark_packet, c->mark_packet, "mark %u", c->mark);
		KUNIT_EXPECT_EQ_MSG(test, pm_mark_is_permanent(c->mark),
				    c->permanent, "mark %u", c->mark);
	}
}

static void mark_not_verdicts(struct kunit *test)
{
	static const u32 bad[] = { 0, 1, 1699, 1703, 1709, 1713, 1716, 1718,
				   1798, 1800, 0x80000, 0xffffffff };
	struct pm_verdict v = { .mark = 42 };
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_FALSE_MSG(test, pm_verdict_from_mark(bad[i], &v),
				       "mark %u", bad[i]);
		KUNIT_EXPECT_FALSE_MSG(test, pm_mark_is_permanent(bad[i]),
				       "mark %u", bad[i]);
		KUNIT_EXPECT_LT_MSG(test, pm_verdict_index(bad[i]), 0,
				    "mark %u", bad[i]);
	}
	KUNIT_EXPECT_EQ(test, v.mark, 42u);	/* untouched on failure */
}

static void mark_index_roundtrip(struct kunit *test)
{
	int i;

	for (i = 0; i < PM_NR_VERDICTS; i++)
		KUNIT_EXPECT_EQ(test, pm_verdict_index(pm_verdict_mark(i)), i);
	KUNIT_EXPECT_EQ(test, pm_verdict_mark(-1), (u32)PM_MARK_UNDECIDED);
	KUNIT_EXPECT_EQ(test, pm_verdict_mark(PM_NR_VERDICTS), (u32)PM_MARK_UNDECIDED);
}

static void mark_fail_policy(struct kunit *test)
{
	struct pm_verdict v;

	pm_verdict_from_policy(PM_FAIL_OPEN, &v);
	KUNIT_EXPECT_EQ(test, v.action, PM_ACTION_ACCEPT);
	KUNIT_EXPECT_FALSE(test, v.permanent);
	KUNIT_EXPECT_FALSE(test, v.mark_packet);
	pm_verdict_from_policy(PM_FAIL_CLOSED, &v);
	KUNIT_EXPECT_EQ(test, v.action, PM_ACTION_DROP);
	KUNIT_EXPECT_FALSE(test, v.permanent);
}

static void mark_uapi_numbers(struct kunit *test)
{
	/* 17 + direction + family + thread, as the seed defines them */
	KUNIT_EXPECT_EQ(test, PM_QUEUE_OUT_V4, 17040);
	KUNIT_EXPECT_EQ(test, PM_QUEUE_OUT_V6, 17060);
	KUNIT_EXPECT_EQ(test, PM_QUEUE_IN_V4, 17140);
	KUNIT_EXPECT_EQ(test, PM_QUEUE_IN_V6, 17160);
}

static struct kunit_case mark_test_cases[] = {
	KUNIT_CASE(mark_verdicts),
	KUNIT_CASE(mark_not_verdicts),
	KUNIT_CASE(mark_index_roundtrip),
	KUNIT_CASE(mark_fail_policy),
	KUNIT_CASE(mark_uapi_numbers),
	{}
};

static struct kunit_suite mark_test_suite = {
	.name = "portmaster_mark",
	.test_cases = mark_test_cases,
};

kunit_test_suite(mark_test_suite);
