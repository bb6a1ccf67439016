// SPDX-License-Identifier: GPL-2.0
/* Rules: parsing, matching, and the persisted rules file. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "control/proto.h"
#include "decide/rules.h"
#include "decide/rindex.h"
#include "common/util.h"

static const char *const action_names[] = { "allow", "block", "drop", "ask", "tunnel" };
static const char *const scope_names[] = { "once", "for", "until-restart", "always" };

const char *action_name(enum action a)
{
	return (unsigned int)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

int action_parse(const char *s, enum action *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++) {
		if (!strcmp(s, action_names[i])) {
			*a = (enum action)i;
			return 0;
		}
	}
	return -1;
}

const char *scope_name(enum scope s)
{
	return (unsigned int)s < ARRAY_SIZE(scope_names) ? scope_names[s] : "?";
}

/* What one rule's criteria cannot mean together. */
static int check_combination(const struct rule *r, char *err, size_t errlen)
{
	const struct criterion *p = rule_crit(r, CRIT_PROTO);
	bool icmp = p && (p->v.proto == PROTO_ANY_ICMP || p->v.proto == IPPROTO_ICMP ||
			  p->v.proto == IPPROTO_ICMPV6);

	if (icmp && rule_crit(r, CRIT_PORT)) {
		snprintf(err, errlen, "port cannot be combined with proto icmp");
		return -1;
	}
	if (p && !icmp && rule_crit(r, CRIT_ICMP_TYPE)) {
		snprintf(err, errlen, "icmp-type needs proto icmp or icmpv6 (or no proto)");
		return -1;
	}
	if (rule_crit(r, CRIT_ICMP_TYPE) && rule_crit(r, CRIT_PORT)) {
		snprintf(err, errlen, "port cannot be combined with icmp-type");
		return -1;
	}
	return 0;
}

/* A rule that pmctl adds must fit a line of the file it is saved to. */
static int check_length(const struct rule *r, char *err, size_t errlen)
{
	char *s = rule_format(r);
	size_t n = s ? strlen(s) : 0;

	free(s);
	if (!s || n >= PROTO_MAX_LINE - 1) {
		snprintf(err, errlen, s ? "rule longer than a rules file line (%d bytes, "
			 "percent-encoded)" : "out of memory", PROTO_MAX_LINE - 1);
		return -1;
	}
	return 0;
}

int rule_set_match(struct rule *r, const char *key, const char *val, char *err, size_t errlen)
{
	int k = crit_kind_by_name(key), i;
	struct criterion c;

	if (!strcmp(key, "note")) {
		if (r->note) {
			snprintf(err, errlen, "'note' given twice");
			return -1;
		}
		if (!val[0] || strlen(val) > 512) {
			snprintf(err, errlen, "note must be 1 to 512 bytes");
			return -1;
		}
		r->note = strdup(val);
		if (!r->note) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return check_length(r, err, errlen);
	}
	if (k < 0) {
		snprintf(err, errlen, "unknown match '%s' (%s, note)", key, crit_names());
		return -1;
	}
	if (rule_crit(r, (enum crit_kind)k)) {
		snprintf(err, errlen, "'%s' given twice", crit_name((enum crit_kind)k));
		return -1;
	}
	if (crit_parse(&c, (enum crit_kind)k, val, err, errlen) < 0) {
		crit_free(&c);
		return -1;
	}
	/* kept sorted by kind: one canonical form for each rule */
	for (i = r->ncrit; i > 0 && r->crit[i - 1].kind > c.kind; i--)
		r->crit[i] = r->crit[i - 1];
	r->crit[i] = c;
	r->ncrit++;
	if (check_combination(r, err, errlen) < 0)
		return -1;
	return check_length(r, err, errlen);
}

