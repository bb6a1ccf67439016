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
#include "dns/names.h"

static const char *const action_names[] = { "allow", "block", "drop", "ask" };
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
	if (!strcmp(key, "exe")) {
		if (r->match & RM_EXE)
			goto twice;
		if (val[0] != '/' || strlen(val) >= PATH_MAX) {
			snprintf(err, errlen, "exe must be an absolute path: '%s'", val);
			return -1;
		}
		r->exe = strdup(val);
		if (!r->exe) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->match |= RM_EXE;
	} else if (!strcmp(key, "uid")) {
		if (r->match & RM_UID)
			goto twice;
		if (parse_u32(val, UINT32_MAX - 1, &r->uid) < 0) {
			snprintf(err, errlen, "bad uid '%s'", val);
			return -1;
		}
		r->match |= RM_UID;
	} else if (!strcmp(key, "dst")) {
		if (r->match & RM_DST)
			goto twice;
		if (parse_prefix(val, &r->family, r->addr, &r->plen) < 0) {
			snprintf(err, errlen, "bad address or prefix '%s' (ADDR or ADDR/LEN, host bits zero)", val);
			return -1;
		}
		r->match |= RM_DST;
	} else if (!strcmp(key, "port")) {
		uint32_t p;

		if (r->match & RM_PORT)
			goto twice;
		if (parse_u32(val, 65535, &p) < 0 || p == 0) {
			snprintf(err, errlen, "bad port '%s' (1-65535)", val);
			return -1;
		}
		r->port = (uint16_t)p;
		r->match |= RM_PORT;
	} else if (!strcmp(key, "proto")) {
		if (r->match & RM_PROTO)
			goto twice;
		if (!strcmp(val, "tcp"))
			r->proto = IPPROTO_TCP;
		else if (!strcmp(val, "udp"))
			r->proto = IPPROTO_UDP;
		else if (!strcmp(val, "icmp"))
			r->proto = IPPROTO_ICMP;
		else {
			snprintf(err, errlen, "bad protocol '%s' (tcp, udp or icmp)", val);
			return -1;
		}
		r->match |= RM_PROTO;
	} else if (!strcmp(key, "dir")) {
		if (r->match & RM_DIR)
			goto twice;
		if (!strcmp(val, "out"))
			r->dir = 0;
		else if (!strcmp(val, "in"))
			r->dir = 1;
		else {
			snprintf(err, errlen, "bad direction '%s' (out or in)", val);
			return -1;
		}
		r->match |= RM_DIR;
	} else if (!strcmp(key, "domain")) {
		char canon[DNS_NAME_MAX];

		if (r->match & RM_DOMAIN)
			goto twice;
		if (dns_pattern_canon(val, canon, sizeof(canon), err, errlen) < 0)
			return -1;
		r->domain = strdup(canon);
		if (!r->domain) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->match |= RM_DOMAIN;
	} else {
		snprintf(err, errlen, "unknown match '%s' (exe, uid, dst, port, proto, dir, domain)", key);
		return -1;
	}
	if ((r->match & RM_PORT) && (r->match & RM_PROTO) && r->proto == IPPROTO_ICMP) {
		snprintf(err, errlen, "port cannot be combined with proto icmp");
		return -1;
	}
	return 0;
twice:
	snprintf(err, errlen, "'%s' given twice", key);
	return -1;
}

void rule_free(struct rule *r)
{
	if (!r)
		return;
	free(r->exe);
	free(r->domain);
	free(r);
}

struct rule *rule_dup(const struct rule *r)
{
	struct rule *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *r;
	c->exe = r->exe ? strdup(r->exe) : NULL;
	c->domain = r->domain ? strdup(r->domain) : NULL;
	if ((r->exe && !c->exe) || (r->domain && !c->domain)) {
		rule_free(c);
		return NULL;
	}
	return c;
}

bool rule_needs_owner(const struct rule *r)
{
	return r->match & (RM_EXE | RM_UID);
}

bool rule_match(const struct rule *r, const struct flow_info *f)
{
	if ((r->match & RM_DIR) && r->dir != f->dir)
		return false;
	if (r->match & RM_PROTO) {
		if (r->proto == IPPROTO_ICMP) {
			if (f->key.proto != IPPROTO_ICMP && f->key.proto != IPPROTO_ICMPV6)
				return false;
		} else if (r->proto != f->key.proto) {
			return false;
		}
	}
	if ((r->match & RM_PORT) && (!f->has_ports || r->port != flow_dst_port(f)))
		return false;
	if ((r->match & RM_DST) &&
	    (r->family != f->key.family ||
	     !prefix_match(r->family, flow_dst_addr(f), r->addr, r->plen)))
		return false;
	if ((r->match & RM_UID) && (!f->owner.have_uid || f->owner.uid != r->uid))
		return false;
	if ((r->match & RM_EXE) && (!f->owner.exe || strcmp(r->exe, f->owner.exe)))
		return false;
	/* no name, no match: an address its program never resolved is
	 * matched by the other rules only */
	if ((r->match & RM_DOMAIN) && (!f->domain || !dns_pattern_match(r->domain, f->domain)))
		return false;
	return true;
}

char *rule_format(const struct rule *r)
{
	struct buf b;
	char a[INET6_ADDRSTRLEN];

	buf_init(&b);
	buf_addf(&b, "%s", action_name(r->action));
	if (r->match & RM_EXE) {
		buf_add(&b, " exe=", 5);
		pct_encode(&b, r->exe);
	}
	if (r->match & RM_UID)
		buf_addf(&b, " uid=%u", r->uid);
	if (r->match & RM_DST) {
		unsigned int max = r->family == AF_INET ? 32 : 128;

		addr_str(r->family, r->addr, a, sizeof(a));
		if (r->plen == max)
			buf_addf(&b, " dst=%s", a);
		else
			buf_addf(&b, " dst=%s/%u", a, r->plen);
	}
	if (r->match & RM_PORT)
		buf_addf(&b, " port=%u", r->port);
	if (r->match & RM_PROTO)
		buf_addf(&b, " proto=%s", r->proto == IPPROTO_TCP ? "tcp" :
			 r->proto == IPPROTO_UDP ? "udp" : "icmp");
	if (r->match & RM_DIR)
		buf_addf(&b, " dir=%s", r->dir ? "in" : "out");
	if (r->match & RM_DOMAIN) {
		buf_add(&b, " domain=", 8);
		pct_encode(&b, r->domain);
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
			snprintf(err, errlen, "'default' needs an action (allow, block, drop, ask)");
			return -1;
		}
	}
	if (action_parse(tok, &r->action) < 0) {
		snprintf(err, errlen, "unknown action '%s' (allow, block, drop, ask)", tok);
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
	free(r->exe);
	free(r->domain);
	r->exe = NULL;
	r->domain = NULL;
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

int ruleset_add(struct ruleset *rs, struct rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct rule **v;

		if (cap > 100000)
			return -ENOSPC;
		v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = r;
	return 0;
}

int ruleset_del(struct ruleset *rs, uint32_t id)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->v[i]->id == id) {
			rule_free(rs->v[i]);
			memmove(&rs->v[i], &rs->v[i + 1], (rs->n - i - 1) * sizeof(*rs->v));
			rs->n--;
			return 0;
		}
	}
	return -ENOENT;
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
		free(r.exe);
		free(r.domain);
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
