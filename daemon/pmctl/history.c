// SPDX-License-Identifier: GPL-2.0
/* pmctl history: flows and DNS queries from the daemon's history. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pmctl.h"

static const struct {
	const char *opt, *key;
} opts[] = {
	{ "--exe", "exe" }, { "--domain", "domain" }, { "--since", "since" },
	{ "--verdict", "verdict" }, { "--limit", "limit" },
};

/* For people: local time instead of milliseconds since the epoch. */
static void humanize(struct reply *r, char (*stamps)[20])
{
	for (int i = 0; i < r->nrec; i++) {
		struct record *rec = &r->rec[i];

		for (int k = 0; k < rec->n; k++) {
			time_t t;
			struct tm tm;

			if (strcmp(rec->kv[k].key, "start") || !strcmp(rec->kv[k].val, "-"))
				continue;
			t = (time_t)(strtoull(rec->kv[k].val, NULL, 10) / 1000);
			if (localtime_r(&t, &tm) &&
			    strftime(stamps[i], sizeof(stamps[i]), "%Y-%m-%d %H:%M:%S", &tm))
				rec->kv[k].val = stamps[i];
		}
	}
}

int cmd_history(struct pmctl *p, int argc, char **argv)
{
	static const char *const cols[] = { "start", "kind", "exe", "pid", "dir", "proto", "peer",
					    "port", "domain", "verdict", "bytes_out", "bytes_in",
					    NULL };
	const char *kind = NULL;
	struct reply r;
	struct buf b;
	int rc;

	buf_init(&b);
	buf_addf(&b, "history");
	for (int i = 1; i < argc; i++) {
		size_t o;

		if (!strcmp(argv[i], "--flows") || !strcmp(argv[i], "--dns")) {
			if (kind) {
				buf_free(&b);
				return usage_error(p, "history: --flows and --dns go alone");
			}
			kind = argv[i] + 2;
			continue;
		}
		for (o = 0; o < sizeof(opts) / sizeof(opts[0]); o++)
			if (!strcmp(argv[i], opts[o].opt))
				break;
		if (o == sizeof(opts) / sizeof(opts[0])) {
			buf_free(&b);
			return usage_error(p, "history: unknown argument '%s'", argv[i]);
		}
		if (i + 1 >= argc || !argv[i + 1][0]) {
			buf_free(&b);
			return usage_error(p, "history: %s needs a value", argv[i]);
		}
		req_arg(&b, opts[o].key, argv[++i]);
	}
	if (kind)
		req_arg(&b, "kind", kind);
	if (b.oom) {
		buf_free(&b);
		fprintf(p->err, "pmctl: out of memory\n");
		return EXIT_ERR;
	}
	rc = pmctl_request_args(p, b.p, &b, &r);
	buf_free(&b);
	if (rc != EXIT_OK)
		return rc;
	if (r.is_error) {
		rc = pmctl_report_error(p, &r);
	} else {
		char (*stamps)[20] = calloc((size_t)r.nrec + 1, sizeof(*stamps));

		if (p->fmt == OUT_TABLE && stamps)
			humanize(&r, stamps);
		print_records(p, &r, cols, true);
		free(stamps);
	}
	reply_free(&r);
	return rc;
}