int rule_add_from_flow(struct rule *r, enum crit_kind k, const struct flow_info *f)
{
	struct criterion c;
	char err[128];
	int i;

	if (rule_crit(r, k) || crit_from_flow(&c, k, f) < 0)
		return -1;
	for (i = r->ncrit; i > 0 && r->crit[i - 1].kind > c.kind; i--)
		r->crit[i] = r->crit[i - 1];
	r->crit[i] = c;
	r->ncrit++;
	/* an answer saved to rules.conf must be a line it can read back */
	if (check_length(r, err, sizeof(err)) < 0) {
		crit_free(&r->crit[i]);
		memmove(&r->crit[i], &r->crit[i + 1], (size_t)(r->ncrit - i - 1) * sizeof(c));
		r->ncrit--;
		return -1;
	}
	return 0;
}

const struct criterion *rule_crit(const struct rule *r, enum crit_kind k)
{
	for (int i = 0; i < r->ncrit; i++)
		if (r->crit[i].kind == k)
			return &r->crit[i];
	return NULL;
}

void rule_release(struct rule *r)
{
	for (int i = 0; i < r->ncrit; i++)
		crit_free(&r->crit[i]);
	r->ncrit = 0;
	free(r->note);
	free(r->pre);
	r->note = r->pre = NULL;
}

void rule_free(struct rule *r)
{
	if (!r)
		return;
	rule_release(r);
	free(r);
}

struct rule *rule_dup(const struct rule *r)
{
	struct rule *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *r;
	c->note = c->pre = NULL;
	if ((r->note && !(c->note = strdup(r->note))) || (r->pre && !(c->pre = strdup(r->pre)))) {
		c->ncrit = 0;
		rule_free(c);
		return NULL;
	}
	for (int i = 0; i < r->ncrit; i++) {
		if (crit_copy(&c->crit[i], &r->crit[i]) < 0) {
			c->ncrit = i;
			rule_free(c);
			return NULL;
		}
	}
	return c;
}

bool rule_needs_owner(const struct rule *r)
{
	for (int i = 0; i < r->ncrit; i++)
		if (crit_needs_owner(r->crit[i].kind))
			return true;
	return false;
}

/* A criterion a cut-off command line or parent chain cannot settle: for
 * a rule that refuses, it holds (overflowing a bound never lets a flow
 * past a block); for any other, it does not. */
static bool unsettled(const struct criterion *c, const struct flow_info *f)
{
	return (c->kind == CRIT_CMDLINE && f->owner.cmdline_cut) ||
	       (c->kind == CRIT_PARENT && f->owner.ancestors_cut);
}

bool rule_match(const struct rule *r, const struct flow_info *f)
{
	for (int i = 0; i < r->ncrit; i++) {
		if (crit_match(&r->crit[i], f))
			continue;
		if (unsettled(&r->crit[i], f) && (r->action == ACT_BLOCK || r->action == ACT_DROP))
			continue;
		return false;
	}
	return true;
}

bool rule_same(const struct rule *a, const struct rule *b)
{
	if (a->action != b->action || a->ncrit != b->ncrit ||
	    strcmp(a->note ? a->note : "", b->note ? b->note : ""))
		return false;
	for (int i = 0; i < a->ncrit; i++)
		if (!crit_equal(&a->crit[i], &b->crit[i]))
			return false;
	return true;
}

char *rule_format(const struct rule *r)
{
	struct buf b, v;

	buf_init(&b);
	buf_addf(&b, "%s", action_name(r->action));
	for (int i = 0; i < r->ncrit; i++) {
		buf_init(&v);
		crit_format(&r->crit[i], &v);
		buf_addf(&b, " %s=", crit_name(r->crit[i].kind));
		if (v.oom)
			b.oom = true;
		else
			pct_encode(&b, v.p ? v.p : "");
		buf_free(&v);
	}
	if (r->note) {
		buf_addf(&b, " note=");
		pct_encode(&b, r->note);
	}
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* A line's kinds, for the loader. */
enum { LINE_RULE, LINE_DEFAULT, LINE_BLANK, LINE_ENABLE, LINE_PRESET };

static bool valid_preset_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 31)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

