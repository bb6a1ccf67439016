/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_ERR_ = 0, LOG_WARN_ = 1, LOG_INFO_ = 2, LOG_DEBUG_ = 3 };

extern int log_verbosity;

/* Once detached from the terminal, messages go to syslog (daemon). */
void log_to_syslog(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pm_err(...) log_msg(LOG_ERR_, __VA_ARGS__)
#define pm_warn(...) log_msg(LOG_WARN_, __VA_ARGS__)
#define pm_info(...) log_msg(LOG_INFO_, __VA_ARGS__)
#define pm_debug(...) \
	do { if (log_verbosity >= LOG_DEBUG_) log_msg(LOG_DEBUG_, __VA_ARGS__); } while (0)

#endif
