// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the module's flow announcements and reports (PM_CMD_FLOW_NEW,
 * and the GET_FLOWS records), walked in place by kmod_parse_flow().  The
 * input is the message after its netlink header.  Whatever it accepts
 * must be a flow the engine can take: a known family and direction, an
 * absolute executable path, a comm with its NUL. */
#include <linux/netlink.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intercept/kmod_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmod_flow f;
	struct nlmsghdr *nlh;
	char err[256];

	if (size > 65535 - NLMSG_HDRLEN)
		return 0;
	/* exactly the bytes given: ASan sees a read past the message */
	nlh = malloc(NLMSG_HDRLEN + size);
	if (!nlh)
		return 0;
	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + size);
	memcpy((char *)nlh + NLMSG_HDRLEN, data, size);
	if (kmod_parse_flow(nlh, &f, err, sizeof(err)) == 0) {
		if (f.fi.key.family != AF_INET && f.fi.key.family != AF_INET6)
			abort();
		if (f.fi.dir != PM_DIR_OUT && f.fi.dir != PM_DIR_IN)
			abort();
		if (!f.flow_id && !f.decided)
			abort();
		if (f.fi.owner.exe && f.fi.owner.exe[0] != '/')
			abort();
		if (strnlen(f.fi.owner.comm, sizeof(f.fi.owner.comm)) == sizeof(f.fi.owner.comm))
			abort();
		owner_release(&f.fi.owner);
	} else if (!err[0] || f.fi.owner.exe) {
		abort();	/* a refusal says why and keeps nothing */
	}
	free(nlh);
	return 0;
}
