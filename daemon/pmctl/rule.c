// SPDX-License-Identifier: GPL-2.0
/* pmctl rule add|list|del|move */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pmctl.h"
#include "common/util.h"

/* new columns go last (scripts read -t by position); "?": shown in the
 * table only where some rule has it */
const char *const rule_cols[] = { "id", "action", "scope", "expires_in", "exe", "uid",
				  "dst", "port", "proto", "dir", "domain", "hits", "?cmdline",
				  "?parent", "?unit", "?cgroup", "?gid", "?local", "?remote",
				  "?icmp-type", "?note", "?file", NULL };

static int rule_add(struct pmctl *p, int argc, char **argv)
{
	/* each is a key of the rules file: the daemon's one parser reads it */
	static const char *const valued[] = { "--exe", "--cmdline", "--parent", "--unit",
					      "--cgroup", "--uid", "--user", "--gid", "--group",
					      "--local", "--remote", "--dst", "--port", "--proto",
					      "--icmp-type", "--dir", "--domain", "--note" };
	const char *scope = NULL, *dur = NULL, *before = NULL;
	bool first = false;
	struct buf b;

	if (argc < 3)
		return usage_error(p, "usage: pmctl rule add ACTION [--exe GLOB] [--cmdline GLOB] "
				   "[--parent GLOB] [--unit NAME] [--cgroup GLOB] [--user NAME|UID] "
				   "[--group NAME|GID] [--local ADDR[/LEN]|SCOPE] "
				   "[--remote ADDR[/LEN]|localhost|lan|internet|multicast|resolver] "
				   "[--dst ADDR[/LEN]] [--port LIST] [--proto tcp|udp|icmp|icmpv6|N] "
				   "[--icmp-type TYPE] [--dir out|in] [--domain PATTERN] [--note TEXT] "
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

/* pmctl rule export [FILE]: the rules in effect, as a rules file; a FILE
 * is replaced whole or not at all. */
static int rule_export(struct pmctl *p, int argc, char **argv)
{
	struct reply r;
	struct buf text;
	char err[512];
	int rc;

	if (argc > 3)
		return usage_error(p, "usage: pmctl rule export [FILE]");
	rc = pmctl_request_ok(p, "rule-export", &r);
	if (rc != EXIT_OK)
		return rc;
	buf_init(&text);
	for (int i = 0; i < r.nrec; i++) {
		const char *l = rec_get(&r.rec[i], "line");

		buf_addf(&text, "%s\n", l ? l : "");
	}
	reply_free(&r);
	if (text.oom) {
		buf_free(&text);
		fprintf(p->err, "pmctl: out of memory\n");
		return EXIT_ERR;
	}
	if (argc == 3 && strcmp(argv[2], "-")) {
		rc = write_file_atomic(argv[2], text.p ? text.p : "", text.len, err, sizeof(err));
		if (rc < 0)
			fprintf(p->err, "pmctl: %s\n", err);
		rc = rc < 0 ? EXIT_ERR : EXIT_OK;
	} else {
		fwrite(text.p ? text.p : "", 1, text.len, p->out);
		rc = EXIT_OK;
	}
	buf_free(&text);
	return rc;
}

/* pmctl rule import FILE: sent in pieces of whole lines; the daemon reads
 * each, and applies the whole only with the last. */
static int rule_import(struct pmctl *p, int argc, char **argv)
{
	enum { PIECE = 1500 };
	char token[32] = "", num[16];
	FILE *f;
	struct buf all;
	char chunk[8192];
	size_t n, off = 0;
	unsigned int line = 1;
	int rc = EXIT_OK;

	if (argc != 3)
		return usage_error(p, "usage: pmctl rule import FILE");
	f = fopen(argv[2], "re");
	if (!f) {
		fprintf(p->err, "pmctl: %s: %s\n", argv[2], strerror(errno));
		return EXIT_ERR;
	}
	buf_init(&all);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && all.len <= (16u << 20))
		buf_add(&all, chunk, n);
	fclose(f);
	if (all.oom || all.len > (16u << 20)) {
		fprintf(p->err, "pmctl: %s: %s\n", argv[2], all.oom ? "out of memory" : "larger than 16 MiB");
		buf_free(&all);
		return EXIT_ERR;
	}
	if (all.len && memchr(all.p, 0, all.len)) {
		fprintf(p->err, "pmctl: %s: a NUL byte: not a rules file\n", argv[2]);
		buf_free(&all);
		return EXIT_ERR;
	}
	do {
		size_t end = off, lines = 0;
		struct buf b;
		struct reply r;
		char *piece;

		/* whole lines, about PIECE bytes; one longer line alone */
		while (end < all.len) {
			const char *nl = memchr(all.p + end, '\n', all.len - end);
			size_t next = nl ? (size_t)(nl - all.p) + 1 : all.len;

			if (lines && next - off > PIECE)
				break;
			end = next;
			lines++;
		}
		piece = strndup(all.len ? all.p + off : "", end - off);
		if (!piece) {
			rc = EXIT_ERR;
			break;
		}
		buf_init(&b);
		buf_addf(&b, "rule-import");
		req_arg(&b, "name", argv[2]);
		snprintf(num, sizeof(num), "%u", line);
		req_arg(&b, "line", num);
		req_arg(&b, "text", piece);
		if (token[0])
			req_arg(&b, "token", token);
		if (end >= all.len)
			req_arg(&b, "last", "yes");
		free(piece);
		rc = b.oom ? EXIT_ERR : pmctl_request_args(p, b.p, &b, &r);
		buf_free(&b);
		if (rc != EXIT_OK)
			break;
		if (r.is_error) {
			rc = pmctl_report_error(p, &r);
			reply_free(&r);
			break;
		}
		if (end >= all.len) {
			print_records(p, &r, (const char *const[]){ "added", "skipped", NULL }, false);
			reply_free(&r);
			break;
		}
		snprintf(token, sizeof(token), "%s",
			 r.nrec && rec_get(&r.rec[0], "token") ? rec_get(&r.rec[0], "token") : "");
		reply_free(&r);
		line += (unsigned int)lines;
		off = end;
	} while (off < all.len);
	buf_free(&all);
	return rc;
}

int cmd_rule(struct pmctl *p, int argc, char **argv)
{
	struct buf b;

	if (argc < 2)
		return usage_error(p, "usage: pmctl rule add|list|del|move|export|import ...");
	if (!strcmp(argv[1], "export"))
		return rule_export(p, argc, argv);
	if (!strcmp(argv[1], "import"))
		return rule_import(p, argc, argv);
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
	return usage_error(p, "rule: unknown subcommand '%s' (add, list, del, move, export, import)",
			   argv[1]);
}
