// SPDX-License-Identifier: GPL-2.0
/* The rule criteria, one table entry per kind (see criteria.h). */
#include <ctype.h>
#include <fnmatch.h>
#include <grp.h>
#include <linux/limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "control/proto.h"
#include "decide/criteria.h"
#include "common/util.h"
#include "dns/names.h"

/* A command line is matched on its first 4 KiB (what attribution keeps). */
#define PATTERN_MAX 4096

struct crit_type {
	const char *name;
	bool needs_owner;
	int (*parse)(struct criterion *c, const char *val, char *err, size_t errlen);
	bool (*match)(const struct criterion *c, const struct flow_info *f);
	void (*format)(const struct criterion *c, struct buf *b);
	int (*from_flow)(struct criterion *c, const struct flow_info *f);
};

bool crit_is_literal(const char *p)
{
	return !strpbrk(p, "*?[\\");
}

static int set_pattern(struct criterion *c, const char *val, char *err, size_t errlen)
{
	c->v.path = strdup(val);
	if (!c->v.path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void path_format(const struct criterion *c, struct buf *b)
{
	buf_addf(b, "%s", c->v.path);
}

/* A glob that fnmatch can take: bounded, and a bracket closed (an
 * unclosed one matches itself literally, which nobody means). */
static int check_glob(const char *what, const char *val, size_t max, char *err, size_t errlen)
{
	if (!val[0] || strlen(val) >= max) {
		snprintf(err, errlen, "%s must be 1 to %zu bytes", what, max - 1);
		return -1;
	}
	for (const char *p = val; *p; p++) {
		if (*p == '\\') {
			if (!p[1]) {
				snprintf(err, errlen, "%s '%s' ends in a backslash", what, val);
				return -1;
			}
			p++;
		} else if (*p == '[' && !strchr(p + 1, ']')) {
			snprintf(err, errlen, "%s '%s' has an unclosed '['", what, val);
			return -1;
		}
	}
	return 0;
}

/* exe, parent: an absolute path, or a glob on one ("/opt/ * /bin/app"): a
 * star does not cross a slash. */
static int exe_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (val[0] != '/') {
		snprintf(err, errlen, "exe must be an absolute path or a glob on one: '%s'", val);
		return -1;
	}
	if (check_glob("exe", val, PATH_MAX, err, errlen) < 0)
		return -1;
	return set_pattern(c, val, err, errlen);
}

static bool path_glob(const char *pattern, const char *s)
{
	if (crit_is_literal(pattern))
		return !strcmp(pattern, s);
	return fnmatch(pattern, s, FNM_PATHNAME) == 0;
}

static bool exe_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.exe && path_glob(c->v.path, f->owner.exe);
}

/* A path from the flow, as a pattern that matches only it. */
static int literal_from(struct criterion *c, const char *s)
{
	struct buf b;

	if (!s || !s[0])
		return -1;
	buf_init(&b);
	for (; *s; s++) {
		if (strchr("*?[\\", *s))
			buf_add(&b, "\\", 1);
		buf_add(&b, s, 1);
	}
	if (b.oom || b.len >= PATH_MAX) {
		buf_free(&b);
		return -1;
	}
	c->v.path = b.p;
	return 0;
}

static int exe_from_flow(struct criterion *c, const struct flow_info *f)
{
	return literal_from(c, f->owner.exe);
}

/* cmdline: a glob on the whole command line (arguments joined by single
 * spaces), a star crossing slashes and spaces: "python3 * /srv/app.py*". */
static int cmdline_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (check_glob("cmdline", val, PATTERN_MAX, err, errlen) < 0)
		return -1;
	return set_pattern(c, val, err, errlen);
}

static bool cmdline_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.cmdline && fnmatch(c->v.path, f->owner.cmdline, 0) == 0;
}

/* An answer "this script" is its command line exactly; one cut off at
 * its bound is not a command line anyone can name exactly. */
static int cmdline_from_flow(struct criterion *c, const struct flow_info *f)
{
	return f->owner.cmdline_cut ? -1 : literal_from(c, f->owner.cmdline);
}

