// SPDX-License-Identifier: GPL-2.0
/* pmctl preset list|enable NAME|disable NAME */
#include <string.h>
#include "pmctl.h"

int cmd_preset(struct pmctl *p, int argc, char **argv)
{
	static const char *const cols[] = { "name", "enabled", NULL };
	struct buf b;

	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "list")))
		return pmctl_call(p, "preset", cols, true);
	if (argc != 3 || (strcmp(argv[1], "enable") && strcmp(argv[1], "disable")))
		return usage_error(p, "usage: pmctl preset [list] | enable NAME | disable NAME");
	buf_init(&b);
	buf_addf(&b, "preset");
	req_arg(&b, "action", argv[1]);
	req_arg(&b, "name", argv[2]);
	return pmctl_call_buf(p, &b, NULL, false);
}
