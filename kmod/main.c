// SPDX-License-Identifier: GPL-2.0
/*
 * portmaster.ko: intercepts new network flows in the kernel, holds them
 * while a userspace listener (portmasterd) decides, and keeps permanent
 * verdicts in the conntrack mark with Portmaster's 17xx scheme.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>

#include "compat.h"
#include "netlink.h"
#include "netns.h"
#include "params.h"
#include "pending.h"

struct pm_config pm_default_config = {
	.fail_policy = PM_FAIL_OPEN,
	.timeout_ms = 30000,
	.max_pending = 1024,
	.max_held = 32,
};

unsigned int pm_max_held_bytes = 8 << 20;
unsigned int pm_max_remembered = 4096;

static int pm_param_set_policy(const char *val, const struct kernel_param *kp)
{
	u8 *policy = kp->arg;

	if (sysfs_streq(val, "open") || sysfs_streq(val, "0"))
		WRITE_ONCE(*policy, PM_FAIL_OPEN);
	else if (sysfs_streq(val, "closed") || sysfs_streq(val, "1"))
		WRITE_ONCE(*policy, PM_FAIL_CLOSED);
	else
		return -EINVAL;
	return 0;
}

static int pm_param_get_policy(char *buf, const struct kernel_param *kp)
{
	const u8 *policy = kp->arg;

	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(*policy) == PM_FAIL_CLOSED ? "closed" : "open");
}

static const struct kernel_param_ops pm_policy_ops = {
	.set = pm_param_set_policy,
	.get = pm_param_get_policy,
};

static int pm_param_set_range(const char *val, const struct kernel_param *kp,
			      unsigned int min, unsigned int max)
{
	return param_set_uint_minmax(val, kp, min, max);
}

static int pm_param_set_timeout(const char *val, const struct kernel_param *kp)
{
	return pm_param_set_range(val, kp, PM_TIMEOUT_MS_MIN, PM_TIMEOUT_MS_MAX);
}

static int pm_param_set_pending(const char *val, const struct kernel_param *kp)
{
	return pm_param_set_range(val, kp, 1, PM_MAX_PENDING_MAX);
}

static int pm_param_set_held(const char *val, const struct kernel_param *kp)
{
	return pm_param_set_range(val, kp, 1, PM_MAX_HELD_MAX);
}

static int pm_param_set_bytes(const char *val, const struct kernel_param *kp)
{
	return pm_param_set_range(val, kp, 64 << 10, 1 << 30);
}

static int pm_param_set_remembered(const char *val, const struct kernel_param *kp)
{
	return pm_param_set_range(val, kp, 0, 1 << 20);
}

#define PM_UINT_PARAM_OPS(name, setter)				\
	static const struct kernel_param_ops name = {		\
		.set = setter,					\
		.get = param_get_uint,				\
	}

PM_UINT_PARAM_OPS(pm_timeout_ops, pm_param_set_timeout);
PM_UINT_PARAM_OPS(pm_pending_ops, pm_param_set_pending);
PM_UINT_PARAM_OPS(pm_held_ops, pm_param_set_held);
PM_UINT_PARAM_OPS(pm_bytes_ops, pm_param_set_bytes);
PM_UINT_PARAM_OPS(pm_remembered_ops, pm_param_set_remembered);

module_param_cb(fail_policy, &pm_policy_ops, &pm_default_config.fail_policy, 0644);
MODULE_PARM_DESC(fail_policy,
		 "what happens to a flow nobody decides (verdict timeout, a listener that died or hangs): open (accept unmarked, default) or closed (drop); a full table or queue always drops");
module_param_cb(timeout_ms, &pm_timeout_ops, &pm_default_config.timeout_ms, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "how long a new flow waits for its verdict before the fail policy decides, in ms (default 30000, 10-600000)");
module_param_cb(max_pending, &pm_pending_ops, &pm_default_config.max_pending, 0644);
MODULE_PARM_DESC(max_pending,
		 "flows that may wait for a verdict at once, per network namespace (default 1024)");
module_param_cb(max_held, &pm_held_ops, &pm_default_config.max_held, 0644);
MODULE_PARM_DESC(max_held,
		 "packets held per waiting flow; more are dropped (default 32)");
module_param_cb(max_held_bytes, &pm_bytes_ops, &pm_max_held_bytes, 0644);
MODULE_PARM_DESC(max_held_bytes,
		 "memory all held packets of a network namespace may use, in bytes (default 8 MiB)");
module_param_cb(max_remembered, &pm_remembered_ops, &pm_max_remembered, 0644);
MODULE_PARM_DESC(max_remembered,
		 "verdicts a network namespace may remember for new flows like a decided one; the oldest make room (default 4096, 0: none)");

static int __init pm_init(void)
{
	int err;

	err = pm_compat_probe();
	if (err)
		return err;
	err = pm_pending_init();
	if (err)
		return err;
	err = pm_netns_init();
	if (err)
		goto err_pending;
	err = pm_netlink_init();
	if (err)
		goto err_netns;
	pr_info("portmaster %s loaded\n", PM_VERSION);
	return 0;

err_netns:
	pm_netns_exit();
err_pending:
	pm_pending_exit();
	return err;
}

static void __exit pm_exit(void)
{
	/* No hook takes a new flow, nor sends an event, after this. */
	WRITE_ONCE(pm_unloading, true);
	synchronize_rcu();

	pm_netlink_exit();
	/* each namespace: pending flows by policy, hooks off, then freed */
	pm_netns_exit();

	WARN(pm_pending_live_flows() || pm_pending_live_packets(),
	     "portmaster: %d flows and %d packets leaked\n",
	     pm_pending_live_flows(), pm_pending_live_packets());
	pm_pending_exit();
	pr_info("portmaster unloaded\n");
}

module_init(pm_init);
module_exit(pm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Portmaster for Linux developers");
MODULE_DESCRIPTION("Application firewall: intercepts new flows and keeps verdicts as Portmaster's 17xx conntrack marks");
MODULE_VERSION(PM_VERSION);
MODULE_ALIAS_GENL_FAMILY(PORTMASTER_GENL_NAME);
