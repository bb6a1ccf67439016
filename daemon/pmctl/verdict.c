// SPDX-License-Identifier: GPL-2.0
/* pmctl verdict ID accept|block|drop [--permanent] */
#include <string.h>
#include "pmctl.h"
#include "common/util.h"

int cmd_verdict(struct pmctl *p, int argc, char **argv)
{
	const char *id = NULL, *act = NULL;
	bool permanent = false;
	struct buf b;
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--permanent"))
			permanent = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error(p, "verdict: unknown option '%s'", argv[i]);
		else if (!id)
			id = argv[i];
		else if (!act)
			act = argv[i];
		else
			return usage_error(p, "verdict: unexpected argument '%s'", argv[i]);
	}
	if (!id || !act)
		return usage_error(p, "usage: pmctl verdict ID accept|block|drop [--permanent]");
	if (parse_u64(id, UINT64_MAX, &v) < 0)
		return usage_error(p, "verdict: '%s' is not a flow id (see 'pmctl pending')", id);
	if (strcmp(act, "accept") && strcmp(act, "block") && strcmp(act, "drop"))
		return usage_error(p, "verdict: '%s' is not accept, block or drop", act);
	buf_init(&b);
	buf_addf(&b, "verdict");
	req_arg(&b, "id", id);
	req_arg(&b, "action", act);
	req_arg(&b, "permanent", permanent ? "yes" : "no");
	return pmctl_call_buf(p, &b, NULL, false);
}
