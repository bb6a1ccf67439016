// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the rules file parser.  Whatever it accepts must format back
 * into text that parses to the same rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "decide/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs;
	uint32_t id = 1;
	char err[512];

	if (ruleset_load_mem(&rs, "fuzz", (const char *)data, size, &id, err, sizeof(err)) < 0)
		return 0;
	for (size_t i = 0; i < rs.n; i++) {
		char *s = rule_format(rs.v[i]), *t;
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
	ruleset_clear(&rs);
	return 0;
}
