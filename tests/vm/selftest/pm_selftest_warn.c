// SPDX-License-Identifier: GPL-2.0
/* Triggers one kernel WARN on load, for the qemu harness's self-test. */
#include <linux/bug.h>
#include <linux/module.h>

static int __init pm_selftest_warn_init(void)
{
	WARN(1, "portmaster harness self-test: this warning is deliberate\n");
	return 0;
}

static void __exit pm_selftest_warn_exit(void)
{
}

module_init(pm_selftest_warn_init);
module_exit(pm_selftest_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("qemu harness self-test: warns on load");
