// SPDX-License-Identifier: GPL-2.0
/* The rule criteria, one table entry per kind (see criteria.h). */
#include <linux/limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "control/proto.h"
#include "decide/criteria.h"
#include "common/util.h"
#include "dns/names.h"

struct crit_type {
	const char *name;
	bool needs_owner;
	int (*parse)(struct criterion *c, const char *val, char *err, size_t errlen);
	bool (*match)(const struct criterion *c, const struct flow_info *f);
	void (*format)(const struct criterion *c, struct buf *b);
	int (*from_flow)(struct criterion *c, const struct flow_info *f);
};

/* exe: the executable's path, exactly. */
static int exe_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (val[0] != '/' || strlen(val) >= PATH_MAX) {
		snprintf(err, errlen, "exe must be an absolute path: '%s'", val);
		return -1;
	}
	c->v.path = strdup(val);
	if (!c->v.path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static bool exe_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.exe && !strcmp(c->v.path, f->owner.exe);
}

static void exe_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%s", c->v.path);
}

static int exe_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!f->owner.exe)
		return -1;
	c->v.path = strdup(f->owner.exe);
	return c->v.path ? 0 : -1;
}

/* uid: the socket's owner. */
static int uid_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (parse_u32(val, UINT32_MAX - 1, &c->v.id) < 0) {
		snprintf(err, errlen, "bad uid '%s'", val);
		return -1;
	}
	return 0;
}

static bool uid_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.have_uid && f->owner.uid == c->v.id;
}

static void uid_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%u", c->v.id);
}

static int uid_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!f->owner.have_uid)
		return -1;
	c->v.id = f->owner.uid;
	return 0;
}

/* dst: where the flow was opened to (the local side of an inbound one). */
static int dst_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (parse_prefix(val, &c->v.net.family, c->v.net.addr, &c->v.net.plen) < 0) {
		snprintf(err, errlen, "bad address or prefix '%s' (ADDR or ADDR/LEN, host bits zero)", val);
		return -1;
	}
	return 0;
}

static bool dst_match(const struct criterion *c, const struct flow_info *f)
{
	return c->v.net.family == f->key.family &&
	       prefix_match(c->v.net.family, flow_dst_addr(f), c->v.net.addr, c->v.net.plen);
}

static void dst_format(const struct criterion *c, struct buf *b)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int max = c->v.net.family == AF_INET ? 32 : 128;

	addr_str(c->v.net.family, c->v.net.addr, a, sizeof(a));
	if (c->v.net.plen == max)
		buf_addf(b, "%s", a);
	else
		buf_addf(b, "%s/%u", a, c->v.net.plen);
}

static int dst_from_flow(struct criterion *c, const struct flow_info *f)
{
	c->v.net.family = f->key.family;
	c->v.net.plen = f->key.family == AF_INET ? 32 : 128;
	memcpy(c->v.net.addr, flow_dst_addr(f), f->key.family == AF_INET ? 4 : 16);
	return 0;
}

/* port: the destination port (the local one of an inbound flow). */
static int port_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	uint32_t p;

	if (parse_u32(val, 65535, &p) < 0 || p == 0) {
		snprintf(err, errlen, "bad port '%s' (1-65535)", val);
		return -1;
	}
	c->v.port = (uint16_t)p;
	return 0;
}

static bool port_match(const struct criterion *c, const struct flow_info *f)
{
	return f->has_ports && !is_icmp(f->key.proto) && flow_dst_port(f) == c->v.port;
}

static void port_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%u", c->v.port);
}

static int port_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!f->has_ports || is_icmp(f->key.proto) || !flow_dst_port(f))
		return -1;
	c->v.port = flow_dst_port(f);
	return 0;
}

/* proto: tcp, udp, or icmp (ICMP and ICMPv6). */
static int proto_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (!strcmp(val, "tcp"))
		c->v.proto = IPPROTO_TCP;
	else if (!strcmp(val, "udp"))
		c->v.proto = IPPROTO_UDP;
	else if (!strcmp(val, "icmp"))
		c->v.proto = IPPROTO_ICMP;
	else {
		snprintf(err, errlen, "bad protocol '%s' (tcp, udp or icmp)", val);
		return -1;
	}
	return 0;
}

static bool proto_match(const struct criterion *c, const struct flow_info *f)
{
	if (c->v.proto == IPPROTO_ICMP)
		return is_icmp(f->key.proto);
	return c->v.proto == f->key.proto;
}

static void proto_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%s", c->v.proto == IPPROTO_TCP ? "tcp" :
		 c->v.proto == IPPROTO_UDP ? "udp" : "icmp");
}

