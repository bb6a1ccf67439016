// SPDX-License-Identifier: GPL-2.0
/* Parsing the module's flow announcements (include/uapi/linux/portmaster.h). */
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "attrib/attrib.h"
#include "intercept/kmod_msg.h"

static struct nla_policy flow_policy[PM_A_MAX + 1] = {
	[PM_A_FLOW_ID] = { .type = NLA_U64 },
	[PM_A_MARK] = { .type = NLA_U32 },
	[PM_A_CT_ID] = { .type = NLA_U32 },
	[PM_A_DIRECTION] = { .type = NLA_U8 },
	[PM_A_FAMILY] = { .type = NLA_U8 },
	[PM_A_PROTOCOL] = { .type = NLA_U8 },
	[PM_A_SRC_ADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[PM_A_DST_ADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[PM_A_SRC_PORT] = { .type = NLA_U16 },
	[PM_A_DST_PORT] = { .type = NLA_U16 },
	[PM_A_ICMP_TYPE] = { .type = NLA_U8 },
	[PM_A_ICMP_CODE] = { .type = NLA_U8 },
	[PM_A_IFINDEX] = { .type = NLA_U32 },
	[PM_A_OWNER] = { .type = NLA_NESTED },
	[PM_A_AGE_MS] = { .type = NLA_U32 },
	[PM_A_HELD] = { .type = NLA_U32 },
};

static struct nla_policy owner_policy[PM_OWNER_A_MAX + 1] = {
	[PM_OWNER_A_UID] = { .type = NLA_U32 },
	[PM_OWNER_A_GID] = { .type = NLA_U32 },
	[PM_OWNER_A_INODE] = { .type = NLA_U64 },
	[PM_OWNER_A_PID] = { .type = NLA_U32 },
	[PM_OWNER_A_TGID] = { .type = NLA_U32 },
	[PM_OWNER_A_COMM] = { .type = NLA_STRING, .maxlen = 16 },
	[PM_OWNER_A_EXE] = { .type = NLA_STRING, .maxlen = PATH_MAX },
	[PM_OWNER_A_CGROUP_ID] = { .type = NLA_U64 },
	[PM_OWNER_A_PPID] = { .type = NLA_U32 },
};

/* NLA_STRING lets an attribute end without its NUL: insist on one. */
static int nul_string(struct nlattr *a, char *dst, size_t len)
{
	int n = nla_len(a);
	const char *s = nla_data(a);

	if (n < 1 || s[n - 1] != 0 || (size_t)n > len || strlen(s) != (size_t)n - 1)
		return -1;
	memcpy(dst, s, (size_t)n);
	return 0;
}

static int parse_owner(struct nlattr *nest, struct owner *o, char *err, size_t errlen)
{
	struct nlattr *tb[PM_OWNER_A_MAX + 1];
	char exe[PATH_MAX];

	if (nla_parse_nested(tb, PM_OWNER_A_MAX, nest, owner_policy) < 0) {
		snprintf(err, errlen, "malformed owner attributes");
		return -1;
	}
	if (tb[PM_OWNER_A_UID]) {
		o->uid = nla_get_u32(tb[PM_OWNER_A_UID]);
		o->have_uid = true;
	}
	if (tb[PM_OWNER_A_GID]) {
		o->gid = nla_get_u32(tb[PM_OWNER_A_GID]);
		o->have_gid = true;
	}
	if (tb[PM_OWNER_A_INODE])
		o->inode = nla_get_u64(tb[PM_OWNER_A_INODE]);
	/* The process id is the thread group id; PID is the thread. */
	if (tb[PM_OWNER_A_TGID])
		o->pid = (int32_t)nla_get_u32(tb[PM_OWNER_A_TGID]);
	else if (tb[PM_OWNER_A_PID])
		o->pid = (int32_t)nla_get_u32(tb[PM_OWNER_A_PID]);
	if (tb[PM_OWNER_A_PPID])
		o->ppid = (int32_t)nla_get_u32(tb[PM_OWNER_A_PPID]);
	if (tb[PM_OWNER_A_CGROUP_ID])
		o->cgroup_id = nla_get_u64(tb[PM_OWNER_A_CGROUP_ID]);
	if (o->pid < 0 || o->ppid < 0) {
		snprintf(err, errlen, "owner pid out of range");
		return -1;
	}
	if (tb[PM_OWNER_A_COMM] && nul_string(tb[PM_OWNER_A_COMM], o->comm, sizeof(o->comm)) < 0) {
		snprintf(err, errlen, "owner comm is not a NUL-terminated string of at most 15 bytes");
		return -1;
	}
	if (tb[PM_OWNER_A_EXE]) {
		if (nul_string(tb[PM_OWNER_A_EXE], exe, sizeof(exe)) < 0 || exe[0] != '/') {
			snprintf(err, errlen, "owner exe is not an absolute, NUL-terminated path");
			return -1;
		}
		exe_strip_deleted(exe);
		o->exe = strdup(exe);
		if (!o->exe) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

int kmod_parse_flow(const struct nlmsghdr *nlh, struct kmod_flow *f, char *err, size_t errlen)
{
	struct nlattr *tb[PM_A_MAX + 1];
	uint8_t family, dir, alen;
	const uint8_t *src, *dst;
	uint16_t sport = 0, dport = 0;

	memset(f, 0, sizeof(*f));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		snprintf(err, errlen, "message too short");
		return -1;
	}
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, PM_A_MAX, flow_policy) < 0) {
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
		f->flow_id = nla_get_u64(tb[PM_A_FLOW_ID]);
	else
		f->decided = nla_get_u32(tb[PM_A_MARK]);
	family = nla_get_u8(tb[PM_A_FAMILY]);
	dir = nla_get_u8(tb[PM_A_DIRECTION]);
	if (family != AF_INET && family != AF_INET6) {
		snprintf(err, errlen, "unknown family %u", family);
		return -1;
	}
	if (dir != PM_DIR_OUT && dir != PM_DIR_IN) {
		snprintf(err, errlen, "unknown direction %u", dir);
		return -1;
	}
	alen = family == AF_INET ? 4 : 16;
	if (nla_len(tb[PM_A_SRC_ADDR]) != alen || nla_len(tb[PM_A_DST_ADDR]) != alen) {
		snprintf(err, errlen, "address length does not fit the family");
		return -1;
	}
	src = nla_data(tb[PM_A_SRC_ADDR]);
	dst = nla_data(tb[PM_A_DST_ADDR]);
	f->fi.key.family = family;
	f->fi.key.proto = nla_get_u8(tb[PM_A_PROTOCOL]);
	f->fi.dir = dir;
	if (tb[PM_A_SRC_PORT] && tb[PM_A_DST_PORT]) {
		sport = nla_get_u16(tb[PM_A_SRC_PORT]);
		dport = nla_get_u16(tb[PM_A_DST_PORT]);
		f->fi.has_ports = true;
	}
	if (tb[PM_A_ICMP_TYPE])
		f->fi.icmp_type = nla_get_u8(tb[PM_A_ICMP_TYPE]);
	if (tb[PM_A_ICMP_CODE])
		f->fi.icmp_code = nla_get_u8(tb[PM_A_ICMP_CODE]);
	if (tb[PM_A_CT_ID])
		/* nf_ct_get_id() in host order.  ctnetlink puts those very
		 * bytes in CTA_ID, which conntrack(8), libnetfilter_conntrack
		 * and the fallback (nfq.c, ctacct.c) read as big-endian: read
		 * the same way, a module-mode flow carries the id that
		 * "conntrack -L -o id" shows and the fallback reports. */
		f->fi.ct_id = ntohl(nla_get_u32(tb[PM_A_CT_ID]));
	if (tb[PM_A_IFINDEX])
		f->fi.ifindex = nla_get_u32(tb[PM_A_IFINDEX]);
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
