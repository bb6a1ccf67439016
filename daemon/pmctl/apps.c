// SPDX-License-Identifier: GPL-2.0
/* pmctl apps [show EXE|UNIT]: programs, their connections and rules. */
#include <string.h>
#include "pmctl.h"

int cmd_apps(struct pmctl *p, int argc, char **argv)
{
	static const char *const cols[] = { "app", "allowed", "blocked", "last_seen", "rules",
					    "exe", NULL };
	static const char *const rcols[] = { "rule", "scope", "hits", "line", NULL };
	struct reply r;
	struct buf b;
	int rc;

	if (argc == 1)
		return pmctl_call(p, "apps", cols, true);
	if (argc != 3 || strcmp(argv[1], "show"))
		return usage_error(p, "usage: pmctl apps [show EXE|UNIT]");
	buf_init(&b);
	req_arg(&b, "name", argv[2]);
	rc = b.oom ? EXIT_ERR : pmctl_request_args(p, "apps", &b, &r);
	buf_free(&b);
	if (rc != EXIT_OK)
		return rc;
	if (r.is_error) {
		rc = pmctl_report_error(p, &r);
	} else if (p->fmt == OUT_JSON) {
		print_records(p, &r, cols, true);
	} else {
		/* the program, then its rules as a table */
		struct reply rules = r;

		print_kv(p, &r.rec[0]);
		rules.rec = r.rec + 1;
		rules.nrec = r.nrec - 1;
		if (rules.nrec) {
			fputc('\n', p->out);
			print_records(p, &rules, rcols, true);
		}
	}
	reply_free(&r);
	return rc;
}