/* parent: any ancestor's executable, as captured with the flow. */
static int parent_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (val[0] != '/') {
		snprintf(err, errlen, "parent must be an absolute path or a glob on one: '%s'", val);
		return -1;
	}
	if (check_glob("parent", val, PATH_MAX, err, errlen) < 0)
		return -1;
	return set_pattern(c, val, err, errlen);
}

/* An answer "what this parent starts" names the immediate parent. */
static int parent_from_flow(struct criterion *c, const struct flow_info *f)
{
	return f->owner.ancestors ? literal_from(c, f->owner.ancestors) : -1;
}

static bool parent_match(const struct criterion *c, const struct flow_info *f)
{
	for (const char *p = f->owner.ancestors; p && *p; p += strlen(p) + 1)
		if (path_glob(c->v.path, p))
			return true;
	return false;
}

/* unit: the systemd unit of its cgroup; "sshd" means "sshd.service", as
 * systemctl has it. */
static int unit_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	char u[256];

	if (strchr(val, '/')) {
		snprintf(err, errlen, "unit '%s' is a unit name, not a path (see cgroup=)", val);
		return -1;
	}
	if (check_glob("unit", val, 200, err, errlen) < 0)
		return -1;
	if (!strchr(val, '.') && crit_is_literal(val))
		snprintf(u, sizeof(u), "%s.service", val);
	else
		snprintf(u, sizeof(u), "%s", val);
	/* The name as it is written back must read again (rules.conf). */
	if (check_glob("unit", u, 200, err, errlen) < 0)
		return -1;
	return set_pattern(c, u, err, errlen);
}

static bool unit_match(const struct criterion *c, const struct flow_info *f)
{
	char u[256];
	size_t n;
	const char *p = f->owner.cgroup ? cgroup_unit(f->owner.cgroup, &n) : NULL;

	if (!p || n >= sizeof(u))
		return false;
	memcpy(u, p, n);
	u[n] = 0;
	return fnmatch(c->v.path, u, 0) == 0;
}

static int unit_from_flow(struct criterion *c, const struct flow_info *f)
{
	char u[256];
	size_t n;
	const char *p = f->owner.cgroup ? cgroup_unit(f->owner.cgroup, &n) : NULL;

	if (!p || n >= sizeof(u))
		return -1;
	memcpy(u, p, n);
	u[n] = 0;
	return literal_from(c, u);
}

/* cgroup: a glob on the cgroup v2 path, from the root of the hierarchy
 * ("/system.slice/docker-*.scope"); a star crosses slashes.  The leading
 * slash may be left out. */
static int cgroup_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	char p[PATH_MAX];

	if (xsnprintf(p, sizeof(p), "%s%s", val[0] == '/' || val[0] == '*' ? "" : "/", val) < 0) {
		snprintf(err, errlen, "cgroup pattern too long");
		return -1;
	}
	if (check_glob("cgroup", p, PATH_MAX, err, errlen) < 0)
		return -1;
	return set_pattern(c, p, err, errlen);
}

static bool cgroup_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.cgroup && fnmatch(c->v.path, f->owner.cgroup, 0) == 0;
}

static int cgroup_from_flow(struct criterion *c, const struct flow_info *f)
{
	return literal_from(c, f->owner.cgroup);
}

/* uid (user=): the socket's owner, by number or by name. */
static int uid_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (parse_u32(val, UINT32_MAX - 1, &c->v.id) == 0)
		return 0;
	{
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (getpwnam_r(val, &pw, buf, sizeof(buf), &res) == 0 && res) {
			c->v.id = res->pw_uid;
			return 0;
		}
	}
	snprintf(err, errlen, "bad user '%s' (a uid, or a user in the password database)", val);
	return -1;
}

static bool uid_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.have_uid && f->owner.uid == c->v.id;
}

static void id_format(const struct criterion *c, struct buf *b)
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

/* gid (group=): the owning process's group (NFQUEUE's socket gid, or the
 * process's real gid). */
