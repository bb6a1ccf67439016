// SPDX-License-Identifier: GPL-2.0
/*
 * pmctl: the command line of portmasterd.  One table of commands, one
 * file per command; -j (JSON) and -t (tab-separated) may appear anywhere.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "pmctl.h"

#ifndef PM_VERSION
#define PM_VERSION "unknown"
#endif

static int cmd_help(struct pmctl *p, int argc, char **argv);

static const struct pmctl_cmd commands[] = {
	{ "status", cmd_status, "status" },
	{ "list", cmd_list, "list" },
	{ "pending", cmd_pending, "pending" },
	{ "verdict", cmd_verdict,
	  "verdict ID accept|allow|block|drop\n"
	  "                 [--once|--for DURATION|--until-restart|--always] [--match FIELDS]" },
	{ "rule", cmd_rule,
	  "rule add ACTION [--exe GLOB] [--cmdline GLOB] [--parent GLOB] [--unit NAME]\n"
	  "                 [--cgroup GLOB] [--user NAME|UID] [--group NAME|GID]\n"
	  "                 [--local ADDR[/LEN]|SCOPE] [--remote ADDR[/LEN]|SCOPE] [--dst ADDR[/LEN]]\n"
	  "                 [--port LIST] [--proto tcp|udp|icmp|icmpv6|N] [--icmp-type TYPE]\n"
	  "                 [--dir out|in] [--domain PATTERN] [--note TEXT]\n"
	  "                 [--once|--for DURATION|--until-restart|--always] [--first|--before ID]\n"
	  "       pmctl [-j|-t] rule list\n"
	  "       pmctl rule del ID\n"
	  "       pmctl rule move ID --first|--last|--before ID\n"
	  "       pmctl rule export [FILE]\n"
	  "       pmctl rule import FILE" },
	{ "default", cmd_default, "default allow|block|drop|ask" },
	{ "preset", cmd_preset, "preset [list] | enable NAME | disable NAME" },
	{ "apps", cmd_apps, "apps [show EXE|UNIT]" },
	{ "history", cmd_history,
	  "history [--exe PATH] [--domain DOMAIN] [--since DURATION] [--verdict VERDICT]\n"
	  "                 [--flows|--dns] [--limit N]" },
	{ "monitor", cmd_monitor, "monitor [--events flow,prompt,answer,end,dns,traffic]" },
	{ "ui", cmd_ui, "ui [--no-open]" },
	{ "notify", cmd_notify, "notify" },
	{ "top", cmd_top, "top" },
	{ "help", cmd_help, "help" },
};

static void print_usage(FILE *f)
{
	fprintf(f, "Usage: pmctl [-j|--json] [-t|--tsv] [-s|--socket PATH] COMMAND [ARGS]\n"
		   "       pmctl --version\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  pmctl %s\n", commands[i].usage);
	fprintf(f, "\nACTION is allow, block, drop or ask. See pmctl(8).\n");
}

static int cmd_help(struct pmctl *p, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return usage_error(p, "help takes no arguments");
	print_usage(p->out);
	return EXIT_OK;
}

int usage_error(struct pmctl *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(p->err, "pmctl: ");
	va_start(ap, fmt);
	vfprintf(p->err, fmt, ap);
	va_end(ap);
	fprintf(p->err, "\nTry 'pmctl help'.\n");
	return EXIT_USAGE;
}

int pmctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct pmctl p = { .out = out, .err = err, .fmt = OUT_TABLE };
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int n = 0, r;

	if (!args) {
		fprintf(err, "pmctl: out of memory\n");
		return EXIT_ERR;
	}
	p.socket = getenv("PMCTL_SOCKET");
	if (!p.socket || !*p.socket)
		p.socket = "/run/portmaster/control.sock";
	/* Global options are taken wherever they appear. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			p.fmt = OUT_JSON;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--tsv")) {
			p.fmt = OUT_TSV;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--socket")) {
			if (i + 1 >= argc) {
				free(args);
				return usage_error(&p, "%s needs a path", a);
			}
			p.socket = argv[++i];
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			fprintf(out, "pmctl %s\n", PM_VERSION);
			free(args);
			return EXIT_OK;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(out);
			free(args);
			return EXIT_OK;
		} else {
			args[n++] = argv[i];
		}
	}
	if (n == 0) {
		print_usage(err);
		free(args);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(args[0], commands[i].name)) {
			r = commands[i].fn(&p, n, args);
			fflush(out);
			free(args);
			return r;
		}
	}
	r = usage_error(&p, "unknown command '%s'", args[0]);
	free(args);
	return r;
}
