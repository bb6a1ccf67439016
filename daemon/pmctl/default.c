// SPDX-License-Identifier: GPL-2.0
/* pmctl default allow|block|drop|ask */
#include <string.h>
#include "pmctl.h"

int cmd_default(struct pmctl *p, int argc, char **argv)
{
	static const char *const ok[] = { "allow", "block", "drop", "ask" };
	struct buf b;
	bool valid = false;

	if (argc != 2)
		return usage_error(p, "usage: pmctl default allow|block|drop|ask");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		valid |= !strcmp(argv[1], ok[i]);
	if (!valid)
		return usage_error(p, "default: '%s' is not allow, block, drop or ask", argv[1]);
	buf_init(&b);
	buf_addf(&b, "default");
	req_arg(&b, "action", argv[1]);
	return pmctl_call_buf(p, &b, NULL, false);
}