static int parse_line(const char *line, struct rule *r, enum action *def, char *name,
		      char *err, size_t errlen)
{
	char copy[PROTO_MAX_LINE];
	char *save = NULL, *tok;
	size_t len = strlen(line);
	bool is_default = false;

	memset(r, 0, sizeof(*r));
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= sizeof(copy)) {
		snprintf(err, errlen, "line too long (at most %d bytes)", PROTO_MAX_LINE - 1);
		return -1;
	}
	memcpy(copy, line, len);
	copy[len] = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)copy[i];

		if (c == '\t') {
			copy[i] = ' ';
		} else if (c < 0x20 || c > 0x7e) {
			snprintf(err, errlen, "control or non-ASCII byte 0x%02x (percent-encode it)", c);
			return -1;
		}
	}
	tok = strtok_r(copy, " ", &save);
	if (!tok || tok[0] == '#')
		return LINE_BLANK;
	if (!strcmp(tok, "enable") || !strcmp(tok, "preset")) {
		int kind = tok[0] == 'e' ? LINE_ENABLE : LINE_PRESET;
		char *n = strtok_r(NULL, " ", &save), *more = strtok_r(NULL, " ", &save);

		if (!n || !valid_preset_name(n) || (more && more[0] != '#')) {
			snprintf(err, errlen, "'%s' takes one preset name (a-z, 0-9, -)", tok);
			return -1;
		}
		snprintf(name, 32, "%s", n);
		return kind;
	}
	if (!strcmp(tok, "default")) {
		is_default = true;
		tok = strtok_r(NULL, " ", &save);
		if (!tok) {
			snprintf(err, errlen, "'default' needs an action (allow, block, drop, ask, tunnel)");
			return -1;
		}
	}
	if (action_parse(tok, &r->action) < 0) {
		snprintf(err, errlen, "unknown action '%s' (allow, block, drop, ask, tunnel)", tok);
		return -1;
	}
	if (is_default) {
		tok = strtok_r(NULL, " ", &save);
		if (tok && tok[0] != '#') {
			snprintf(err, errlen, "'default' takes only an action");
			return -1;
		}
		*def = r->action;
		return LINE_DEFAULT;
	}
	r->scope = SCOPE_ALWAYS;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (tok[0] == '#')
			break;
		if (!eq || eq == tok) {
			snprintf(err, errlen, "expected KEY=VALUE, got '%s'", tok);
			goto fail;
		}
		*eq = 0;
		if (pct_decode(eq + 1) < 0 || !eq[1]) {
			snprintf(err, errlen, "bad or empty value for '%s'", tok);
			goto fail;
		}
		if (rule_set_match(r, tok, eq + 1, err, errlen) < 0)
			goto fail;
	}
	return LINE_RULE;
fail:
	rule_release(r);
	return -1;
}

int rule_parse_line(const char *line, struct rule *r, enum action *def,
		    char *err, size_t errlen)
{
	char name[32];
	int k = parse_line(line, r, def, name, err, errlen);

	if (k == LINE_ENABLE || k == LINE_PRESET) {
		snprintf(err, errlen, "'%s' belongs in a rules file", k == LINE_ENABLE ? "enable" : "preset");
		return -1;
	}
	return k;
}

void ruleset_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->idx_stale = true;
}

static void free_strings(char **v, int *n)
{
	for (int i = 0; i < *n; i++)
		free(v[i]);
	*n = 0;
}

void ruleset_clear(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(rs->v[i]);
	free(rs->v);
	free_strings(rs->files, &rs->nfiles);
	free_strings(rs->enabled, &rs->nenabled);
	free_strings(rs->cfg_enabled, &rs->ncfg_enabled);
	free_strings(rs->presets, &rs->npresets);
	free(rs->def_pre);
	free(rs->tail);
	rindex_free(rs->idx);
	ruleset_init(rs);
}

void ruleset_touch(struct ruleset *rs)
{
	rs->idx_stale = true;
}

