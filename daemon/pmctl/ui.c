// SPDX-License-Identifier: GPL-2.0
/*
 * pmctl ui: opens the web UI with a one-time login URL from the daemon
 * (as Jupyter does), or prints it (--no-open).  The URL works once and
 * for two minutes; the browser that opens it gets the session.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pmctl.h"

int cmd_ui(struct pmctl *p, int argc, char **argv)
{
	bool open_it = true;
	const char *url;
	char why[128] = "";
	struct reply r;
	pid_t pid;
	int rc, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-open"))
			open_it = false;
		else
			return usage_error(p, "usage: pmctl ui [--no-open]");
	}
	rc = pmctl_request_ok(p, "ui-login", &r);
	if (rc != EXIT_OK)
		return rc;
	url = r.nrec ? rec_get(&r.rec[0], "url") : NULL;
	if (!url) {
		fprintf(p->err, "pmctl: the daemon gave no URL\n");
		reply_free(&r);
		return EXIT_ERR;
	}
	if (p->fmt == OUT_JSON) {
		json_record(p->out, &r.rec[0]);
		fputc('\n', p->out);
		open_it = false;
	} else if (!open_it) {
		fprintf(p->out, "%s\n", url);
	}
	if (open_it) {
		fflush(p->out);
		pid = fork();
		if (pid == 0) {
			execlp("xdg-open", "xdg-open", url, (char *)NULL);
			_exit(127);
		}
		/* status is not set when fork or waitpid failed: errno says why */
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			snprintf(why, sizeof(why), ": %s", strerror(errno));
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(why, sizeof(why), " is not installed");
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			snprintf(why, sizeof(why), " failed");
		if (why[0]) {
			fprintf(p->err, "pmctl: could not open a browser (xdg-open%s); open this URL "
				"yourself, once, within two minutes:\n", why);
			fprintf(p->out, "%s\n", url);
			rc = EXIT_ERR;
		} else {
			fprintf(p->out, "opened the web UI in your browser\n");
		}
	}
	reply_free(&r);
	return rc;
}
