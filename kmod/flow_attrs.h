/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_FLOW_ATTRS_H
#define _PM_FLOW_ATTRS_H

#include <linux/skbuff.h>

struct pm_flow;

size_t pm_flow_attrs_size(const char *exe);
int pm_flow_attrs_put(struct sk_buff *skb, const struct pm_flow *f,
		      const char *exe, u32 mark, u64 **id_slot);

#endif /* _PM_FLOW_ATTRS_H */