static int grow(struct ruleset *rs)
{
	size_t cap;
	struct rule **v;

	if (rs->n < rs->cap)
		return 0;
	cap = rs->cap ? rs->cap * 2 : 16;
	if (cap > 131072)
		return -ENOSPC;
	v = realloc(rs->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->v = v;
	rs->cap = cap;
	return 0;
}

int ruleset_add(struct ruleset *rs, struct rule *r)
{
	return ruleset_insert(rs, r, rs->n);
}

int ruleset_insert(struct ruleset *rs, struct rule *r, size_t pos)
{
	int e = rs->n >= 100000 ? -ENOSPC : grow(rs);

	if (e < 0)
		return e;
	if (pos > rs->n)
		pos = rs->n;
	memmove(&rs->v[pos + 1], &rs->v[pos], (rs->n - pos) * sizeof(*rs->v));
	rs->v[pos] = r;
	rs->n++;
	rs->idx_stale = true;
	return 0;
}

struct rule *ruleset_take(struct ruleset *rs, uint32_t id, size_t *pos)
{
	long i = ruleset_index(rs, id);
	struct rule *r;

	if (i < 0)
		return NULL;
	r = rs->v[i];
	memmove(&rs->v[i], &rs->v[i + 1], (rs->n - (size_t)i - 1) * sizeof(*rs->v));
	rs->n--;
	rs->idx_stale = true;
	if (pos)
		*pos = (size_t)i;
	return r;
}

int ruleset_del(struct ruleset *rs, uint32_t id)
{
	struct rule *r = ruleset_take(rs, id, NULL);

	if (!r)
		return -ENOENT;
	rule_free(r);
	return 0;
}

long ruleset_index(const struct ruleset *rs, uint32_t id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i]->id == id)
			return (long)i;
	return -1;
}

struct rule *ruleset_find(struct ruleset *rs, uint32_t id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i]->id == id)
			return rs->v[i];
	return NULL;
}

static bool owned_always(const struct rule *r)
{
	return r->scope == SCOPE_ALWAYS && r->file == 0;
}

size_t ruleset_owned_end(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i]->scope == SCOPE_ALWAYS && rs->v[i]->file != 0)
			return i;
	return rs->n;
}

void ruleset_keep_comments(struct ruleset *rs, struct rule *r, size_t pos)
{
	struct buf b;
	char **to = &rs->tail;

	if (!r->pre)
		return;
	for (size_t i = pos; i < rs->n; i++) {
		if (owned_always(rs->v[i])) {
			to = &rs->v[i]->pre;
			break;
		}
	}
	buf_init(&b);
	buf_addf(&b, "%s%s", r->pre, *to ? *to : "");
	if (b.oom) {
		buf_free(&b);
		return;
	}
	free(*to);
	*to = b.p;
	free(r->pre);
	r->pre = NULL;
}

void rule_source(const struct ruleset *rs, const struct rule *r, char *out, size_t len)
{
	if (r->scope != SCOPE_ALWAYS || !r->line || r->file >= rs->nfiles)
		snprintf(out, len, "%s", r->scope == SCOPE_ALWAYS && r->file == 0 &&
			 rs->nfiles ? rs->files[0] : "");
	else
		snprintf(out, len, "%s:%u", rs->files[r->file], r->line);
}

bool ruleset_preset_by_config(const struct ruleset *rs, const char *name)
{
	for (int i = 0; i < rs->ncfg_enabled; i++)
		if (!strcmp(rs->cfg_enabled[i], name))
			return true;
	return false;
}

bool ruleset_preset_enabled(const struct ruleset *rs, const char *name)
{
	for (int i = 0; i < rs->nenabled; i++)
		if (!strcmp(rs->enabled[i], name))
			return true;
	return ruleset_preset_by_config(rs, name);
}

int ruleset_preset_set(struct ruleset *rs, const char *name, bool on)
{
	bool has = false;

	if (!valid_preset_name(name))
		return -EINVAL;
	for (int i = 0; i < rs->nenabled; i++)
		has |= !strcmp(rs->enabled[i], name);
	if (on == has)
		return 0;
	if (on) {
		if (rs->nenabled == RULESET_MAX_PRESETS)
			return -ENOSPC;
		rs->enabled[rs->nenabled] = strdup(name);
		if (!rs->enabled[rs->nenabled])
			return -ENOMEM;
		rs->nenabled++;
		return 0;
	}
	for (int i = 0; i < rs->nenabled; i++) {
		if (strcmp(rs->enabled[i], name))
			continue;
		free(rs->enabled[i]);
		rs->enabled[i] = rs->enabled[--rs->nenabled];
		break;
	}
	return 0;
}

