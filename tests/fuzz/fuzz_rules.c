// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the one rules parser, as the rules file and as pmctl's
 * arguments reach it.  Whatever it accepts must format back into text that
 * parses to the same rule, and the index must find what a scan in order
 * finds. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "decide/rules.h"

static void same_as_scan(struct ruleset *rs, const struct flow_info *f)
{
	struct rule *want = NULL;

	for (size_t i = 0; i < rs->n && !want; i++)
		if (rule_match(rs->v[i], f))
			want = rs->v[i];
	if (ruleset_match(rs, f, 0) != want)
		abort();
}

static void flows(struct ruleset *rs)
{
	static const char anc[] = "/usr/bin/bash\0/sbin/init\0";
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = IPPROTO_TCP;
	f.has_ports = true;
	inet_pton(AF_INET, "192.168.1.5", f.key.laddr);
	inet_pton(AF_INET, "8.8.8.8", f.key.raddr);
	f.key.lport = 40000;
	f.key.rport = 443;
	f.owner.exe = (char *)"/usr/bin/curl";
	f.owner.cmdline = (char *)"curl -s https://example.com/";
	f.owner.cgroup = (char *)"/system.slice/demo.service";
	f.owner.ancestors = (char *)anc;
	f.owner.have_uid = true;
	same_as_scan(rs, &f);
	f.dir = 1;
	f.key.proto = IPPROTO_UDP;
	f.key.lport = 53;
	same_as_scan(rs, &f);
	f.key.proto = IPPROTO_ICMP;
	f.has_ports = false;
	f.icmp_type = 8;
	same_as_scan(rs, &f);
}

static void roundtrip(const struct rule *in)
{
	char *s = rule_format(in), *t, err[512];
	struct rule r;
	enum action def;

	if (!s)
		abort();
	if (rule_parse_line(s, &r, &def, err, sizeof(err)) != 0)
		abort();
	t = rule_format(&r);
	if (!t || strcmp(s, t))
		abort();
	free(t);
	rule_release(&r);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs;
	uint32_t id = 1;
	char err[512];

	if (ruleset_load_mem(&rs, "fuzz", (const char *)data, size, &id, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < rs.n; i++)
			roundtrip(rs.v[i]);
		flows(&rs);
		ruleset_clear(&rs);
	}
	/* The command line's way in: "KEY\tVALUE" pairs, one a line, as
	 * pmctl's options become request arguments. */
	if (size < 4096) {
		char buf[4096], *save = NULL, *line;
		struct rule r;

		memcpy(buf, data, size);
		buf[size] = 0;
		memset(&r, 0, sizeof(r));
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');

			if (!tab)
				continue;
			*tab = 0;
			if (rule_set_match(&r, line, tab + 1, err, sizeof(err)) < 0)
				break;
		}
		if (!line && r.ncrit)
			roundtrip(&r);
		rule_release(&r);
	}
	return 0;
}
