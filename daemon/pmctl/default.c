// SPDX-License-Identifier: GPL-2.0
/* pmctl default allow|block|drop|ask */
#include <string.h>
#include "pmctl.h"

int cmd_default(struct pmctl *p, int argc, char **argv)
{
	static const char *const ok[] = { "allow", "block", "drop", "ask" };
	struct buf b;
	struct reply r;
	bool valid = false;
	int rc;

	if (argc != 2)
		return usage_error(p, "usage: pmctl default allow|block|drop|ask");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		valid |= !strcmp(argv[1], ok[i]);
	if (!valid)
		return usage_error(p, "default: '%s' is not allow, block, drop or ask", argv[1]);
	buf_init(&b);
	req_arg(&b, "action", argv[1]);
	rc = b.oom ? EXIT_ERR : pmctl_request_args(p, "default", &b, &r);
	buf_free(&b);
	if (rc != EXIT_OK)
		return rc;
	if (r.is_error) {
		rc = pmctl_report_error(p, &r);
	} else {
		/* done, with a word of warning when the machine may need it */
		for (int i = 0; i < r.nrec; i++)
			if (rec_get(&r.rec[i], "warning"))
				fprintf(p->err, "pmctl: warning: %s\n", rec_get(&r.rec[i], "warning"));
		print_empty_ok(p);
	}
	reply_free(&r);
	return rc;
}
