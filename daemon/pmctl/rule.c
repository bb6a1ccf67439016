// SPDX-License-Identifier: GPL-2.0
/* pmctl rule add|list|del|move */
#include <string.h>
#include "pmctl.h"
#include "common/util.h"

const char *const rule_cols[] = { "id", "action", "scope", "expires_in", "exe", "uid",
				  "dst", "port", "proto", "dir", "domain", "hits", NULL };

static int rule_add(struct pmctl *p, int argc, char **argv)
{
	static const char *const valued[] = { "--exe", "--uid", "--dst", "--port", "--proto",
					      "--dir", "--domain" };
	const char *scope = NULL, *dur = NULL, *before = NULL;
	bool first = false;
	struct buf b;

	if (argc < 3)
		return usage_error(p, "usage: pmctl rule add ACTION [--exe PATH] [--uid UID] "
				   "[--dst ADDR[/LEN]] [--port PORT] [--proto tcp|udp|icmp] "
				   "[--dir out|in] [--domain PATTERN] "
				   "[--once|--for DURATION|--until-restart|--always] [--first|--before ID]");
	if (strcmp(argv[2], "allow") && strcmp(argv[2], "block") && strcmp(argv[2], "drop") &&
	    strcmp(argv[2], "ask") && strcmp(argv[2], "tunnel"))
		return usage_error(p, "rule add: '%s' is not allow, block, drop, ask or tunnel", argv[2]);
	buf_init(&b);
	buf_addf(&b, "rule-add");
	req_arg(&b, "action", argv[2]);
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		bool known = false;

		if (!strcmp(a, "--once") || !strcmp(a, "--until-restart") || !strcmp(a, "--always") ||
		    !strcmp(a, "--for")) {
			if (scope) {
				buf_free(&b);
				return usage_error(p, "rule add: give only one of --once, --for, "
						   "--until-restart, --always");
			}
			scope = a + 2;
			if (!strcmp(a, "--for")) {
				uint64_t s;

				if (i + 1 >= argc || parse_duration(argv[i + 1], &s) < 0) {
					buf_free(&b);
					return usage_error(p, "rule add: --for needs a DURATION "
							   "(e.g. 90, 30s, 15m, 2h, 1d)");
				}
				dur = argv[++i];
			}
			continue;
		}
		if (!strcmp(a, "--first") || !strcmp(a, "--before")) {
			uint32_t id;

			if (first || before) {
				buf_free(&b);
				return usage_error(p, "rule add: give only one of --first, --before");
			}
			if (!strcmp(a, "--first")) {
				first = true;
				continue;
			}
			if (i + 1 >= argc || parse_u32(argv[i + 1], UINT32_MAX, &id) < 0) {
				buf_free(&b);
				return usage_error(p, "rule add: --before needs a rule id");
			}
			before = argv[++i];
			continue;
		}
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
			if (strcmp(a, valued[k]))
				continue;
			if (i + 1 >= argc || !argv[i + 1][0]) {
				buf_free(&b);
				return usage_error(p, "rule add: %s needs a value", a);
			}
			/* Already among the request's arguments? */
			if (b.rec && json_object_object_get_ex(b.rec, a + 2, NULL)) {
				buf_free(&b);
				return usage_error(p, "rule add: %s given twice", a);
			}
			req_arg(&b, a + 2, argv[++i]);
			known = true;
			break;
		}
		if (!known) {
			buf_free(&b);
			return usage_error(p, "rule add: unknown argument '%s'", a);
		}
	}
	req_arg(&b, "scope", scope ? scope : "always");
	if (dur)
		req_arg(&b, "for", dur);
	if (first)
		req_arg(&b, "first", "yes");
	if (before)
		req_arg(&b, "before", before);
	return pmctl_call_buf(p, &b, rule_cols, p->fmt != OUT_JSON);
}

/* pmctl rule move ID --first|--last|--before ID */
static int rule_move(struct pmctl *p, int argc, char **argv)
{
	uint32_t id;
	struct buf b;

	if (argc < 4 || argc > 5)
		return usage_error(p, "usage: pmctl rule move ID --first|--last|--before ID");
	if (parse_u32(argv[2], UINT32_MAX, &id) < 0)
		return usage_error(p, "rule move: '%s' is not a rule id (see 'pmctl rule list')",
				   argv[2]);
	buf_init(&b);
	buf_addf(&b, "rule-move");
	req_arg(&b, "id", argv[2]);
	if (argc == 4 && !strcmp(argv[3], "--first")) {
		req_arg(&b, "first", "yes");
	} else if (argc == 4 && !strcmp(argv[3], "--last")) {
		req_arg(&b, "last", "yes");
	} else if (argc == 5 && !strcmp(argv[3], "--before") &&
		   parse_u32(argv[4], UINT32_MAX, &id) == 0) {
		req_arg(&b, "before", argv[4]);
	} else {
		buf_free(&b);
		return usage_error(p, "usage: pmctl rule move ID --first|--last|--before ID");
	}
	return pmctl_call_buf(p, &b, NULL, false);
}

int cmd_rule(struct pmctl *p, int argc, char **argv)
{
	struct buf b;

	if (argc < 2)
		return usage_error(p, "usage: pmctl rule add|list|del|move ...");
	if (!strcmp(argv[1], "add"))
		return rule_add(p, argc, argv);
	if (!strcmp(argv[1], "list")) {
		if (argc != 2)
			return usage_error(p, "rule list takes no arguments");
		return pmctl_call(p, "rule-list", rule_cols, true);
	}
	if (!strcmp(argv[1], "del")) {
		uint32_t id;

		if (argc != 3)
			return usage_error(p, "usage: pmctl rule del ID");
		if (parse_u32(argv[2], UINT32_MAX, &id) < 0)
			return usage_error(p, "rule del: '%s' is not a rule id (see 'pmctl rule list')",
					   argv[2]);
		buf_init(&b);
		buf_addf(&b, "rule-del");
		req_arg(&b, "id", argv[2]);
		return pmctl_call_buf(p, &b, NULL, false);
	}
	if (!strcmp(argv[1], "move"))
		return rule_move(p, argc, argv);
	return usage_error(p, "rule: unknown subcommand '%s' (add, list, del, move)", argv[1]);
}
