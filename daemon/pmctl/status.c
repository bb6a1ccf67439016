// SPDX-License-Identifier: GPL-2.0
/* pmctl status: mode, version, counters. */
#include "pmctl.h"

int cmd_status(struct pmctl *p, int argc, char **argv)
{
	struct reply r;
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_error(p, "status takes no arguments");
	rc = pmctl_request(p, "status", &r);
	if (rc != EXIT_OK)
		return rc;
	if (r.is_error) {
		rc = pmctl_report_error(p, &r);
	} else if (r.nrec != 1) {
		fprintf(p->err, "pmctl: unexpected status reply\n");
		rc = EXIT_ERR;
	} else {
		print_kv(p, &r.rec[0]);
	}
	reply_free(&r);
	return rc;
}
