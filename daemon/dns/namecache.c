// SPDX-License-Identifier: GPL-2.0
/* Per-program answers, for naming connections (see namecache.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "dns/namecache.h"

struct nc_entry {
	uint64_t scope;
	uint64_t expires_ms;
	uint8_t family;
	uint8_t addr[16];
	char *name;		/* "name\0cnames\0" in one allocation */
	struct nc_entry *hnext;
	struct nc_entry *prev, *next;	/* age order, newest at head */
};

struct namecache {
	struct nc_entry **buckets;
	size_t nbuckets, n, max;
	struct nc_entry *head, *tail;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t namecache_scope(const char *exe)
{
	uint64_t h = 0xcbf29ce484222325ull;

	if (!exe)
		return 0;
	for (; *exe; exe++)
		h = (h ^ (uint8_t)*exe) * 0x100000001b3ull;
	return h ? h : 1;
}

static size_t slot(const struct namecache *c, uint64_t scope, uint8_t family, const uint8_t *a)
{
	uint64_t h = scope ^ family;

	for (int i = 0; i < 16; i += 8) {
		uint64_t w;

		memcpy(&w, a + i, 8);
		h = mix(h ^ w);
	}
	return (size_t)(h & (c->nbuckets - 1));
}

struct namecache *namecache_new(size_t max)
{
	struct namecache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : 1;
	c->nbuckets = 1;
	while (c->nbuckets < c->max)
		c->nbuckets <<= 1;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

static void unlink_entry(struct namecache *c, struct nc_entry *e)
{
	struct nc_entry **pp = &c->buckets[slot(c, e->scope, e->family, e->addr)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->n--;
	free(e->name);
	free(e);
}

void namecache_free(struct namecache *c)
{
	if (!c)
		return;
	while (c->head)
		unlink_entry(c, c->head);
	free(c->buckets);
	free(c);
}

static struct nc_entry *find(struct namecache *c, uint64_t scope, uint8_t family,
			     const uint8_t *a16)
{
	for (struct nc_entry *e = c->buckets[slot(c, scope, family, a16)]; e; e = e->hnext)
		if (e->scope == scope && e->family == family && !memcmp(e->addr, a16, 16))
			return e;
	return NULL;
}

static void widen(uint8_t family, const uint8_t *addr, uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, addr, family == AF_INET ? 4 : 16);
}

int namecache_put(struct namecache *c, uint64_t scope, uint8_t family, const uint8_t *addr,
		  const char *name, const char *cnames, uint32_t ttl, uint64_t now)
{
	uint8_t a[16];
	struct nc_entry *e;
	size_t ln = strlen(name), lc = strlen(cnames);
	char *s;
	size_t h;

	if (ttl < NAMECACHE_MIN_TTL)
		ttl = NAMECACHE_MIN_TTL;
	if (ttl > NAMECACHE_MAX_TTL)
		ttl = NAMECACHE_MAX_TTL;
	widen(family, addr, a);
	e = find(c, scope, family, a);
	/* the same answer again (a busy name): only its lifetime changes */
	s = e && !strcmp(e->name, name) && !strcmp(e->name + ln + 1, cnames) ? e->name : NULL;
	if (!s) {
		s = malloc(ln + lc + 2);
		if (!s)
			return -1;
		memcpy(s, name, ln + 1);
		memcpy(s + ln + 1, cnames, lc + 1);
	}
	if (e) {
		/* the most recent answer names the address from now on */
		if (e->name != s)
			free(e->name);
		e->name = s;
		e->expires_ms = now + (uint64_t)ttl * 1000;
		if (c->head != e) {
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				c->tail = e->prev;
			e->prev = NULL;
			e->next = c->head;
			c->head->prev = e;
			c->head = e;
		}
		return 0;
	}
	if (c->n >= c->max)
		unlink_entry(c, c->tail);
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(s);
		return -1;
	}
	e->scope = scope;
	e->family = family;
	memcpy(e->addr, a, 16);
	e->name = s;
	e->expires_ms = now + (uint64_t)ttl * 1000;
	h = slot(c, scope, family, a);
	e->hnext = c->buckets[h];
	c->buckets[h] = e;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
	c->n++;
	return 0;
}

int namecache_get(struct namecache *c, uint64_t scope, uint8_t family, const uint8_t *addr,
		  uint64_t now, const char **name, const char **cnames)
{
	uint8_t a[16];
	struct nc_entry *e = NULL;

	widen(family, addr, a);
	if (scope)
		e = find(c, scope, family, a);
	if (e && e->expires_ms <= now)
		e = NULL;
	if (!e)
		e = find(c, 0, family, a);
	if (!e || e->expires_ms <= now)
		return -1;
	*name = e->name;
	*cnames = e->name + strlen(e->name) + 1;
	return 0;
}

size_t namecache_count(const struct namecache *c)
{
	return c->n;
}

void namecache_expire(struct namecache *c, uint64_t now)
{
	/* bounded work per call: the oldest entries first */
	struct nc_entry *e = c->tail, *p;

	for (int i = 0; e && i < 256; e = p, i++) {
		p = e->prev;
		if (e->expires_ms <= now)
			unlink_entry(c, e);
	}
}