static int gid_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	if (parse_u32(val, UINT32_MAX - 1, &c->v.id) == 0)
		return 0;
	{
		struct group gr, *res = NULL;
		char buf[8192];

		if (getgrnam_r(val, &gr, buf, sizeof(buf), &res) == 0 && res) {
			c->v.id = res->gr_gid;
			return 0;
		}
	}
	snprintf(err, errlen, "bad group '%s' (a gid, or a group in the group database)", val);
	return -1;
}

static bool gid_match(const struct criterion *c, const struct flow_info *f)
{
	return f->owner.have_gid && f->owner.gid == c->v.id;
}

static int gid_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!f->owner.have_gid)
		return -1;
	c->v.id = f->owner.gid;
	return 0;
}

/* Addresses: a prefix, or a scope by name. */
static const char *const scope_names[] = {
	[NET_LOCALHOST] = "localhost", [NET_LAN] = "lan", [NET_INTERNET] = "internet",
	[NET_MULTICAST] = "multicast", [NET_RESOLVER] = "resolver",
};

static int addr_parse(struct criterion *c, const char *val, bool scopes, char *err, size_t errlen)
{
	for (int s = NET_LOCALHOST; scopes && s <= NET_RESOLVER; s++) {
		if (!strcmp(val, scope_names[s])) {
			c->v.net.scope = (uint8_t)s;
			return 0;
		}
	}
	if (parse_prefix(val, &c->v.net.family, c->v.net.addr, &c->v.net.plen) < 0) {
		snprintf(err, errlen, "bad address or prefix '%s' (ADDR or ADDR/LEN, host bits zero%s)",
			 val, scopes ? "; or localhost, lan, internet, multicast, resolver" : "");
		return -1;
	}
	c->v.net.scope = NET_PREFIX;
	return 0;
}

static bool addr_match(const struct criterion *c, uint8_t family, const uint8_t *addr)
{
	if (c->v.net.scope != NET_PREFIX)
		return net_scope_match((enum net_scope)c->v.net.scope, family, addr);
	return c->v.net.family == family &&
	       prefix_match(c->v.net.family, addr, c->v.net.addr, c->v.net.plen);
}

static void addr_format(const struct criterion *c, struct buf *b)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int max = c->v.net.family == AF_INET ? 32 : 128;

	if (c->v.net.scope != NET_PREFIX) {
		buf_addf(b, "%s", scope_names[c->v.net.scope]);
		return;
	}
	addr_str(c->v.net.family, c->v.net.addr, a, sizeof(a));
	if (c->v.net.plen == max)
		buf_addf(b, "%s", a);
	else
		buf_addf(b, "%s/%u", a, c->v.net.plen);
}

static int addr_from(struct criterion *c, uint8_t family, const uint8_t *addr)
{
	c->v.net.family = family;
	c->v.net.plen = family == AF_INET ? 32 : 128;
	memcpy(c->v.net.addr, addr, family == AF_INET ? 4 : 16);
	return 0;
}

/* local: our side of the flow, whichever way it was opened. */
static int local_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	return addr_parse(c, val, true, err, errlen);
}

static bool local_match(const struct criterion *c, const struct flow_info *f)
{
	return addr_match(c, f->key.family, f->key.laddr);
}

static int local_from_flow(struct criterion *c, const struct flow_info *f)
{
	return addr_from(c, f->key.family, f->key.laddr);
}

/* remote: the other side of the flow, whichever way it was opened ("ssh
 * only from my LAN": allow dir=in port=22 remote=lan). */
static bool remote_match(const struct criterion *c, const struct flow_info *f)
{
	return addr_match(c, f->key.family, f->key.raddr);
}

static int remote_from_flow(struct criterion *c, const struct flow_info *f)
{
	return addr_from(c, f->key.family, f->key.raddr);
}

/* dst: where the flow was opened to (the local side of an inbound one). */
static int dst_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	return addr_parse(c, val, false, err, errlen);
}

static bool dst_match(const struct criterion *c, const struct flow_info *f)
{
	return addr_match(c, f->key.family, flow_dst_addr(f));
}

static int dst_from_flow(struct criterion *c, const struct flow_info *f)
{
	return addr_from(c, f->key.family, flow_dst_addr(f));
}