static void index_fresh(struct ruleset *rs)
{
	if (rs->idx_stale) {
		rindex_free(rs->idx);
		/* without an index (no memory) every rule is tried in turn */
		rs->idx = rindex_build(rs);
		rs->idx_stale = false;
	}
}

struct rule *ruleset_first(struct ruleset *rs, const struct flow_info *f, uint64_t now,
			   bool new_flow)
{
	index_fresh(rs);
	return rindex_first(rs->idx, rs, f, now, new_flow);
}

bool rule_beyond_remember_key(const struct rule *r)
{
	static const enum crit_kind beyond[] = { CRIT_CMDLINE, CRIT_PARENT, CRIT_UNIT, CRIT_CGROUP,
						 CRIT_GID, CRIT_LOCAL, CRIT_ICMP_TYPE, CRIT_DOMAIN };

	for (size_t i = 0; i < ARRAY_SIZE(beyond); i++)
		if (rule_crit(r, beyond[i]))
			return true;
	return false;
}

bool ruleset_beyond_remember_key(struct ruleset *rs)
{
	index_fresh(rs);
	return rindex_beyond_key(rs->idx, rs);
}

struct rule *ruleset_match(struct ruleset *rs, const struct flow_info *f, uint64_t now)
{
	return ruleset_first(rs, f, now, true);
}

bool ruleset_needs_owner(const struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rule_needs_owner(rs->v[i]))
			return true;
	return false;
}