static int proto_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (is_icmp(f->key.proto))
		c->v.proto = IPPROTO_ICMP;
	else if (f->key.proto == IPPROTO_TCP || f->key.proto == IPPROTO_UDP)
		c->v.proto = f->key.proto;
	else
		return -1;
	return 0;
}

/* dir: out or in. */
static int dir_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (!strcmp(val, "out"))
		c->v.dir = 0;
	else if (!strcmp(val, "in"))
		c->v.dir = 1;
	else {
		snprintf(err, errlen, "bad direction '%s' (out or in)", val);
		return -1;
	}
	return 0;
}

static bool dir_match(const struct criterion *c, const struct flow_info *f)
{
	return c->v.dir == f->dir;
}

static void dir_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%s", c->v.dir ? "in" : "out");
}

static int dir_from_flow(struct criterion *c, const struct flow_info *f)
{
	c->v.dir = f->dir;
	return 0;
}

/* domain: the name its program resolved for the destination (dns/), as a
 * pattern; no name, no match: an address its program never resolved is
 * matched by the other criteria only. */
static int domain_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	char canon[DNS_NAME_MAX];

	if (dns_pattern_canon(val, canon, sizeof(canon), err, errlen) < 0)
		return -1;
	c->v.path = strdup(canon);
	if (!c->v.path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static bool domain_match(const struct criterion *c, const struct flow_info *f)
{
	return f->domain && dns_pattern_match(c->v.path, f->domain);
}

static int domain_from_flow(struct criterion *c, const struct flow_info *f)
{
	char canon[DNS_NAME_MAX];

	/* the name exactly, as a pattern that matches only it */
	if (!f->domain || dns_name_canon(f->domain, canon, sizeof(canon)) < 0)
		return -1;
	c->v.path = strdup(canon);
	return c->v.path ? 0 : -1;
}

static const struct crit_type types[CRIT__COUNT] = {
	[CRIT_EXE] = { "exe", true, exe_parse, exe_match, exe_format, exe_from_flow },
	[CRIT_UID] = { "uid", true, uid_parse, uid_match, uid_format, uid_from_flow },
	[CRIT_DST] = { "dst", false, dst_parse, dst_match, dst_format, dst_from_flow },
	[CRIT_PORT] = { "port", false, port_parse, port_match, port_format, port_from_flow },
	[CRIT_PROTO] = { "proto", false, proto_parse, proto_match, proto_format, proto_from_flow },
	[CRIT_DIR] = { "dir", false, dir_parse, dir_match, dir_format, dir_from_flow },
	[CRIT_DOMAIN] = { "domain", false, domain_parse, domain_match, exe_format,
			  domain_from_flow },
};

int crit_kind_by_name(const char *name)
{
	for (int k = 0; k < CRIT__COUNT; k++)
		if (!strcmp(types[k].name, name))
			return k;
	return -1;
}

const char *crit_name(enum crit_kind k)
{
	return (unsigned int)k < CRIT__COUNT ? types[k].name : "?";
}

const char *crit_names(void)
{
	return "exe, uid, dst, port, proto, dir, domain";
}

int crit_parse(struct criterion *c, enum crit_kind k, const char *val, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->kind = k;
	return types[k].parse(c, val, err, errlen);
}

bool crit_match(const struct criterion *c, const struct flow_info *f)
{
	return types[c->kind].match(c, f);
}

void crit_format(const struct criterion *c, struct buf *b)
{
	types[c->kind].format(c, b);
}

int crit_from_flow(struct criterion *c, enum crit_kind k, const struct flow_info *f)
{
	memset(c, 0, sizeof(*c));
	c->kind = k;
	return types[k].from_flow(c, f);
}

bool crit_needs_owner(enum crit_kind k)
{
	return types[k].needs_owner;
}

static bool owns_string(enum crit_kind k)
{
	return k == CRIT_EXE || k == CRIT_DOMAIN;
}

void crit_free(struct criterion *c)
{
	if (owns_string(c->kind)) {
		free(c->v.path);
		c->v.path = NULL;
	}
}

int crit_copy(struct criterion *dst, const struct criterion *src)
{
	*dst = *src;
	if (owns_string(src->kind)) {
		dst->v.path = strdup(src->v.path);
		if (!dst->v.path)
			return -1;
	}
	return 0;
}

bool crit_equal(const struct criterion *a, const struct criterion *b)
{
	struct buf x, y;
	bool eq;

	if (a->kind != b->kind)
		return false;
	buf_init(&x);
	buf_init(&y);
	crit_format(a, &x);
	crit_format(b, &y);
	eq = !x.oom && !y.oom && x.len == y.len && !memcmp(x.p, y.p, x.len);
	buf_free(&x);
	buf_free(&y);
	return eq;
}