/* port: the destination port (the local one of an inbound flow): a list
 * of ports, ranges and service names from /etc/services,
 * "80,443,8000-8100,ssh". */
static int one_port(const char *s, uint16_t *p)
{
	uint32_t v;
	bool name = true;

	if (parse_u32(s, 65535, &v) == 0) {
		if (!v)
			return -1;
		*p = (uint16_t)v;
		return 0;
	}
	for (const char *q = s; *q; q++)
		name &= isalnum((unsigned char)*q) || *q == '-' || *q == '_' || *q == '.';
	if (!name || !s[0] || strlen(s) > 64)
		return -1;
	{
		struct servent se, *res = NULL;
		char buf[1024];

		if (getservbyname_r(s, NULL, &se, buf, sizeof(buf), &res) || !res)
			return -1;
		*p = ntohs((uint16_t)res->s_port);
	}
	return *p ? 0 : -1;
}

static int port_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	struct port_range r[CRIT_MAX_PORT_RANGES];
	char copy[1024], *save = NULL, *tok;
	int n = 0;

	if (strlen(val) >= sizeof(copy) || val[0] == ',' || val[strlen(val) - 1] == ',' ||
	    strstr(val, ",,"))
		goto bad;
	snprintf(copy, sizeof(copy), "%s", val);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');

		if (n == CRIT_MAX_PORT_RANGES) {
			snprintf(err, errlen, "more than %d ports or ranges in '%.64s...'",
				 CRIT_MAX_PORT_RANGES, val);
			return -1;
		}
		/* a dash between two numbers is a range; "ftp-data" is a name */
		if (dash && dash != tok && isdigit((unsigned char)tok[0]) &&
		    isdigit((unsigned char)dash[1])) {
			*dash = 0;
			if (one_port(tok, &r[n].lo) < 0 || one_port(dash + 1, &r[n].hi) < 0 ||
			    r[n].lo > r[n].hi)
				goto bad;
		} else {
			if (one_port(tok, &r[n].lo) < 0)
				goto bad;
			r[n].hi = r[n].lo;
		}
		n++;
	}
	if (!n)
		goto bad;
	c->v.ports.r = malloc((size_t)n * sizeof(*r));
	if (!c->v.ports.r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c->v.ports.r, r, (size_t)n * sizeof(*r));
	c->v.ports.n = (uint16_t)n;
	return 0;
bad:
	snprintf(err, errlen, "bad port '%s' (1-65535, LOW-HIGH, or a service name, comma-separated)",
		 val);
	return -1;
}

static bool port_match(const struct criterion *c, const struct flow_info *f)
{
	uint16_t p;

	if (!f->has_ports || is_icmp(f->key.proto))
		return false;
	p = flow_dst_port(f);
	for (int i = 0; i < c->v.ports.n; i++)
		if (p >= c->v.ports.r[i].lo && p <= c->v.ports.r[i].hi)
			return true;
	return false;
}

static void port_format(const struct criterion *c, struct buf *b)
{
	for (int i = 0; i < c->v.ports.n; i++) {
		const struct port_range *r = &c->v.ports.r[i];

		buf_addf(b, i ? ",%u" : "%u", r->lo);
		if (r->hi != r->lo)
			buf_addf(b, "-%u", r->hi);
	}
}

static int port_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!f->has_ports || is_icmp(f->key.proto) || !flow_dst_port(f))
		return -1;
	c->v.ports.r = malloc(sizeof(*c->v.ports.r));
	if (!c->v.ports.r)
		return -1;
	c->v.ports.r[0].lo = c->v.ports.r[0].hi = flow_dst_port(f);
	c->v.ports.n = 1;
	return 0;
}