int ruleset_expire(struct ruleset *rs, uint64_t now)
{
	int n = 0;

	for (size_t i = 0; i < rs->n;) {
		if (rs->v[i]->scope == SCOPE_FOR && now >= rs->v[i]->expires_ms) {
			ruleset_del(rs, rs->v[i]->id);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static bool has_string(char *const *v, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static int add_string(char **v, int *n, int max, const char *s)
{
	if (*n == max)
		return -1;
	v[*n] = strdup(s);
	if (!v[*n])
		return -1;
	(*n)++;
	return 0;
}

/*
 * One file's text into rs, as file number fileno (0: rules.conf, the only
 * one with "default" and "enable" lines and whose comments are kept).
 * *preset gets the name of a "preset NAME" first line ("" for none).
 */
static int load_text(struct ruleset *rs, int fileno, const char *name, const char *text,
		     size_t len, unsigned int lineno, uint32_t *next_id, char *preset, char *err,
		     size_t errlen)
{
	const char *p = text, *end = text + len;
	char line[PROTO_MAX_LINE + 1];
	bool owned = fileno == 0, seen_rule = false;
	struct buf pre;

	preset[0] = 0;
	buf_init(&pre);
	if (owned && rs->tail) {
		/* the comments at the end of the text before are above what
		 * follows */
		buf_addf(&pre, "%s", rs->tail);
		free(rs->tail);
		rs->tail = NULL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char msg[512], pname[32];
		struct rule r, *rp;
		enum action def;
		int k;

		lineno++;
		if (n >= sizeof(line) - 1) {
			snprintf(err, errlen, "%s:%u: line too long (at most %d bytes)",
				 name, lineno, PROTO_MAX_LINE - 1);
			goto fail;
		}
		if (memchr(p, 0, n)) {
			snprintf(err, errlen, "%s:%u: NUL byte", name, lineno);
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		k = parse_line(line, &r, &def, pname, msg, sizeof(msg));
		if (k < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			goto fail;
		}
		if (k == LINE_BLANK) {
			if (owned)
				buf_addf(&pre, "%s\n", line);
			continue;
		}
		if (k == LINE_PRESET) {
			if (owned || seen_rule || preset[0]) {
				snprintf(err, errlen, "%s:%u: 'preset' must be the first line of a "
					 "rules.d file", name, lineno);
				goto fail;
			}
			snprintf(preset, 32, "%s", pname);
			if (!has_string(rs->presets, rs->npresets, pname) &&
			    add_string(rs->presets, &rs->npresets, RULESET_MAX_PRESETS, pname) < 0) {
				snprintf(err, errlen, "%s:%u: too many presets", name, lineno);
				goto fail;
			}
			continue;
		}
		seen_rule = true;
		if (k == LINE_ENABLE) {
			if (!owned) {
				snprintf(err, errlen, "%s:%u: 'enable' belongs in rules.conf", name, lineno);
				goto fail;
			}
			if (!ruleset_preset_enabled(rs, pname) &&
			    add_string(rs->enabled, &rs->nenabled, RULESET_MAX_PRESETS, pname) < 0) {
				snprintf(err, errlen, "%s:%u: too many presets", name, lineno);
				goto fail;
			}
			continue;
		}
		if (k == LINE_DEFAULT) {
			if (!owned) {
				snprintf(err, errlen, "%s:%u: 'default' belongs in rules.conf "
					 "(or portmasterd.conf)", name, lineno);
				goto fail;
			}
			if (rs->have_default) {
				snprintf(err, errlen, "%s:%u: a second 'default' line", name, lineno);
				goto fail;
			}
			rs->have_default = true;
			rs->def = def;
			if (pre.len) {
				rs->def_pre = pre.p;
				buf_init(&pre);
			}
			continue;
		}
		if (pre.len && !pre.oom) {
			r.pre = pre.p;
			buf_init(&pre);
		}
		r.file = (uint16_t)fileno;
		r.line = lineno;
		rp = rule_dup(&r);
		rule_release(&r);
		if (!rp || ruleset_add(rs, rp) < 0) {
			rule_free(rp);
			snprintf(err, errlen, "%s:%u: too many rules or out of memory", name, lineno);
			goto fail;
		}
		rp->id = (*next_id)++;
	}
	if (pre.len && !pre.oom) {
		rs->tail = pre.p;
		buf_init(&pre);
	}
	buf_free(&pre);
	return 0;
fail:
	buf_free(&pre);
	return -1;
}

int ruleset_load_mem(struct ruleset *rs, const char *name, const char *text,
		     size_t len, uint32_t *next_id, char *err, size_t errlen)
{
	char preset[32];

	ruleset_init(rs);
	if (add_string(rs->files, &rs->nfiles, RULESET_MAX_FILES, name) < 0 ||
	    load_text(rs, 0, name, text, len, 0, next_id, preset, err, errlen) < 0) {
		if (!rs->nfiles)
			snprintf(err, errlen, "out of memory");
		ruleset_clear(rs);
		return -1;
	}
	return 0;
}

int ruleset_load_chunk(struct ruleset *rs, const char *name, const char *text, size_t len,
		       unsigned int first_line, uint32_t *next_id, char *err, size_t errlen)
{
	char preset[32];

	if (!rs->nfiles && add_string(rs->files, &rs->nfiles, RULESET_MAX_FILES, name) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return load_text(rs, 0, name, text, len, first_line ? first_line - 1 : 0, next_id, preset,
			 err, errlen);
}

/* A whole file, at most 16 MiB; a missing one is empty (*missing). */
static int read_text(const char *path, struct buf *b, bool *missing, char *err, size_t errlen)
{
	char chunk[8192];
	ssize_t n;
	int fd;

	buf_init(b);
	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*missing = true;
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf_add(b, chunk, (size_t)n);
		if (b->len > (16u << 20)) {
			snprintf(err, errlen, "%s: larger than 16 MiB", path);
			goto fail;
		}
	}
	if (n < 0 || b->oom) {
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	buf_free(b);
	return -1;
}

static int conf_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".conf");
}

/* Lexical order by bytes, whatever the locale. */
static int bytes_sort(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int ruleset_load_all(struct ruleset *rs, const char *conf, const char *dir, uint32_t *next_id,
		     char *err, size_t errlen)
{
	return ruleset_load_dirs(rs, conf, dir, NULL, next_id, err, errlen);
}

int ruleset_load_dirs(struct ruleset *rs, const char *conf, const char *dir,
		      const char *const *presets, uint32_t *next_id, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	struct buf b;
	bool missing;
	char preset[32];
	int n = 0, r = -1;

	ruleset_init(rs);
	if (add_string(rs->files, &rs->nfiles, RULESET_MAX_FILES, conf) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (; presets && *presets; presets++) {
		if (add_string(rs->cfg_enabled, &rs->ncfg_enabled, RULESET_MAX_PRESETS, *presets) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (read_text(conf, &b, &missing, err, errlen) < 0)
		goto out;
	r = load_text(rs, 0, conf, b.p ? b.p : "", b.len, 0, next_id, preset, err, errlen);
	buf_free(&b);
	if (r < 0 || !dir)
		goto out;
	r = -1;
	n = scandir(dir, &ents, conf_filter, bytes_sort);
	if (n < 0) {
		n = 0;
		if (errno == ENOENT || errno == ENOTDIR) {
			r = 0;
			goto out;
		}
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		size_t before = rs->n;
		int fileno = rs->nfiles;

		if (xsnprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < 0) {
			snprintf(err, errlen, "%s/%s: path too long", dir, ents[i]->d_name);
			goto out;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (add_string(rs->files, &rs->nfiles, RULESET_MAX_FILES, path) < 0) {
			snprintf(err, errlen, "%s: more than %d rules files", dir, RULESET_MAX_FILES - 1);
			goto out;
		}
		if (read_text(path, &b, &missing, err, errlen) < 0)
			goto out;
		r = load_text(rs, fileno, path, b.p ? b.p : "", b.len, 0, next_id, preset, err,
			      errlen);
		buf_free(&b);
		if (r < 0)
			goto out;
		r = -1;
		/* a preset nobody enabled: checked, not applied */
		if (preset[0] && !ruleset_preset_enabled(rs, preset)) {
			while (rs->n > before)
				rule_free(rs->v[--rs->n]);
		}
	}
	r = 0;
out:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	rs->idx_stale = true;
	if (r < 0)
		ruleset_clear(rs);
	return r;
}

int ruleset_load(struct ruleset *rs, const char *path, uint32_t *next_id,
		 char *err, size_t errlen)
{
	return ruleset_load_all(rs, path, NULL, next_id, err, errlen);
}

static const char rules_header[] =
	"# portmasterd rules (see portmasterd(8), RULES FILE).\n"
	"# pmctl writes this file ('pmctl rule add --always', 'pmctl preset enable');\n"
	"# your own comments and the order of the rules are kept.  Files in rules.d/\n"
	"# are yours alone: pmctl never rewrites them.\n"
	"# One rule a line: ACTION [exe=GLOB] [cmdline=GLOB] [parent=GLOB] [unit=NAME]\n"
	"#   [cgroup=GLOB] [user=NAME|UID] [group=NAME|GID] [local=ADDR[/LEN]|SCOPE]\n"
	"#   [remote=ADDR[/LEN]|SCOPE] [dst=ADDR[/LEN]] [port=LIST] [proto=PROTO]\n"
	"#   [icmp-type=TYPE] [dir=out|in] [domain=PATTERN] [note=TEXT]\n"
	"# and at most one line 'default ACTION'. First matching rule wins.\n";

char *ruleset_text(const struct ruleset *rs, bool owned_only)
{
	struct buf b;
	bool any_comment = rs->def_pre || rs->tail;

	for (size_t i = 0; i < rs->n && !any_comment; i++)
		any_comment = owned_always(rs->v[i]) && rs->v[i]->pre;
	buf_init(&b);
	if (!any_comment || !owned_only)
		buf_addf(&b, "%s", owned_only ? rules_header :
			 "# portmasterd rules, exported ('pmctl rule import FILE' reads them)\n");
	for (int i = 0; i < rs->nenabled; i++)
		buf_addf(&b, "enable %s\n", rs->enabled[i]);
	if (rs->have_default)
		buf_addf(&b, "%sdefault %s\n", owned_only && rs->def_pre ? rs->def_pre : "",
			 action_name(rs->def));
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];
		char *s;

		if (r->scope != SCOPE_ALWAYS || (owned_only && r->file != 0))
			continue;
		s = rule_format(r);
		if (!s) {
			b.oom = true;
			break;
		}
		buf_addf(&b, "%s%s\n", owned_only && r->pre ? r->pre : "", s);
		free(s);
	}
	if (owned_only && rs->tail)
		buf_addf(&b, "%s", rs->tail);
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}

int ruleset_save(const struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	char *text = ruleset_text(rs, true);
	int r;

	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = write_file_atomic(path, text, strlen(text), err, errlen);
	free(text);
	return r;
}

/* Read from the same file (by name, where both know it). */
static bool same_file(const struct ruleset *a, const struct rule *x, const struct ruleset *b,
		      const struct rule *y)
{
	if (x->file < a->nfiles && y->file < b->nfiles)
		return !strcmp(a->files[x->file], b->files[y->file]);
	return x->file == y->file;
}

int ruleset_merge_reload(struct ruleset *cur, struct ruleset *fresh, uint32_t *next_id)
{
	size_t cap = cur->n + fresh->n + 1;
	struct rule **out = calloc(cap, sizeof(*out));
	struct rule **match = calloc(fresh->n + 1, sizeof(*match));
	bool *taken = calloc(cur->n + 1, sizeof(*taken));
	size_t n = 0, next = 0;

	if (!out || !match || !taken) {
		free(out);
		free(match);
		free(taken);
		ruleset_clear(fresh);
		return -1;
	}
	/* Which rule of the file is which rule we have: the first line
	 * alike, in order, so that duplicates pair up one to one. */
	for (size_t j = 0; j < fresh->n; j++) {
		for (size_t i = 0; i < cur->n; i++) {
			if (taken[i] || cur->v[i]->scope != SCOPE_ALWAYS ||
			    !rule_same(cur->v[i], fresh->v[j]) ||
			    !same_file(cur, cur->v[i], fresh, fresh->v[j]))
				continue;
			taken[i] = true;
			match[j] = cur->v[i];
			fresh->v[j]->id = cur->v[i]->id;
			fresh->v[j]->hits = cur->v[i]->hits;
			break;
		}
		if (!match[j])
			fresh->v[j]->id = (*next_id)++;
	}
	for (size_t i = 0; i < cur->n; i++) {
		struct rule *o = cur->v[i];
		size_t j;

		if (o->scope != SCOPE_ALWAYS) {
			out[n++] = o;
			continue;
		}
		for (j = 0; j < fresh->n && match[j] != o; j++)
			;
		/* The file's rules up to this one go here, in its order. */
		for (; j < fresh->n && next <= j; next++)
			out[n++] = fresh->v[next];
		rule_free(o);
	}
	for (; next < fresh->n; next++)
		out[n++] = fresh->v[next];
	free(cur->v);
	cur->v = out;
	cur->n = n;
	cur->cap = cap;
	cur->have_default = fresh->have_default;
	cur->def = fresh->def;
	/* the files, comments and presets are the fresh ones */
	free(fresh->v);
	fresh->v = NULL;
	fresh->n = 0;
	{
		struct ruleset old = *cur;

		old.v = NULL;
		old.n = 0;
		old.idx = NULL;
		cur->nfiles = cur->nenabled = cur->npresets = cur->ncfg_enabled = 0;
		cur->def_pre = cur->tail = NULL;
		ruleset_clear(&old);
	}
	memcpy(cur->files, fresh->files, sizeof(cur->files));
	memcpy(cur->enabled, fresh->enabled, sizeof(cur->enabled));
	memcpy(cur->presets, fresh->presets, sizeof(cur->presets));
	memcpy(cur->cfg_enabled, fresh->cfg_enabled, sizeof(cur->cfg_enabled));
	cur->ncfg_enabled = fresh->ncfg_enabled;
	cur->nfiles = fresh->nfiles;
	cur->nenabled = fresh->nenabled;
	cur->npresets = fresh->npresets;
	cur->def_pre = fresh->def_pre;
	cur->tail = fresh->tail;
	cur->idx_stale = true;
	rindex_free(fresh->idx);
	ruleset_init(fresh);
	free(match);
	free(taken);
	return 0;
}
