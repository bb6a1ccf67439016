// SPDX-License-Identifier: GPL-2.0
/* Rules: parsing, matching, and the persisted rules file. */
#include <ctype.h>
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

int rule_set_match(struct rule *r, const char *key, const char *val, char *err, size_t errlen)
{
	int k = crit_kind_by_name(key), i;
	struct criterion c;

	if (k < 0) {
		snprintf(err, errlen, "unknown match '%s' (%s)", key, crit_names());
		return -1;
	}
	if (rule_crit(r, (enum crit_kind)k)) {
		snprintf(err, errlen, "'%s' given twice", key);
		return -1;
	}
	if (crit_parse(&c, (enum crit_kind)k, val, err, errlen) < 0)
		return -1;
	/* kept sorted by kind: one canonical form for each rule */
	for (i = r->ncrit; i > 0 && r->crit[i - 1].kind > c.kind; i--)
		r->crit[i] = r->crit[i - 1];
	r->crit[i] = c;
	r->ncrit++;
	{
		const struct criterion *p = rule_crit(r, CRIT_PROTO);

		if (p && p->v.proto == IPPROTO_ICMP && rule_crit(r, CRIT_PORT)) {
			snprintf(err, errlen, "port cannot be combined with proto icmp");
			return -1;
		}
	}
	return 0;
}

int rule_add_from_flow(struct rule *r, enum crit_kind k, const struct flow_info *f)
{
	struct criterion c;
	int i;

	if (rule_crit(r, k) || crit_from_flow(&c, k, f) < 0)
		return -1;
	for (i = r->ncrit; i > 0 && r->crit[i - 1].kind > c.kind; i--)
		r->crit[i] = r->crit[i - 1];
	r->crit[i] = c;
	r->ncrit++;
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

bool rule_match(const struct rule *r, const struct flow_info *f)
{
	for (int i = 0; i < r->ncrit; i++)
		if (!crit_match(&r->crit[i], f))
			return false;
	return true;
}

bool rule_same(const struct rule *a, const struct rule *b)
{
	if (a->action != b->action || a->ncrit != b->ncrit)
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
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	return b.p;
}

int rule_parse_line(const char *line, struct rule *r, enum action *def,
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
		return 2;
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
		if (strtok_r(NULL, " ", &save)) {
			snprintf(err, errlen, "'default' takes only an action");
			return -1;
		}
		*def = r->action;
		return 1;
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
	return 0;
fail:
	rule_release(r);
	return -1;
}

void ruleset_init(struct ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void ruleset_clear(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_free(rs->v[i]);
	free(rs->v);
	ruleset_init(rs);
}

static int grow(struct ruleset *rs)
{
	size_t cap;
	struct rule **v;

	if (rs->n < rs->cap)
		return 0;
	cap = rs->cap ? rs->cap * 2 : 16;
	if (cap > 100000)
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
	int e = grow(rs);

	if (e < 0)
		return e;
	if (pos > rs->n)
		pos = rs->n;
	memmove(&rs->v[pos + 1], &rs->v[pos], (rs->n - pos) * sizeof(*rs->v));
	rs->v[pos] = r;
	rs->n++;
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

struct rule *ruleset_match(struct ruleset *rs, const struct flow_info *f, uint64_t now)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = rs->v[i];

		if (r->scope == SCOPE_FOR && now >= r->expires_ms)
			continue;
		if (rule_match(r, f))
			return r;
	}
	return NULL;
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

int ruleset_load_mem(struct ruleset *rs, const char *name, const char *text,
		     size_t len, uint32_t *next_id, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned int lineno = 0;
	char line[PROTO_MAX_LINE + 1];

	ruleset_init(rs);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char msg[512];
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
		k = rule_parse_line(line, &r, &def, msg, sizeof(msg));
		if (k < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			goto fail;
		}
		if (k == 2)
			continue;
		if (k == 1) {
			if (rs->have_default) {
				snprintf(err, errlen, "%s:%u: a second 'default' line", name, lineno);
				goto fail;
			}
			rs->have_default = true;
			rs->def = def;
			continue;
		}
		rp = rule_dup(&r);
		rule_release(&r);
		if (!rp || ruleset_add(rs, rp) < 0) {
			rule_free(rp);
			snprintf(err, errlen, "%s:%u: too many rules or out of memory", name, lineno);
			goto fail;
		}
		rp->id = (*next_id)++;
	}
	return 0;
fail:
	ruleset_clear(rs);
	return -1;
}

int ruleset_load(struct ruleset *rs, const char *path, uint32_t *next_id,
		 char *err, size_t errlen)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd, r;

	ruleset_init(rs);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		buf_add(&b, chunk, (size_t)n);
		if (b.len > (16u << 20)) {
			snprintf(err, errlen, "%s: larger than 16 MiB", path);
			goto fail;
		}
	}
	if (n < 0 || b.oom) {
		snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	close(fd);
	r = ruleset_load_mem(rs, path, b.p ? b.p : "", b.len, next_id, err, errlen);
	buf_free(&b);
	return r;
fail:
	close(fd);
	buf_free(&b);
	return -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ruleset_save(const struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct buf b;
	int fd, dfd;

	buf_init(&b);
	buf_addf(&b, "# portmasterd rules (see portmasterd(8), RULES FILE).\n"
		 "# Written by portmasterd: rules added with 'pmctl rule add --always'.\n"
		 "# One rule a line: ACTION [exe=PATH] [uid=UID] [dst=ADDR[/LEN]] [port=PORT]\n"
		 "#                  [proto=tcp|udp|icmp] [dir=out|in] [domain=PATTERN]\n"
		 "# and at most one line 'default ACTION'. First matching rule wins.\n");
	if (rs->have_default)
		buf_addf(&b, "default %s\n", action_name(rs->def));
	for (size_t i = 0; i < rs->n; i++) {
		char *s;

		if (rs->v[i]->scope != SCOPE_ALWAYS)
			continue;
		s = rule_format(rs->v[i]);
		if (!s) {
			b.oom = true;
			break;
		}
		buf_addf(&b, "%s\n", s);
		free(s);
	}
	if (b.oom) {
		snprintf(err, errlen, "out of memory");
		buf_free(&b);
		return -1;
	}
	if (xsnprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) < 0 ||
	    xsnprintf(dir, sizeof(dir), "%s", path) < 0) {
		snprintf(err, errlen, "path too long");
		buf_free(&b);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		buf_free(&b);
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, b.p, b.len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The rename is durable only once the directory is. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
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
			    !rule_same(cur->v[i], fresh->v[j]))
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
	free(fresh->v);
	ruleset_init(fresh);
	free(match);
	free(taken);
	return 0;
}
