// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the control protocol as the daemon runs it.  The input is a
 * stream of request lines from an admin peer; every reply must be well
 * formed: {"ok": N} followed by N records, or one {"error": ...} line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/ctlcmd.h"
#include "daemon.h"
#include "decide/engine.h"
#include "control/proto.h"

static int verdict_fn(struct pmd *d, struct pm_ns *ns, uint16_t q, uint64_t id, uint32_t mark)
{
	(void)d; (void)ns; (void)q; (void)id; (void)mark;
	return 0;
}

static int reset_fn(struct pmd *d, struct pm_ns *ns)
{
	(void)d;
	(void)ns;
	return 0;
}

static struct pm_ns self_ns = { .id = 1, .fd = -1, .diag_fd = -1 };

static const struct backend_ops be = {
	.name = "fuzz", .verdict = verdict_fn, .reset = reset_fn,
};

/* A header line and as many record lines as it says, each valid JSON. */
static void check_reply(const struct buf *b)
{
	char *copy, *line, *nl, code[16], msg[512];
	long n;
	int h;

	if (!b->p || b->len == 0 || b->p[b->len - 1] != '\n')
		abort();
	copy = strdup(b->p);
	nl = strchr(copy, '\n');
	*nl = 0;
	h = proto_parse_header(copy, &n, code, sizeof(code), msg, sizeof(msg));
	if (h < 0)
		abort();
	if (h == 1)
		n = 0;
	for (line = nl + 1; n > 0; n--, line = nl + 1) {
		struct proto_kv kv[64];

		nl = strchr(line, '\n');
		if (!nl)
			abort();
		*nl = 0;
		if (proto_parse_record(line, kv, 64) < 0)
			abort();
	}
	if (*line)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pmd d;
	static bool ready;
	struct peer peer = { .pid = 1, .uid = 0, .admin = true };
	char *copy = malloc(size + 1), *line, *save = NULL;

	if (!ready) {
		config_defaults(&d.cfg);
		flowtab_init(&d.ft);
		d.ns[0] = &self_ns;
		d.nns = 1;
		snprintf(d.rules_path, sizeof(d.rules_path), "/nonexistent/rules.conf");
		ready = true;
	}
	d.be = &be;
	d.no_persist = true;
	d.next_rule_id = 1;
	d.def = ACT_ALLOW;
	/* a pending flow for verdicts to find */
	{
		struct flow_info fi;

		memset(&fi, 0, sizeof(fi));
		fi.key.family = 2;
		fi.key.proto = 6;
		fi.key.lport = (uint16_t)(size & 0xffff);
		fi.ct_id = (uint32_t)size;
		fi.owner.have_uid = true;
		fi.owner.exe = strdup("/usr/bin/fuzz");
		d.def = ACT_ASK;
		engine_packet(&d, &self_ns, &fi, true, 0, 1, NULL, 0);
		free(fi.owner.exe);
		d.def = ACT_ALLOW;
	}
	memcpy(copy, data, size);
	copy[size] = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct buf out;

		if (strlen(line) >= PROTO_MAX_LINE)
			continue;	/* the socket layer refuses these first */
		buf_init(&out);
		ctl_handle(&d, &peer, line, &out);
		check_reply(&out);
		buf_free(&out);
	}
	free(copy);
	ruleset_clear(&d.rules);
	engine_release_all(&d);
	flowtab_free(&d.ft);
	flowtab_init(&d.ft);
	return 0;
}
