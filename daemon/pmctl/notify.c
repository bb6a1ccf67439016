// SPDX-License-Identifier: GPL-2.0
/*
 * pmctl notify: the desktop agent lives in a program of its own
 * (portmaster-notify, beside pmctl), so that the command line does not
 * carry GLib and libnotify for everyone.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "pmctl.h"

int cmd_notify(struct pmctl *p, int argc, char **argv)
{
	char self[PATH_MAX], prog[PATH_MAX + 32];
	char *args[4] = { "portmaster-notify", NULL, NULL, NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)argv;
	if (argc != 1)
		return usage_error(p, "usage: pmctl notify");
	if (n <= 0) {
		fprintf(p->err, "pmctl: cannot find myself: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	self[n] = 0;
	snprintf(prog, sizeof(prog), "%s/portmaster-notify", dirname(self));
	args[1] = "--socket";
	args[2] = (char *)p->socket;
	fflush(p->out);
	execv(prog, args);
	fprintf(p->err, "pmctl: cannot run %s: %s\n", prog, strerror(errno));
	return EXIT_ERR;
}
