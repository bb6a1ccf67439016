/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_KMOD_MSG_H
#define PM_KMOD_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include "decide/flow.h"

struct kmod_flow {
	uint64_t flow_id;
	uint32_t decided;	/* a report: the module decided it (mark), no id */
	struct flow_info fi;	/* owner.exe malloc'd when given */
};

/*
 * Reads a PM_CMD_FLOW_NEW (or a PM_CMD_GET_FLOWS record) into f, checking
 * every attribute against the uapi header's types and lengths.  Returns 0,
 * or -1 with err saying what was wrong.
 */
int kmod_parse_flow(const struct nlmsghdr *nlh, struct kmod_flow *f, char *err, size_t errlen);

#endif
