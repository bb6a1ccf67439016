// SPDX-License-Identifier: GPL-2.0
/* Ready answers (see anscache.h): a hash table with FIFO eviction. */
#include <stdlib.h>
#include <string.h>
#include "dns/anscache.h"

#define BUCKETS (ANSCACHE_MAX * 2)

struct ac_entry {
	char *key;
	struct ans a;
	uint64_t expires_ms;
	struct ac_entry *hnext;
	struct ac_entry *older, *newer;
};

struct anscache {
	struct ac_entry *buckets[BUCKETS];
	struct ac_entry *oldest, *newest;
	size_t n;
};

static size_t slot(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 0x100000001b3ull;
	return (size_t)((h ^ (h >> 32)) % BUCKETS);
}

struct anscache *anscache_new(void)
{
	return calloc(1, sizeof(struct anscache));
}

static void drop(struct anscache *c, struct ac_entry *e)
{
	struct ac_entry **pp = &c->buckets[slot(e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->n--;
	free(e->key);
	free(e->a.wire);
	free(e->a.cnames);
	free(e);
}

void anscache_clear(struct anscache *c)
{
	while (c && c->oldest)
		drop(c, c->oldest);
}

void anscache_free(struct anscache *c)
{
	anscache_clear(c);
	free(c);
}

static struct ac_entry *find(struct anscache *c, const char *key)
{
	for (struct ac_entry *e = c->buckets[slot(key)]; e; e = e->hnext)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

void anscache_put(struct anscache *c, const char *key, const struct ans *a, uint32_t ttl,
		  uint64_t now)
{
	struct ac_entry *e;
	size_t h;

	if (!ttl || !a->len)
		return;
	if (ttl > ANSCACHE_MAX_S)
		ttl = ANSCACHE_MAX_S;
	e = find(c, key);
	if (e)
		drop(c, e);
	if (c->n >= ANSCACHE_MAX)
		drop(c, c->oldest);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->key = strdup(key);
	e->a = *a;
	e->a.wire = malloc(a->len);
	e->a.cnames = strdup(a->cnames ? a->cnames : "");
	if (!e->key || !e->a.wire || !e->a.cnames) {
		free(e->key);
		free(e->a.wire);
		free(e->a.cnames);
		free(e);
		return;
	}
	memcpy(e->a.wire, a->wire, a->len);
	e->expires_ms = now + (uint64_t)ttl * 1000;
	h = slot(key);
	e->hnext = c->buckets[h];
	c->buckets[h] = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
	c->n++;
}

const struct ans *anscache_get(struct anscache *c, const char *key, uint64_t now)
{
	struct ac_entry *e = find(c, key);

	if (!e)
		return NULL;
	if (e->expires_ms <= now) {
		drop(c, e);
		return NULL;
	}
	return &e->a;
}

size_t anscache_count(const struct anscache *c)
{
	return c->n;
}
