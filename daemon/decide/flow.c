// SPDX-License-Identifier: GPL-2.0
/* What a flow's owner owns, and the unit its cgroup names. */
#include <stdlib.h>
#include <string.h>
#include "decide/flow.h"

void owner_release(struct owner *o)
{
	free(o->exe);
	free(o->cmdline);
	free(o->cgroup);
	free(o->ancestors);
	o->exe = o->cmdline = o->cgroup = o->ancestors = NULL;
}

static size_t ancestors_len(const char *a)
{
	const char *p = a;

	while (*p)
		p += strlen(p) + 1;
	return (size_t)(p - a) + 1;
}

int owner_copy(struct owner *dst, const struct owner *src)
{
	*dst = *src;
	dst->exe = src->exe ? strdup(src->exe) : NULL;
	dst->cmdline = src->cmdline ? strdup(src->cmdline) : NULL;
	dst->cgroup = src->cgroup ? strdup(src->cgroup) : NULL;
	dst->ancestors = NULL;
	if (src->ancestors) {
		size_t n = ancestors_len(src->ancestors);

		dst->ancestors = malloc(n);
		if (dst->ancestors)
			memcpy(dst->ancestors, src->ancestors, n);
	}
	if ((src->exe && !dst->exe) || (src->cmdline && !dst->cmdline) ||
	    (src->cgroup && !dst->cgroup) || (src->ancestors && !dst->ancestors)) {
		owner_release(dst);
		return -1;
	}
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !memcmp(s + n - k, suffix, k);
}

const char *cgroup_unit(const char *cg, size_t *len)
{
	const char *best = NULL;
	size_t blen = 0;

	/* systemd puts a unit's processes in its cgroup or below it (a
	 * service's own sub-groups); the deepest unit is the most specific:
	 * a user's app.slice/foo.service under user@1000.service. */
	while (*cg) {
		const char *end;
		size_t n;

		while (*cg == '/')
			cg++;
		end = strchr(cg, '/');
		n = end ? (size_t)(end - cg) : strlen(cg);
		if (ends_with(cg, n, ".service") || ends_with(cg, n, ".scope")) {
			best = cg;
			blen = n;
		}
		cg += n;
	}
	*len = blen;
	return best;
}
