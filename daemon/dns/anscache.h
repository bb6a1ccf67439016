/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Answers ready to send, in front of libunbound: a repeated question is
 * answered from here without the round trip to libunbound's thread.  The
 * key is the question exactly as asked (name with its case, type, and the
 * EDNS, DO, CD and RD bits that shape the reply); the value the encoded
 * reply, with the addresses and CNAME chain it names, so that a hit still
 * names connections for the program that asked.  An entry lives for the
 * smallest TTL in it, at most ANSCACHE_MAX_S seconds (the TTLs it carries
 * are not counted down: clients may keep it that much longer), and the
 * table holds at most ANSCACHE_MAX entries.  Rules are applied to each
 * hit as to any answer, so a rule change never waits for an entry.
 */
#ifndef PM_DNS_ANSCACHE_H
#define PM_DNS_ANSCACHE_H

#include <stddef.h>
#include <stdint.h>

#define ANSCACHE_MAX 8192
#define ANSCACHE_MAX_S 30
#define ANSCACHE_ADDRS 16

struct ans_addr {
	uint8_t family;
	uint8_t addr[16];
	uint32_t ttl;
};

struct ans {
	uint8_t *wire;		/* id 0 */
	size_t len;
	char *cnames;		/* "" when none */
	int naddrs;
	struct ans_addr addrs[ANSCACHE_ADDRS];
};

struct anscache;

struct anscache *anscache_new(void);
void anscache_free(struct anscache *c);
/* Takes copies; ttl 0 is not kept. */
void anscache_put(struct anscache *c, const char *key, const struct ans *a, uint32_t ttl,
		  uint64_t now_ms);
const struct ans *anscache_get(struct anscache *c, const char *key, uint64_t now_ms);
size_t anscache_count(const struct anscache *c);
void anscache_clear(struct anscache *c);

#endif
