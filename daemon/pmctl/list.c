// SPDX-License-Identifier: GPL-2.0
/* pmctl list (recent connections) and pmctl pending (open prompts). */
#include "pmctl.h"

static int flows(struct pmctl *p, int argc, const char *cmd, const char *const *cols)
{
	if (argc != 1)
		return usage_error(p, "%s takes no arguments", cmd);
	return pmctl_call(p, cmd, cols, true);
}

int cmd_list(struct pmctl *p, int argc, char **argv)
{
	/* new columns go last: scripts read -t by position */
	static const char *const cols[] = { "id", "dir", "proto", "src", "sport", "dst",
					    "dport", "pid", "uid", "exe", "verdict", "packets",
					    "domain", "netns", "?unit", NULL };

	(void)argv;
	return flows(p, argc, "list", cols);
}

int cmd_pending(struct pmctl *p, int argc, char **argv)
{
	static const char *const cols[] = { "id", "dir", "proto", "src", "sport", "dst",
					    "dport", "pid", "uid", "exe", "expires_in", "netns", NULL };

	(void)argv;
	return flows(p, argc, "pending", cols);
}
