// SPDX-License-Identifier: GPL-2.0
/* pmctl verdict ID accept|allow|block|drop [--permanent]
 *               [--once|--for DURATION|--until-restart|--always] [--match FIELDS] */
#include <string.h>
#include "pmctl.h"
#include "common/util.h"

int cmd_verdict(struct pmctl *p, int argc, char **argv)
{
	const char *id = NULL, *act = NULL, *scope = NULL, *dur = NULL, *match = NULL;
	struct buf b;
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--permanent")) {
			/* the answer for this connection, kept on it: the default */
		} else if (!strcmp(a, "--once") || !strcmp(a, "--until-restart") ||
			   !strcmp(a, "--always") || !strcmp(a, "--for")) {
			if (scope)
				return usage_error(p, "verdict: give only one of --once, --for, "
						   "--until-restart, --always");
			scope = a + 2;
			if (!strcmp(a, "--for")) {
				uint64_t s;

				if (i + 1 >= argc || parse_duration(argv[i + 1], &s) < 0)
					return usage_error(p, "verdict: --for needs a DURATION "
							   "(e.g. 90, 30s, 15m, 2h, 1d)");
				dur = argv[++i];
			}
		} else if (!strcmp(a, "--match")) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return usage_error(p, "verdict: --match needs FIELDS "
						   "(exe,dst,port,proto,dir,uid)");
			match = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return usage_error(p, "verdict: unknown option '%s'", a);
		} else if (!id) {
			id = a;
		} else if (!act) {
			act = a;
		} else {
			return usage_error(p, "verdict: unexpected argument '%s'", a);
		}
	}
	if (!id || !act)
		return usage_error(p, "usage: pmctl verdict ID accept|allow|block|drop "
				   "[--once|--for DURATION|--until-restart|--always] [--match FIELDS]");
	if (parse_u64(id, UINT64_MAX, &v) < 0)
		return usage_error(p, "verdict: '%s' is not a flow id (see 'pmctl pending')", id);
	if (strcmp(act, "accept") && strcmp(act, "allow") && strcmp(act, "block") &&
	    strcmp(act, "drop"))
		return usage_error(p, "verdict: '%s' is not accept, allow, block or drop", act);
	if (match && !scope)
		return usage_error(p, "verdict: --match goes with a scope (--once, --for, "
				   "--until-restart, --always)");
	buf_init(&b);
	buf_addf(&b, "verdict");
	req_arg(&b, "id", id);
	req_arg(&b, "action", act);
	if (scope)
		req_arg(&b, "scope", scope);
	if (dur)
		req_arg(&b, "for", dur);
	if (match)
		req_arg(&b, "match", match);
	return pmctl_call_buf(p, &b, scope ? rule_cols : NULL, p->fmt != OUT_JSON);
}
