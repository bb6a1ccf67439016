/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_UTIL_H
#define PM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds on CLOCK_MONOTONIC: immune to wall clock changes. */
uint64_t now_ms(void);
uint64_t now_us(void);

/*
 * A hash table's bucket for n bytes at p, 8 bytes at a time, from a seed
 * drawn at start (hash_seed()): a peer choosing ports cannot aim many
 * entries at one chain, and an entry costs a few multiplications rather
 * than one per byte.  Not a cryptographic hash.
 */
uint64_t hash_seed(void);

static inline uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v * 0x9e3779b97f4a7c15ull;
	h = (h << 31 | h >> 33) * 0xbf58476d1ce4e5b9ull;
	return h;
}

static inline uint32_t hash_words(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v;

	for (; n >= sizeof(v); n -= sizeof(v), b += sizeof(v)) {
		memcpy(&v, b, sizeof(v));
		h = hash_mix(h, v);
	}
	if (n) {
		v = 0;
		memcpy(&v, b, n);
		h = hash_mix(h, v);
	}
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* Strict number parsing: the whole string, no sign, no overflow. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
int parse_u32(const char *s, uint32_t max, uint32_t *out);

/* "90", "90s", "15m", "2h", "1d" -> seconds (1 ... 10 years). */
int parse_duration(const char *s, uint64_t *secs);

/* ADDR or ADDR/LEN, v4 or v6; the host bits beyond LEN must be zero. */
int parse_prefix(const char *s, uint8_t *family, uint8_t addr[16], uint8_t *plen);
/* ADDR:PORT or [ADDR6]:PORT or ADDR alone (port 0). */
int parse_hostport(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port);

/* Formats an address of the given family; buf of at least 46 bytes. */
const char *addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len);

bool prefix_match(uint8_t family, const uint8_t *addr, const uint8_t *prefix, uint8_t plen);

/* snprintf that reports truncation as an error instead of hiding it. */
int xsnprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replaces path with data: a temporary file, fsync, rename, fsync of the
 * directory; never a file half written. */
int write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
