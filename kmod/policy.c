// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink attribute policies.  The family validates strictly: an
 * attribute a command does not list, or one of the wrong type or out of
 * range, is refused with EINVAL and an extended ack.
 */
#include <linux/in.h>
#include <linux/in6.h>

#include "mark.h"
#include "policy.h"

const struct nla_policy pm_nla_none[PM_A_MAX + 1] = {
};

/* Not const: 6.1's policy takes a plain pointer. */
static struct netlink_range_validation pm_remember_range = {
	.min = 1,
	.max = PM_REMEMBER_MS_MAX,
};

const struct nla_policy pm_nla_verdict[PM_A_MAX + 1] = {
	[PM_A_FLOW_ID] = { .type = NLA_U64 },
	[PM_A_MARK] = { .type = NLA_U32 },
	[PM_A_REMEMBER_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &pm_remember_range),
};

/* Not const: 6.1's policy takes a plain pointer. */
static struct netlink_range_validation pm_timeout_range = {
	.min = PM_TIMEOUT_MS_MIN,
	.max = PM_TIMEOUT_MS_MAX,
};

static struct netlink_range_validation pm_pending_range = {
	.min = 1,
	.max = PM_MAX_PENDING_MAX,
};

static struct netlink_range_validation pm_held_range = {
	.min = 1,
	.max = PM_MAX_HELD_MAX,
};

const struct nla_policy pm_nla_reroute[PM_REROUTE_A_MAX + 1] = {
	[PM_REROUTE_A_ADDR4] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[PM_REROUTE_A_ADDR6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PM_REROUTE_A_PORT] = { .type = NLA_U16 },
};

const struct nla_policy pm_nla_config[PM_CONFIG_A_MAX + 1] = {
	[PM_CONFIG_A_FAIL_POLICY] = NLA_POLICY_MAX(NLA_U8, PM_FAIL_CLOSED),
	[PM_CONFIG_A_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &pm_timeout_range),
	[PM_CONFIG_A_MAX_PENDING] = NLA_POLICY_FULL_RANGE(NLA_U32, &pm_pending_range),
	[PM_CONFIG_A_MAX_HELD] = NLA_POLICY_FULL_RANGE(NLA_U32, &pm_held_range),
	[PM_CONFIG_A_REROUTE_DNS] = NLA_POLICY_NESTED(pm_nla_reroute),
	[PM_CONFIG_A_REROUTE_TUNNEL] = NLA_POLICY_NESTED(pm_nla_reroute),
};

const struct nla_policy pm_nla_set_config[PM_A_MAX + 1] = {
	[PM_A_CONFIG] = NLA_POLICY_NESTED(pm_nla_config),
};

/* A verdict must be one of the 17xx marks: the set is not a range. */
int pm_policy_check_mark(u32 mark, struct netlink_ext_ack *extack)
{
	if (pm_verdict_index(mark) < 0) {
		NL_SET_ERR_MSG(extack, "mark is not a Portmaster verdict");
		return -EINVAL;
	}
	return 0;
}
