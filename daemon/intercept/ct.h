/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CT_H
#define PM_CT_H

#include <stdint.h>

/*
 * Deletes every conntrack entry of this network namespace whose mark is a
 * Portmaster verdict kept on the connection (1710 ... 1799), so that the
 * next packet of each is queued and decided again.  Returns the number of
 * entries deleted, or a negative errno.
 */
int ct_reset_marked(uint32_t lo, uint32_t hi);

#endif