/* proto: tcp, udp, icmp (ICMP of either family), icmpv6, or a number. */
static int proto_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	uint32_t n;

	if (!strcmp(val, "tcp"))
		c->v.proto = IPPROTO_TCP;
	else if (!strcmp(val, "udp"))
		c->v.proto = IPPROTO_UDP;
	else if (!strcmp(val, "icmp"))
		c->v.proto = PROTO_ANY_ICMP;
	else if (!strcmp(val, "icmpv6"))
		c->v.proto = IPPROTO_ICMPV6;
	else if (parse_u32(val, 255, &n) == 0)
		c->v.proto = (uint16_t)n;
	else {
		snprintf(err, errlen, "bad protocol '%s' (tcp, udp, icmp, icmpv6 or 0-255)", val);
		return -1;
	}
	return 0;
}

static bool proto_match(const struct criterion *c, const struct flow_info *f)
{
	if (c->v.proto == PROTO_ANY_ICMP)
		return is_icmp(f->key.proto);
	return c->v.proto == f->key.proto;
}

static void proto_format(const struct criterion *c, struct buf *b)
{
	switch (c->v.proto) {
	case IPPROTO_TCP: buf_addf(b, "tcp"); break;
	case IPPROTO_UDP: buf_addf(b, "udp"); break;
	case PROTO_ANY_ICMP: buf_addf(b, "icmp"); break;
	case IPPROTO_ICMPV6: buf_addf(b, "icmpv6"); break;
	default: buf_addf(b, "%u", c->v.proto); break;
	}
}

static int proto_from_flow(struct criterion *c, const struct flow_info *f)
{
	c->v.proto = is_icmp(f->key.proto) ? PROTO_ANY_ICMP : f->key.proto;
	return 0;
}

/* icmp-type: by name (the same name means the ICMP or the ICMPv6 type,
 * whichever family the flow has) or by number. */
static const struct {
	const char *name;
	int16_t t4, t6;
} icmp_names[] = {
	{ "echo-reply", 0, 129 },
	{ "dest-unreachable", 3, 1 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, 137 },
	{ "echo-request", 8, 128 },
	{ "router-advertisement", 9, 134 },
	{ "router-solicitation", 10, 133 },
	{ "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 },
	{ "timestamp-request", 13, -1 },
	{ "timestamp-reply", 14, -1 },
	{ "packet-too-big", -1, 2 },
	{ "neighbor-solicitation", -1, 135 },
	{ "neighbor-advertisement", -1, 136 },
};

static int icmp_type_parse(struct criterion *c, const char *val, char *err, size_t errlen)
{
	uint32_t n;

	for (size_t i = 0; i < ARRAY_SIZE(icmp_names); i++) {
		if (!strcmp(val, icmp_names[i].name)) {
			c->v.icmp.t4 = icmp_names[i].t4;
			c->v.icmp.t6 = icmp_names[i].t6;
			return 0;
		}
	}
	if (parse_u32(val, 255, &n) == 0) {
		c->v.icmp.t4 = c->v.icmp.t6 = (int16_t)n;
		return 0;
	}
	snprintf(err, errlen, "bad icmp-type '%s' (0-255, or echo-request, echo-reply, "
		 "dest-unreachable, time-exceeded, router-advertisement, router-solicitation, "
		 "neighbor-solicitation, neighbor-advertisement, packet-too-big, ...)", val);
	return -1;
}

static bool icmp_type_match(const struct criterion *c, const struct flow_info *f)
{
	if (f->key.proto == IPPROTO_ICMP)
		return c->v.icmp.t4 == f->icmp_type;
	if (f->key.proto == IPPROTO_ICMPV6)
		return c->v.icmp.t6 == f->icmp_type;
	return false;
}

static void icmp_type_format(const struct criterion *c, struct buf *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(icmp_names); i++) {
		if (icmp_names[i].t4 == c->v.icmp.t4 && icmp_names[i].t6 == c->v.icmp.t6) {
			buf_addf(b, "%s", icmp_names[i].name);
			return;
		}
	}
	buf_addf(b, "%d", c->v.icmp.t4);
}

