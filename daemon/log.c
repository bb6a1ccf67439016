// SPDX-License-Identifier: GPL-2.0
/* Logging to stderr: the daemon runs in the foreground under systemd or a
 * terminal, both of which keep stderr. */
#include <stdio.h>
#include <time.h>
#include "log.h"

int log_verbosity = LOG_INFO_;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	fprintf(stderr, "portmasterd: %s: ", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
