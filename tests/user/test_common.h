/* SPDX-License-Identifier: GPL-2.0 */
/* Includes every cmocka suite needs, in the order cmocka wants. */
#ifndef PM_TEST_COMMON_H
#define PM_TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN(name, tests) cmocka_run_group_tests_name(name, tests, NULL, NULL)

#endif
