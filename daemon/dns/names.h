/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Domain names as the rules see them, and Portmaster's domain patterns:
 *   example.com     exactly this name
 *   .example.com    the name and every name below it
 *   *.example.com   only the names below it
 *   *xample.com     names ending so
 *   example.*       names starting so
 *   *xampl*         names containing it
 * Case does not matter, and a trailing dot is optional (on names too).
 */
#ifndef PM_DNS_NAMES_H
#define PM_DNS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 254	/* presentation form without the root dot, plus NUL */

/*
 * Copies a name in its canonical form (lowercase, no trailing dot) into
 * out; -1 when it is not a hostname-like name (empty, too long, an empty
 * label, a label over 63 bytes, bytes outside [a-z0-9_-.]).
 */
int dns_name_canon(const char *in, char *out, size_t outlen);

/* Validates a pattern and writes its canonical form (as above, with the
 * leading/trailing '*' or leading '.' kept); -1 with a reason in err. */
int dns_pattern_canon(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* Does a canonical name match a canonical pattern? */
bool dns_pattern_match(const char *pattern, const char *name);

#endif