static int icmp_type_from_flow(struct criterion *c, const struct flow_info *f)
{
	if (!is_icmp(f->key.proto))
		return -1;
	/* the number, in this family only */
	c->v.icmp.t4 = f->key.proto == IPPROTO_ICMP ? f->icmp_type : -1;
	c->v.icmp.t6 = f->key.proto == IPPROTO_ICMPV6 ? f->icmp_type : -1;
	for (size_t i = 0; i < ARRAY_SIZE(icmp_names); i++) {
		if ((f->key.proto == IPPROTO_ICMP && icmp_names[i].t4 == f->icmp_type) ||
		    (f->key.proto == IPPROTO_ICMPV6 && icmp_names[i].t6 == f->icmp_type)) {
			c->v.icmp.t4 = icmp_names[i].t4;
			c->v.icmp.t6 = icmp_names[i].t6;
			return 0;
		}
	}
	/* a number matches that number in both families */
	c->v.icmp.t4 = c->v.icmp.t6 = f->icmp_type;
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
	return set_pattern(c, canon, err, errlen);
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
	[CRIT_EXE] = { "exe", true, exe_parse, exe_match, path_format, exe_from_flow },
	[CRIT_CMDLINE] = { "cmdline", true, cmdline_parse, cmdline_match, path_format,
			   cmdline_from_flow },
	[CRIT_PARENT] = { "parent", true, parent_parse, parent_match, path_format,
			  parent_from_flow },
	[CRIT_UNIT] = { "unit", true, unit_parse, unit_match, path_format, unit_from_flow },
	[CRIT_CGROUP] = { "cgroup", true, cgroup_parse, cgroup_match, path_format,
			  cgroup_from_flow },
	[CRIT_UID] = { "uid", true, uid_parse, uid_match, id_format, uid_from_flow },
	[CRIT_GID] = { "gid", true, gid_parse, gid_match, id_format, gid_from_flow },
	[CRIT_LOCAL] = { "local", false, local_parse, local_match, addr_format, local_from_flow },
	[CRIT_REMOTE] = { "remote", false, local_parse, remote_match, addr_format,
			  remote_from_flow },
	[CRIT_DST] = { "dst", false, dst_parse, dst_match, addr_format, dst_from_flow },
	[CRIT_PORT] = { "port", false, port_parse, port_match, port_format, port_from_flow },
	[CRIT_PROTO] = { "proto", false, proto_parse, proto_match, proto_format, proto_from_flow },
	[CRIT_ICMP_TYPE] = { "icmp-type", false, icmp_type_parse, icmp_type_match,
			     icmp_type_format, icmp_type_from_flow },
	[CRIT_DIR] = { "dir", false, dir_parse, dir_match, dir_format, dir_from_flow },
	[CRIT_DOMAIN] = { "domain", false, domain_parse, domain_match, path_format,
			  domain_from_flow },
};

int crit_kind_by_name(const char *name)
{
	if (!strcmp(name, "user"))
		return CRIT_UID;
	if (!strcmp(name, "group"))
		return CRIT_GID;
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
	return "exe, cmdline, parent, unit, cgroup, uid (user), gid (group), local, remote, "
	       "dst, port, proto, icmp-type, dir, domain";
}

int crit_parse(struct criterion *c, enum crit_kind k, const char *val, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->kind = k;
	if (!val[0]) {
		snprintf(err, errlen, "empty value for '%s'", types[k].name);
		return -1;
	}
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
	return k <= CRIT_CGROUP || k == CRIT_DOMAIN;
}

void crit_free(struct criterion *c)
{
	if (owns_string(c->kind)) {
		free(c->v.path);
		c->v.path = NULL;
	} else if (c->kind == CRIT_PORT) {
		free(c->v.ports.r);
		c->v.ports.r = NULL;
		c->v.ports.n = 0;
	}
}

int crit_copy(struct criterion *dst, const struct criterion *src)
{
	*dst = *src;
	if (owns_string(src->kind)) {
		dst->v.path = strdup(src->v.path);
		if (!dst->v.path)
			return -1;
	} else if (src->kind == CRIT_PORT) {
		size_t n = src->v.ports.n * sizeof(*src->v.ports.r);

		dst->v.ports.r = malloc(n ? n : 1);
		if (!dst->v.ports.r)
			return -1;
		memcpy(dst->v.ports.r, src->v.ports.r, n);
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
