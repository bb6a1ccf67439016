// SPDX-License-Identifier: GPL-2.0
/* Domain names and Portmaster's domain patterns (see names.h). */
#include <stdio.h>
#include <string.h>
#include "dns/names.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lowercases [in, in+n) into out and checks labels; allow_edge_dot lets a
 * pattern part start or end in the middle of a label sequence. */
static int canon_part(const char *in, size_t n, char *out, bool partial)
{
	size_t label = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			/* an empty label is not a name, except where a pattern
			 * part begins with its dot (".example.com") */
			if (!label && !(partial && i == 0))
				return -1;
			label = 0;
		} else if (name_char(c)) {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = c;
	}
	out[n] = 0;
	return 0;
}

int dns_name_canon(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (n && in[n - 1] == '.')
		n--;
	if (!n || n >= outlen || n > 253)
		return -1;
	return canon_part(in, n, out, false);
}

int dns_pattern_canon(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n = strlen(in), start = 0, end;
	bool lead_star, trail_star;

	if (n && in[n - 1] == '.' && !(n >= 2 && in[n - 2] == '*'))
		n--;
	if (!n || n >= outlen || n > 253) {
		snprintf(err, errlen, "domain pattern '%s' is empty or too long", in);
		return -1;
	}
	lead_star = in[0] == '*';
	trail_star = n > 1 && in[n - 1] == '*';
	if (lead_star)
		start = 1;
	end = trail_star ? n - 1 : n;
	if (start >= end || memchr(in + start, '*', end - start)) {
		snprintf(err, errlen, "domain pattern '%s': '*' only at its start or end, "
			 "around at least one character", in);
		return -1;
	}
	if (lead_star)
		out[0] = '*';
	/* a dot at the end is a root dot, once: "*x.." would be "*x." and
	 * then "*x", never the same pattern twice */
	if (canon_part(in + start, end - start, out + start, true) < 0 ||
	    (!trail_star && in[end - 1] == '.')) {
		snprintf(err, errlen, "domain pattern '%s' is not a name: letters, digits, "
			 "'-', '_' and dots between labels", in);
		return -1;
	}
	if (trail_star) {
		out[end] = '*';
		out[end + 1] = 0;
	}
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suf, size_t m)
{
	return n >= m && !memcmp(s + n - m, suf, m);
}

bool dns_pattern_match(const char *p, const char *name)
{
	size_t pn = strlen(p), n = strlen(name);

	if (!pn || !n)
		return false;
	if (p[0] == '*' && pn > 2 && p[pn - 1] == '*') {
		/* contains */
		char mid[DNS_NAME_MAX];

		if (pn - 2 >= sizeof(mid))
			return false;
		memcpy(mid, p + 1, pn - 2);
		mid[pn - 2] = 0;
		return strstr(name, mid) != NULL;
	}
	if (p[0] == '*')
		return ends_with(name, n, p + 1, pn - 1);
	if (p[pn - 1] == '*')
		return n >= pn - 1 && !memcmp(name, p, pn - 1);
	if (p[0] == '.')
		return (n == pn - 1 && !memcmp(name, p + 1, n)) || ends_with(name, n, p, pn);
	return n == pn && !memcmp(name, p, n);
}
