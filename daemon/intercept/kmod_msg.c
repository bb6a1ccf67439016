// SPDX-License-Identifier: GPL-2.0
/* Parsing the module's flow announcements (include/uapi/linux/portmaster.h). */
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "attrib/attrib.h"
#include "intercept/kmod_msg.h"

/*
 * The payload length each attribute must have (include/uapi's types):
 * integers exactly their size, addresses 4 to 16 bytes, strings up to max
 * with their NUL.  Attributes not listed (padding, newer ones) are
 * skipped.  One pass over the message, with no allocation: libnl's
 * nla_parse() with a policy cost more than the rest of the daemon's work
 * on a reported flow (make bench-report).
 */
struct attr_len {
	uint16_t min, max;
	bool string;
};

#define U8 { 1, 1, false }
#define U16 { 2, 2, false }
#define U32 { 4, 4, false }
#define U64 { 8, 8, false }

static const struct attr_len flow_attrs[PM_A_MAX + 1] = {
	[PM_A_FLOW_ID] = U64,
	[PM_A_MARK] = U32,
	[PM_A_CT_ID] = U32,
	[PM_A_DIRECTION] = U8,
	[PM_A_FAMILY] = U8,
	[PM_A_PROTOCOL] = U8,
	[PM_A_SRC_ADDR] = { 4, 16, false },
	[PM_A_DST_ADDR] = { 4, 16, false },
	[PM_A_SRC_PORT] = U16,
	[PM_A_DST_PORT] = U16,
	[PM_A_ICMP_TYPE] = U8,
	[PM_A_ICMP_CODE] = U8,
	[PM_A_IFINDEX] = U32,
	[PM_A_OWNER] = { 0, UINT16_MAX, false },
	[PM_A_AGE_MS] = U32,
	[PM_A_HELD] = U32,
};

static const struct attr_len owner_attrs[PM_OWNER_A_MAX + 1] = {
	[PM_OWNER_A_UID] = U32,
	[PM_OWNER_A_GID] = U32,
	[PM_OWNER_A_INODE] = U64,
	[PM_OWNER_A_PID] = U32,
	[PM_OWNER_A_TGID] = U32,
	[PM_OWNER_A_COMM] = { 1, 16, true },
	[PM_OWNER_A_EXE] = { 1, PATH_MAX, true },
	[PM_OWNER_A_CGROUP_ID] = U64,
	[PM_OWNER_A_PPID] = U32,
};

/* tb[type] = the last attribute of each known type; -1 if one is malformed. */
static int walk_attrs(const void *payload, size_t len, const struct attr_len *rules,
		      unsigned int max, const struct nlattr **tb)
{
	const char *p = payload;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	/* what mnl_attr_ok() checks, without a call per attribute */
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		uint16_t type = a->nla_type & NLA_TYPE_MASK, n;
		const struct attr_len *r;
		size_t step = NLA_ALIGN(a->nla_len);

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			break;
		p += step < len ? step : len;
		len -= step < len ? step : len;
		if (type > max || !rules[type].max)
			continue;
		r = &rules[type];
		n = (uint16_t)(a->nla_len - NLA_HDRLEN);
		if (n < r->min || n > r->max)
			return -1;
		if (r->string && ((const char *)a + NLA_HDRLEN)[n - 1])
			return -1;
		tb[type] = a;
	}
	return 0;
}

static const void *payload_of(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static size_t payload_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* walk_attrs() checked each length; copies, as attributes may be unaligned */
static uint8_t get_u8(const struct nlattr *a)
{
	return *(const uint8_t *)payload_of(a);
}

static uint16_t get_u16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, payload_of(a), sizeof(v));
	return v;
}

static uint32_t get_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, payload_of(a), sizeof(v));
	return v;
}

static uint64_t get_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, payload_of(a), sizeof(v));
	return v;
}

