// SPDX-License-Identifier: GPL-2.0
/* KUnit: what the netlink policies accept and refuse. */
#include <kunit/test.h>
#include <net/netlink.h>

#include "../../kmod/policy.c"

/* A buffer of netlink attributes built by hand, as a client would send. */
struct attrs {
	u8 buf[256] __aligned(4);
	int len;
};

static void put(struct attrs *a, u16 type, const void *data, int len)
{
	struct nlattr *nla = (struct nlattr *)(a->buf + a->len);

	nla->nla_type = type;
	nla->nla_len = nla_attr_size(len);
	memcpy(nla_data(nla), data, len);
	memset((u8 *)nla_data(nla) + len, 0, nla_padlen(len));
	a->len += nla_total_size(len);
}

static void put_u32(struct attrs *a, u16 type, u32 v)
{
	put(a, type, &v, sizeof(v));
}

static void put_u64(struct attrs *a, u16 type, u64 v)
{
	put(a, type, &v, sizeof(v));
}

static int parse(struct attrs *a, const struct nla_policy *policy,
		 struct nlattr **tb)
{
	return nla_parse(tb, PM_A_MAX, (struct nlattr *)a->buf, a->len, policy,
			 NULL);
}

static void policy_verdict(struct kunit *test)
{
	struct nlattr *tb[PM_A_MAX + 1];
	struct attrs a = {};

	put_u64(&a, PM_A_FLOW_ID, 7);
	put_u32(&a, PM_A_MARK, PM_MARK_ACCEPT_ALWAYS);
	KUNIT_ASSERT_EQ(test, parse(&a, pm_nla_verdict, tb), 0);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[PM_A_FLOW_ID]), 7ull);
	KUNIT_EXPECT_EQ(test, pm_policy_check_mark(nla_get_u32(tb[PM_A_MARK]), NULL), 0);

	/* a flow id that is too short for a u64 */
	memset(&a, 0, sizeof(a));
	put_u32(&a, PM_A_FLOW_ID, 7);
	KUNIT_EXPECT_LT(test, parse(&a, pm_nla_verdict, tb), 0);

	/* an attribute the command does not take: strict validation */
	memset(&a, 0, sizeof(a));
	put_u64(&a, PM_A_FLOW_ID, 7);
	put_u32(&a, PM_A_CT_ID, 1);
	KUNIT_EXPECT_EQ(test, parse(&a, pm_nla_verdict, tb), -EINVAL);

	/* an attribute type beyond the family's */
	memset(&a, 0, sizeof(a));
	put_u32(&a, PM_A_MAX + 1, 1);
	KUNIT_EXPECT_LT(test, parse(&a, pm_nla_verdict, tb), 0);

	/* how long a verdict may be remembered */
	memset(&a, 0, sizeof(a));
	put_u64(&a, PM_A_FLOW_ID, 7);
	put_u32(&a, PM_A_MARK, PM_MARK_ACCEPT_ALWAYS);
	put_u32(&a, PM_A_REMEMBER_MS, 60000);
	KUNIT_EXPECT_EQ(test, parse(&a, pm_nla_verdict, tb), 0);
	memset(&a, 0, sizeof(a));
	put_u32(&a, PM_A_REMEMBER_MS, 0);
	KUNIT_EXPECT_LT(test, parse(&a, pm_nla_verdict, tb), 0);
	memset(&a, 0, sizeof(a));
	put_u32(&a, PM_A_REMEMBER_MS, PM_REMEMBER_MS_MAX + 1);
	KUNIT_EXPECT_LT(test, parse(&a, pm_nla_verdict, tb), 0);

	/* a length that runs past the buffer */
	memset(&a, 0, sizeof(a));
	put_u64(&a, PM_A_FLOW_ID, 7);
	((struct nlattr *)a.buf)->nla_len = 200;
	KUNIT_EXPECT_LT(test, parse(&a, pm_nla_verdict, tb), 0);
}

static void policy_marks(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pm_policy_check_mark(PM_MARK_REROUTE_DNS, NULL), 0);
	KUNIT_EXPECT_EQ(test, pm_policy_check_mark(PM_MARK_UNDECIDED, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, pm_policy_check_mark(1705, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, pm_policy_check_mark(~0u, NULL), -EINVAL);
}

static void policy_none(struct kunit *test)
{
	struct nlattr *tb[PM_A_MAX + 1];
	struct attrs a = {};

	KUNIT_EXPECT_EQ(test, parse(&a, pm_nla_none, tb), 0);
	put_u32(&a, PM_A_MARK, PM_MARK_ACCEPT);
	KUNIT_EXPECT_EQ(test, parse(&a, pm_nla_none, tb), -EINVAL);
}

static int parse_config(struct kunit *test, u16 type, u32 v, int len)
{
	struct nlattr *tb[PM_A_MAX + 1];
	struct attrs inner = {}, a = {};

	put(&inner, type, &v, len);
	put(&a, PM_A_CONFIG | NLA_F_NESTED, inner.buf, inner.len);
	return parse(&a, pm_nla_set_config, tb);
}

static void policy_config_ranges(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, parse_config(test, PM_CONFIG_A_FAIL_POLICY, PM_FAIL_CLOSED, 1), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_FAIL_POLICY, 2, 1), 0);
	KUNIT_EXPECT_EQ(test, parse_config(test, PM_CONFIG_A_TIMEOUT_MS, PM_TIMEOUT_MS_MIN, 4), 0);
	KUNIT_EXPECT_EQ(test, parse_config(test, PM_CONFIG_A_TIMEOUT_MS, PM_TIMEOUT_MS_MAX, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_TIMEOUT_MS, PM_TIMEOUT_MS_MIN - 1, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_TIMEOUT_MS, PM_TIMEOUT_MS_MAX + 1, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX_PENDING, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, parse_config(test, PM_CONFIG_A_MAX_PENDING, PM_MAX_PENDING_MAX, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX_PENDING, PM_MAX_PENDING_MAX + 1, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX_HELD, 0, 4), 0);
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX_HELD, PM_MAX_HELD_MAX + 1, 4), 0);
	/* a u32 setting sent as one byte */
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX_HELD, 5, 1), 0);
	/* an unknown setting inside the nest */
	KUNIT_EXPECT_LT(test, parse_config(test, PM_CONFIG_A_MAX + 1, 5, 4), 0);
}

static struct kunit_case policy_test_cases[] = {
	KUNIT_CASE(policy_verdict),
	KUNIT_CASE(policy_marks),
	KUNIT_CASE(policy_none),
	KUNIT_CASE(policy_config_ranges),
	{}
};

static struct kunit_suite policy_test_suite = {
	.name = "portmaster_policy",
	.test_cases = policy_test_cases,
};

kunit_test_suite(policy_test_suite);
