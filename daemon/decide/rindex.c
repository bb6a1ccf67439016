// SPDX-License-Identifier: GPL-2.0
/* The rules index (see rindex.h). */
#include <stdlib.h>
#include <string.h>
#include "decide/rindex.h"
#include "decide/rules.h"

struct bucket {
	const char *exe;	/* NULL: a port bucket */
	uint16_t port;
	uint32_t n, cap;
	uint32_t *pos;		/* ascending */
};

struct rindex {
	struct bucket *b;
	size_t nb;		/* a power of two */
	uint32_t *rest;		/* ascending */
	size_t nrest;
	bool beyond_key;	/* some rule asks what a remembered verdict's key lacks */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t hash_port(uint16_t p)
{
	return ((uint64_t)p + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL >> 7;
}

static struct bucket *slot(const struct rindex *x, const char *exe, uint16_t port, bool add)
{
	uint64_t h = exe ? hash_str(exe) : hash_port(port);

	for (size_t i = h & (x->nb - 1);; i = (i + 1) & (x->nb - 1)) {
		struct bucket *b = &x->b[i];

		if (!b->pos)
			return add ? b : NULL;
		if (exe ? b->exe && !strcmp(b->exe, exe) : !b->exe && b->port == port)
			return b;
	}
}

static int push(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t pos)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 4;
		uint32_t *p = realloc(*v, c * sizeof(*p));

		if (!p)
			return -1;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = pos;
	return 0;
}

void rindex_free(struct rindex *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nb; i++)
		free(x->b[i].pos);
	free(x->b);
	free(x->rest);
	free(x);
}

struct rindex *rindex_build(const struct ruleset *rs)
{
	struct rindex *x = calloc(1, sizeof(*x));
	uint32_t nrest = 0, caprest = 0;

	if (!x)
		return NULL;
	/* at most half full: short probe chains */
	for (x->nb = 16; x->nb < rs->n * 2; x->nb *= 2)
		;
	x->b = calloc(x->nb, sizeof(*x->b));
	if (!x->b)
		goto fail;
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];
		const struct criterion *e = rule_crit(r, CRIT_EXE), *p = rule_crit(r, CRIT_PORT);
		struct bucket *b = NULL;

		if (e && crit_is_literal(e->v.path)) {
			b = slot(x, e->v.path, 0, true);
			b->exe = e->v.path;
		} else if (p && p->v.ports.n == 1 && p->v.ports.r[0].lo == p->v.ports.r[0].hi) {
			b = slot(x, NULL, p->v.ports.r[0].lo, true);
			b->port = p->v.ports.r[0].lo;
		}
		x->beyond_key |= rule_beyond_remember_key(r);
		if (b ? push(&b->pos, &b->n, &b->cap, (uint32_t)i) < 0 :
			push(&x->rest, &nrest, &caprest, (uint32_t)i) < 0)
			goto fail;
	}
	x->nrest = nrest;
	return x;
fail:
	rindex_free(x);
	return NULL;
}

bool rindex_beyond_key(const struct rindex *x, const struct ruleset *rs)
{
	if (x)
		return x->beyond_key;
	for (size_t i = 0; i < rs->n; i++)
		if (rule_beyond_remember_key(rs->v[i]))
			return true;
	return false;
}

static bool usable(const struct rule *r, uint64_t now, bool new_flow)
{
	if (r->scope == SCOPE_FOR && now >= r->expires_ms)
		return false;
	return r->scope != SCOPE_ONCE || new_flow;
}

/* The first match among positions v[0..n) below best; best otherwise. */
static size_t first_in(const uint32_t *v, size_t n, size_t best, struct ruleset *rs,
		       const struct flow_info *f, uint64_t now, bool new_flow)
{
	for (size_t i = 0; i < n && v[i] < best; i++) {
		const struct rule *r = rs->v[v[i]];

		if (usable(r, now, new_flow) && rule_match(r, f))
			return v[i];
	}
	return best;
}

struct rule *rindex_first(const struct rindex *x, struct ruleset *rs, const struct flow_info *f,
			  uint64_t now, bool new_flow)
{
	size_t best = rs->n;
	const struct bucket *b;

	if (!x) {
		for (size_t i = 0; i < rs->n; i++)
			if (usable(rs->v[i], now, new_flow) && rule_match(rs->v[i], f))
				return rs->v[i];
		return NULL;
	}
	best = first_in(x->rest, x->nrest, best, rs, f, now, new_flow);
	if (f->owner.exe && (b = slot(x, f->owner.exe, 0, false)))
		best = first_in(b->pos, b->n, best, rs, f, now, new_flow);
	if (f->has_ports && !is_icmp(f->key.proto) &&
	    (b = slot(x, NULL, flow_dst_port(f), false)))
		best = first_in(b->pos, b->n, best, rs, f, now, new_flow);
	return best < rs->n ? rs->v[best] : NULL;
}