/* A string with its NUL at the end and nowhere else, of at most len bytes. */
static const char *nul_string(const struct nlattr *a, size_t len)
{
	size_t n = payload_len(a);
	const char *s = payload_of(a);

	if (n < 1 || s[n - 1] != 0 || n > len || strlen(s) != n - 1)
		return NULL;
	return s;
}

static int parse_owner(const struct nlattr *nest, struct owner *o, char *err, size_t errlen)
{
	const struct nlattr *tb[PM_OWNER_A_MAX + 1];
	const char *s;

	if (walk_attrs(payload_of(nest), payload_len(nest), owner_attrs,
		       PM_OWNER_A_MAX, tb) < 0) {
		snprintf(err, errlen, "malformed owner attributes");
		return -1;
	}
	if (tb[PM_OWNER_A_UID]) {
		o->uid = get_u32(tb[PM_OWNER_A_UID]);
		o->have_uid = true;
	}
	if (tb[PM_OWNER_A_GID]) {
		o->gid = get_u32(tb[PM_OWNER_A_GID]);
		o->have_gid = true;
	}
	if (tb[PM_OWNER_A_INODE])
		o->inode = get_u64(tb[PM_OWNER_A_INODE]);
	/* The process id is the thread group id; PID is the thread. */
	if (tb[PM_OWNER_A_TGID])
		o->pid = (int32_t)get_u32(tb[PM_OWNER_A_TGID]);
	else if (tb[PM_OWNER_A_PID])
		o->pid = (int32_t)get_u32(tb[PM_OWNER_A_PID]);
	if (tb[PM_OWNER_A_PPID])
		o->ppid = (int32_t)get_u32(tb[PM_OWNER_A_PPID]);
	if (tb[PM_OWNER_A_CGROUP_ID])
		o->cgroup_id = get_u64(tb[PM_OWNER_A_CGROUP_ID]);
	if (o->pid < 0 || o->ppid < 0) {
		snprintf(err, errlen, "owner pid out of range");
		return -1;
	}
	if (tb[PM_OWNER_A_COMM]) {
		s = nul_string(tb[PM_OWNER_A_COMM], sizeof(o->comm));
		if (!s) {
			snprintf(err, errlen, "owner comm is not a NUL-terminated string of at most 15 bytes");
			return -1;
		}
		memcpy(o->comm, s, strlen(s) + 1);
	}
	if (tb[PM_OWNER_A_EXE]) {
		s = nul_string(tb[PM_OWNER_A_EXE], PATH_MAX);
		if (!s || s[0] != '/') {
			snprintf(err, errlen, "owner exe is not an absolute, NUL-terminated path");
			return -1;
		}
		o->exe = strdup(s);
		if (!o->exe) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		exe_strip_deleted(o->exe);
	}
	return 0;
}

