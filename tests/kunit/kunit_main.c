// SPDX-License-Identifier: GPL-2.0
/* The KUnit suites of portmaster.ko, in one module that runs them on load. */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for portmaster.ko");
