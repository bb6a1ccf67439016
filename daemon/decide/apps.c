// SPDX-License-Identifier: GPL-2.0
/* Programs as a view (see apps.h). */
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/ctlcmd.h"
#include "daemon.h"
#include "decide/apps.h"
#include "common/util.h"

struct app {
	char *key;		/* the unit, or the executable */
	char *exe;		/* the executable last seen for it */
	char unit[128];		/* "" when not a service */
	uint64_t allowed, blocked;
	uint64_t last_ms;
};

struct apps {
	struct app v[APPS_MAX];
	size_t n;
};

struct apps *apps_new(void)
{
	return calloc(1, sizeof(struct apps));
}

void apps_free(struct apps *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].exe);
	}
	free(a);
}

/* A service's unit; a scope (a login session, a desktop app) is not a
 * program of its own: its programs are told apart by executable. */
static void service_of(const struct flow_info *f, char *unit, size_t len)
{
	size_t n;
	const char *u = f->owner.cgroup ? cgroup_unit(f->owner.cgroup, &n) : NULL;

	unit[0] = 0;
	if (u && n < len && n > 8 && !memcmp(u + n - 8, ".service", 8) &&
	    memcmp(u, "user@", 5))
		snprintf(unit, len, "%.*s", (int)n, u);
}

static struct app *find(struct apps *a, const char *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].key, key))
			return &a->v[i];
	return NULL;
}

void apps_note(struct apps *a, const struct flow_info *f, uint32_t mark)
{
	char unit[128];
	const char *key;
	struct app *p;
	enum action act = mark_action(mark);

	if (!a)
		return;
	service_of(f, unit, sizeof(unit));
	key = unit[0] ? unit : f->owner.exe ? f->owner.exe : "-";
	p = find(a, key);
	if (!p) {
		size_t slot = a->n;

		if (a->n == APPS_MAX) {
			/* the least recently seen makes room */
			slot = 0;
			for (size_t i = 1; i < a->n; i++)
				if (a->v[i].last_ms < a->v[slot].last_ms)
					slot = i;
			free(a->v[slot].key);
			free(a->v[slot].exe);
		} else {
			a->n++;
		}
		p = &a->v[slot];
		memset(p, 0, sizeof(*p));
		p->key = strdup(key);
		if (!p->key) {
			a->v[slot] = a->v[--a->n];
			return;
		}
		snprintf(p->unit, sizeof(p->unit), "%s", unit);
	}
	if (f->owner.exe && (!p->exe || strcmp(p->exe, f->owner.exe))) {
		free(p->exe);
		p->exe = strdup(f->owner.exe);
	}
	if (act == ACT_ALLOW || act == ACT_TUNNEL)
		p->allowed++;
	else
		p->blocked++;
	p->last_ms = now_ms();
}

/* The program as a flow that rules can be tried on: its executable and
 * the cgroup of its unit. */
static void as_flow(const struct app *p, struct flow_info *f, char *cg, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->owner.exe = p->exe;
	snprintf(cg, len, "/%s", p->unit);
	f->owner.cgroup = p->unit[0] ? cg : NULL;
}

/* Does a rule name this program: by executable or by unit? */
static bool names(const struct rule *r, const struct flow_info *f)
{
	const struct criterion *e = rule_crit(r, CRIT_EXE), *u = rule_crit(r, CRIT_UNIT);

	return (e && crit_match(e, f)) || (u && crit_match(u, f));
}

static void rules_of(struct pmd *d, const struct app *p, struct buf *ids)
{
	struct flow_info f;
	char cg[160];

	as_flow(p, &f, cg, sizeof(cg));
	for (size_t i = 0; i < d->rules.n; i++)
		if (names(d->rules.v[i], &f))
			buf_addf(ids, "%s%u", ids->len ? "," : "", d->rules.v[i]->id);
}

static void app_record(struct pmd *d, struct buf *b, const struct app *p, uint64_t now)
{
	struct buf ids;

	buf_init(&ids);
	rules_of(d, p, &ids);
	rec_str(b, "app", p->key);
	rec_str(b, "exe", p->exe ? p->exe : "-");
	rec_str(b, "unit", p->unit[0] ? p->unit : "-");
	rec_u64(b, "allowed", p->allowed);
	rec_u64(b, "blocked", p->blocked);
	rec_u64(b, "last_seen", (now - p->last_ms) / 1000);
	rec_str(b, "rules", ids.len && !ids.oom ? ids.p : "-");
	rec_end(b);
	buf_free(&ids);
}

static int by_recent(const void *x, const void *y)
{
	const struct app *a = *(const struct app *const *)x, *b = *(const struct app *const *)y;

	return a->last_ms < b->last_ms ? 1 : a->last_ms > b->last_ms ? -1 : strcmp(a->key, b->key);
}

void apps_reply(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *name = proto_arg(req, "name");
	struct apps *a = d->apps;
	uint64_t now = now_ms();
	struct buf b;
	int n = 0;

	for (int i = 0; i < req->nargs; i++) {
		if (strcmp(req->args[i].key, "name")) {
			ctl_reply_err(out, "usage", "apps [name=EXE|UNIT]");
			return;
		}
	}
	buf_init(&b);
	if (name) {
		const struct app *p = a ? find(a, name) : NULL;

		if (!p && a) {
			/* an executable that runs as a service is found by it too */
			for (size_t i = 0; i < a->n && !p; i++)
				if (a->v[i].exe && !strcmp(a->v[i].exe, name))
					p = &a->v[i];
		}
		if (!p) {
			ctl_reply_err(out, "noent", "no program '%s' seen (see 'pmctl apps')", name);
			return;
		}
		app_record(d, &b, p, now);
		n = 1;
		/* and its rules, as the rules file has them */
		{
			struct flow_info f;
			char cg[160];

			as_flow(p, &f, cg, sizeof(cg));
			for (size_t i = 0; i < d->rules.n; i++) {
				const struct rule *r = d->rules.v[i];
				char *line;

				if (!names(r, &f))
					continue;
				line = rule_format(r);
				rec_u64(&b, "rule", r->id);
				rec_str(&b, "scope", scope_name(r->scope));
				rec_str(&b, "line", line ? line : "?");
				rec_u64(&b, "hits", r->hits);
				rec_end(&b);
				free(line);
				n++;
			}
		}
	} else if (a && a->n) {
		const struct app **v = malloc(a->n * sizeof(*v));

		if (!v) {
			ctl_reply_err(out, "internal", "out of memory");
			return;
		}
		for (size_t i = 0; i < a->n; i++)
			v[i] = &a->v[i];
		qsort(v, a->n, sizeof(*v), by_recent);
		for (size_t i = 0; i < a->n; i++, n++)
			app_record(d, &b, v[i], now);
		free(v);
	}
	if (b.oom) {
		buf_free(&b);
		ctl_reply_err(out, "internal", "out of memory");
		return;
	}
	proto_ok(out, n);
	if (b.len)
		buf_add(out, b.p, b.len);
	buf_free(&b);
}
