/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Blocklists: a set of domains, each blocking itself and every name below
 * it.  Public ad, tracker and malware lists come as hosts files
 * ("0.0.0.0 ads.example.com") or one domain a line; both are read.
 *
 * A million entries must stay small and fast, so the set keeps no names:
 * only a sorted array of 64-bit keyed hashes (8 bytes an entry) with an
 * index by the top 16 bits, so a lookup is one hash per label suffix and
 * a short binary search.  A hash collision can only block a name that is
 * not listed (odds about n / 2^64 per lookup), never unblock one, and the
 * key is random per process so that nobody can aim for one.
 */
#ifndef PM_DNS_BLOCKLIST_H
#define PM_DNS_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCKLIST_INDEX_BITS 16

struct blocklist {
	uint64_t *h;		/* sorted, unique */
	size_t n, cap;
	uint32_t *index;	/* (1 << BITS) + 1 offsets into h */
	uint64_t seed;
	uint64_t lines_skipped;	/* lines that were neither format */
};

void blocklist_init(struct blocklist *b, uint64_t seed);
void blocklist_free(struct blocklist *b);
/* Adds the domains of one file (or text) to b; finish with blocklist_seal. */
int blocklist_add_file(struct blocklist *b, const char *path, char *err, size_t errlen);
int blocklist_add_text(struct blocklist *b, const char *text, size_t len);
/* Adds one canonical name; -1 out of memory. */
int blocklist_add_name(struct blocklist *b, const char *canon);
/* Sorts, removes duplicates, builds the index and gives back spare memory. */
int blocklist_seal(struct blocklist *b);
/* Is this canonical name or one of its parent domains listed? */
bool blocklist_match(const struct blocklist *b, const char *canon);
/* Bytes the set holds (array and index). */
size_t blocklist_bytes(const struct blocklist *b);

#endif
