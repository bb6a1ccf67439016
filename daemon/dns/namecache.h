/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each program resolved: (program, address) -> the name it asked for
 * and the CNAME chain that led to the address, so that the first packet
 * of a connection to the address carries them.  A program is its
 * executable's path; scope 0 is the global one, for the system's stub
 * resolver and for askers we could not name.  One entry per program and
 * address (the most recent answer wins); entries live for the record's
 * TTL, at least NAMECACHE_MIN_TTL (programs keep answers longer than
 * their TTL, browsers a minute), and the oldest go when the table is full.
 */
#ifndef PM_DNS_NAMECACHE_H
#define PM_DNS_NAMECACHE_H

#include <stddef.h>
#include <stdint.h>

#define NAMECACHE_MIN_TTL 60
#define NAMECACHE_MAX_TTL 86400
#define NAMECACHE_CNAMES_MAX 512	/* bytes of the comma-separated chain */

struct namecache;

struct namecache *namecache_new(size_t max_entries);
void namecache_free(struct namecache *c);
uint64_t namecache_scope(const char *exe);	/* 0 for NULL: the global scope */
/* Records that scope resolved name (via cnames, "" for none) to addr. */
int namecache_put(struct namecache *c, uint64_t scope, uint8_t family, const uint8_t *addr,
		  const char *name, const char *cnames, uint32_t ttl, uint64_t now_ms);
/*
 * The name scope resolved to addr: its own first, then the global scope.
 * Returns 0 and points *name and *cnames at the entry's strings (valid
 * until the next put), or -1.
 */
int namecache_get(struct namecache *c, uint64_t scope, uint8_t family, const uint8_t *addr,
		  uint64_t now_ms, const char **name, const char **cnames);
size_t namecache_count(const struct namecache *c);
void namecache_expire(struct namecache *c, uint64_t now_ms);

#endif