int kmod_parse_flow(const struct nlmsghdr *nlh, struct kmod_flow *f, char *err, size_t errlen)
{
	const struct nlattr *tb[PM_A_MAX + 1];
	uint8_t family, dir, alen;
	const uint8_t *src, *dst;
	uint16_t sport = 0, dport = 0;

	memset(f, 0, sizeof(*f));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		snprintf(err, errlen, "message too short");
		return -1;
	}
	if (walk_attrs((const char *)nlh + NLMSG_HDRLEN + GENL_HDRLEN,
		       nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, flow_attrs, PM_A_MAX, tb) < 0) {
		snprintf(err, errlen, "malformed attributes");
		return -1;
	}
	/* A question has a flow id; a report of a flow the module decided by
	 * a remembered verdict has the mark instead. */
	if ((!tb[PM_A_FLOW_ID] && !tb[PM_A_MARK]) || !tb[PM_A_FAMILY] || !tb[PM_A_PROTOCOL] ||
	    !tb[PM_A_DIRECTION] || !tb[PM_A_SRC_ADDR] || !tb[PM_A_DST_ADDR]) {
		snprintf(err, errlen, "missing a required attribute (flow id or mark, family, protocol, direction, addresses)");
		return -1;
	}
	if (tb[PM_A_FLOW_ID])
		f->flow_id = get_u64(tb[PM_A_FLOW_ID]);
	else
		f->decided = get_u32(tb[PM_A_MARK]);
	/* the module's ids start at 1, and a report carries its verdict:
	 * a zero in either would be read as the other kind of message */
	if (!f->flow_id && !f->decided) {
		snprintf(err, errlen, "a flow id or mark of 0");
		return -1;
	}
	family = get_u8(tb[PM_A_FAMILY]);
	dir = get_u8(tb[PM_A_DIRECTION]);
	if (family != AF_INET && family != AF_INET6) {
		snprintf(err, errlen, "unknown family %u", family);
		return -1;
	}
	if (dir != PM_DIR_OUT && dir != PM_DIR_IN) {
		snprintf(err, errlen, "unknown direction %u", dir);
		return -1;
	}
	alen = family == AF_INET ? 4 : 16;
	if (payload_len(tb[PM_A_SRC_ADDR]) != alen || payload_len(tb[PM_A_DST_ADDR]) != alen) {
		snprintf(err, errlen, "address length does not fit the family");
		return -1;
	}
	src = payload_of(tb[PM_A_SRC_ADDR]);
	dst = payload_of(tb[PM_A_DST_ADDR]);
	f->fi.key.family = family;
	f->fi.key.proto = get_u8(tb[PM_A_PROTOCOL]);
	f->fi.dir = dir;
	if (tb[PM_A_SRC_PORT] && tb[PM_A_DST_PORT]) {
		sport = get_u16(tb[PM_A_SRC_PORT]);
		dport = get_u16(tb[PM_A_DST_PORT]);
		f->fi.has_ports = true;
	}
	if (tb[PM_A_ICMP_TYPE])
		f->fi.icmp_type = get_u8(tb[PM_A_ICMP_TYPE]);
	if (tb[PM_A_ICMP_CODE])
		f->fi.icmp_code = get_u8(tb[PM_A_ICMP_CODE]);
	if (tb[PM_A_CT_ID])
		/* nf_ct_get_id() in host order.  ctnetlink puts those very
		 * bytes in CTA_ID, which conntrack(8), libnetfilter_conntrack
		 * and the fallback (nfq.c, ctacct.c) read as big-endian: read
		 * the same way, a module-mode flow carries the id that
		 * "conntrack -L -o id" shows and the fallback reports. */
		f->fi.ct_id = ntohl(get_u32(tb[PM_A_CT_ID]));
	if (tb[PM_A_IFINDEX])
		f->fi.ifindex = get_u32(tb[PM_A_IFINDEX]);
	/* The addresses are the flow's, in its own direction: the local side
	 * is the source of an outbound flow and the destination of an
	 * inbound one. */
	memcpy(dir == PM_DIR_OUT ? f->fi.key.laddr : f->fi.key.raddr, src, alen);
	memcpy(dir == PM_DIR_OUT ? f->fi.key.raddr : f->fi.key.laddr, dst, alen);
	f->fi.key.lport = dir == PM_DIR_OUT ? sport : dport;
	f->fi.key.rport = dir == PM_DIR_OUT ? dport : sport;
	if ((f->fi.key.proto == IPPROTO_ICMP || f->fi.key.proto == IPPROTO_ICMPV6) &&
	    f->fi.has_ports) {
		/* echo: the identifier on both sides, as the fallback keys it */
		f->fi.key.rport = f->fi.key.lport;
	}
	/* The module does not say whether the entry is new: the engine
	 * tells connections apart by conntrack id and socket. */
	f->fi.ct_new = false;
	if (tb[PM_A_OWNER] && parse_owner(tb[PM_A_OWNER], &f->fi.owner, err, errlen) < 0) {
		owner_release(&f->fi.owner);
		return -1;
	}
	return 0;
}
