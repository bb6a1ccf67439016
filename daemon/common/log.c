// SPDX-License-Identifier: GPL-2.0
/* Logging to stderr: the daemon runs in the foreground under systemd or a
 * terminal, both of which keep stderr. */
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include "common/log.h"

int log_verbosity = LOG_INFO_;
static bool to_syslog;

void log_to_syslog(void)
{
	openlog("portmasterd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	if (to_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

		va_start(ap, fmt);
		vsyslog(prio[lvl], fmt, ap);
		va_end(ap);
		return;
	}
	fprintf(stderr, "portmasterd: %s: ", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
