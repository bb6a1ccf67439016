// SPDX-License-Identifier: GPL-2.0
/* Module mode: PM_CMD_FLOW_NEW attribute parsing on hand-built messages. */
#include "test_common.h"
#include <arpa/inet.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "events/events.h"
#include "history/ctacct.h"
#include "intercept/kmod_msg.h"

enum { F_NO_ID = 1, F_BAD_LEN = 2, F_BAD_FAMILY = 4, F_BAD_DIR = 8, F_NO_OWNER = 16,
       F_EXE_NO_NUL = 32, F_SHORT_U64 = 64, F_V6 = 128, F_IN = 256, F_REPORT = 512,
       F_ZERO = 1024 };

static struct nl_msg *flow_msg(int flags)
{
	struct nl_msg *m = nlmsg_alloc();
	uint8_t a4[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
	uint8_t a6[16] = { 0xfd, [15] = 1 }, b6[16] = { 0xfd, [15] = 2 };
	bool v6 = flags & F_V6;
	struct nlattr *o;

	genlmsg_put(m, 0, 0, 42, 0, 0, PM_CMD_FLOW_NEW, PORTMASTER_GENL_VERSION);
	if (!(flags & F_NO_ID)) {
		if (flags & F_SHORT_U64)
			nla_put_u32(m, PM_A_FLOW_ID, 7);
		else
			nla_put_u64(m, PM_A_FLOW_ID, (flags & F_ZERO) ? 0 : 0x1122334455667788ULL);
	}
	if (flags & F_REPORT)	/* decided in the module: the mark, no id */
		nla_put_u32(m, PM_A_MARK, (flags & F_ZERO) ? 0 : PM_MARK_ACCEPT_ALWAYS);
	nla_put_u32(m, PM_A_CT_ID, 0x11223344);	/* nf_ct_get_id(), host order */
	nla_put_u8(m, PM_A_DIRECTION, (flags & F_BAD_DIR) ? 7 : (flags & F_IN) ? PM_DIR_IN : PM_DIR_OUT);
	nla_put_u8(m, PM_A_FAMILY, (flags & F_BAD_FAMILY) ? 99 : v6 ? AF_INET6 : AF_INET);
	nla_put_u8(m, PM_A_PROTOCOL, IPPROTO_TCP);
	/* F_BAD_LEN: a length that the policy allows but the family does not */
	if (flags & F_BAD_LEN)
		nla_put(m, PM_A_SRC_ADDR, v6 ? 4 : 16, a6);
	else
		nla_put(m, PM_A_SRC_ADDR, v6 ? 16 : 4, v6 ? a6 : a4);
	nla_put(m, PM_A_DST_ADDR, v6 ? 16 : 4, v6 ? b6 : b4);
	nla_put_u16(m, PM_A_SRC_PORT, 40000);
	nla_put_u16(m, PM_A_DST_PORT, 443);
	nla_put_u32(m, PM_A_IFINDEX, 3);
	if (!(flags & F_NO_OWNER)) {
		o = nla_nest_start(m, PM_A_OWNER);
		nla_put_u32(m, PM_OWNER_A_UID, 1000);
		nla_put_u32(m, PM_OWNER_A_GID, 1000);
		nla_put_u64(m, PM_OWNER_A_INODE, 123456);
		nla_put_u32(m, PM_OWNER_A_PID, 4321);
		nla_put_u32(m, PM_OWNER_A_TGID, 4320);
		nla_put_string(m, PM_OWNER_A_COMM, "curl");
		if (flags & F_EXE_NO_NUL)
			nla_put(m, PM_OWNER_A_EXE, 13, "/usr/bin/curl");
		else
			nla_put_string(m, PM_OWNER_A_EXE, "/usr/bin/curl");
		nla_nest_end(m, o);
	}
	return m;
}

static int parse(int flags, struct kmod_flow *f, char *err)
{
	struct nl_msg *m = flow_msg(flags);
	int r = kmod_parse_flow(nlmsg_hdr(m), f, err, 256);

	nlmsg_free(m);
	return r;
}

static void test_valid_v4_out(void **state)
{
	struct kmod_flow f;
	char err[256];
	uint8_t a4[4] = { 10, 0, 0, 1 };

	(void)state;
	assert_int_equal(parse(0, &f, err), 0);
	assert_int_equal(f.flow_id, 0x1122334455667788ULL);
	/* named as conntrack -L -o id names it: CTA_ID's bytes (the same
	 * host-order value) read as big-endian, as the fallback reads them */
	assert_int_equal(f.fi.ct_id, ntohl(0x11223344));
	if (htonl(1) != 1)	/* little-endian: the two orders differ */
		assert_int_equal(f.fi.ct_id, 0x44332211);
	assert_int_equal(f.fi.key.family, AF_INET);
	assert_int_equal(f.fi.dir, PM_DIR_OUT);
	assert_memory_equal(f.fi.key.laddr, a4, 4);
	assert_int_equal(f.fi.key.lport, 40000);
	assert_int_equal(f.fi.key.rport, 443);
	assert_int_equal(f.fi.ifindex, 3);
	assert_true(f.fi.owner.have_uid);
	assert_int_equal(f.fi.owner.uid, 1000);
	assert_int_equal(f.fi.owner.inode, 123456);
	assert_int_equal(f.fi.owner.pid, 4320);	/* the process, not the thread */
	assert_string_equal(f.fi.owner.comm, "curl");
	assert_string_equal(f.fi.owner.exe, "/usr/bin/curl");
	free(f.fi.owner.exe);
}

static void test_valid_v6_in_no_owner(void **state)
{
	struct kmod_flow f;
	char err[256];
	uint8_t b6[16] = { 0xfd, [15] = 2 };

	(void)state;
	assert_int_equal(parse(F_V6 | F_IN | F_NO_OWNER, &f, err), 0);
	assert_int_equal(f.fi.key.family, AF_INET6);
	assert_int_equal(f.fi.dir, PM_DIR_IN);
	/* inbound: the flow's destination is local */
	assert_memory_equal(f.fi.key.laddr, b6, 16);
	assert_int_equal(f.fi.key.lport, 443);
	assert_int_equal(f.fi.key.rport, 40000);
	assert_false(f.fi.owner.have_uid);
	assert_null(f.fi.owner.exe);
}

static void test_report(void **state)
{
	struct kmod_flow f;
	char err[256];

	(void)state;
	assert_int_equal(parse(F_NO_ID | F_REPORT, &f, err), 0);
	assert_int_equal(f.decided, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(f.flow_id, 0);
	assert_string_equal(f.fi.owner.exe, "/usr/bin/curl");
	free(f.fi.owner.exe);
	/* a question is not a report */
	assert_int_equal(parse(0, &f, err), 0);
	assert_int_equal(f.decided, 0);
	free(f.fi.owner.exe);
}

static void test_invalid(void **state)
{
	static const struct { int flags; const char *err; } bad[] = {
		{ F_NO_ID, "missing a required attribute" },
		{ F_BAD_LEN, "address length does not fit the family" },
		{ F_V6 | F_BAD_LEN, "address length does not fit the family" },
		{ F_BAD_FAMILY, "unknown family 99" },
		{ F_BAD_DIR, "unknown direction 7" },
		{ F_EXE_NO_NUL, "malformed owner attributes" },	/* libnl wants the NUL */
		{ F_SHORT_U64, "malformed attributes" },
		/* found by fuzz_kmod: read as a question with id 0 */
		{ F_NO_ID | F_REPORT | F_ZERO, "a flow id or mark of 0" },
		{ F_ZERO, "a flow id or mark of 0" },
	};
	struct kmod_flow f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		assert_int_equal(parse(bad[i].flags, &f, err), -1);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)))
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].err);
		assert_null(f.fi.owner.exe);
	}
}

static void test_truncated_message(void **state)
{
	struct nl_msg *m = flow_msg(0);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct kmod_flow f;
	char err[256];
	uint32_t full = h->nlmsg_len;

	(void)state;
	/* cut anywhere: never a crash, never a half-filled success */
	for (uint32_t len = NLMSG_HDRLEN; len < full; len += 4) {
		h->nlmsg_len = len;
		if (kmod_parse_flow(h, &f, err, sizeof(err)) == 0)
			free(f.fi.owner.exe);
	}
	h->nlmsg_len = 8;
	assert_int_equal(kmod_parse_flow(h, &f, err, sizeof(err)), -1);
	nlmsg_free(m);
}

/*
 * One conntrack entry, named by both modes: ctnetlink's CTA_ID carries
 * nf_ct_get_id() with its bytes as the host keeps them (the kernel's
 * ctnetlink_dump_id() casts it to __be32 without htonl()), conntrack(8)
 * and the fallback read them as big-endian; the module sends the same
 * value in host order.  Both must come out as the one id
 * "conntrack -L -o id" prints, or a flow's id in module mode would never
 * match conntrack's (history, pmctl monitor's "ct").
 */
static void test_ct_id_both_modes(void **state)
{
	const uint32_t kernel_id = 0x11223344;	/* nf_ct_get_id(), as flow_msg() sends it */
	char buf[512], err[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *t, *ip, *pr;
	struct ct_end e;
	struct kmod_flow f;
	struct nl_msg *m = flow_msg(0);

	(void)state;
	/* the ctnetlink destroy event, as the kernel builds it */
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	t = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(0x0a000001));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(0x0a000002));
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(40000));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(443));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
	mnl_attr_put(nlh, CTA_ID, sizeof(kernel_id), &kernel_id);	/* no htonl: as the kernel */
	assert_int_equal(ctacct_parse(nlh, nlh->nlmsg_len, &e), 0);
	/* what conntrack -L -o id prints (libnetfilter_conntrack: ntohl) */
	assert_int_equal(e.id, ntohl(kernel_id));

	/* the module's PM_CMD_FLOW_NEW for the same entry */
	assert_int_equal(kmod_parse_flow(nlmsg_hdr(m), &f, err, sizeof(err)), 0);
	nlmsg_free(m);
	free(f.fi.owner.exe);
	assert_int_equal(f.fi.ct_id, e.id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_v4_out),
		cmocka_unit_test(test_valid_v6_in_no_owner),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_truncated_message),
		cmocka_unit_test(test_ct_id_both_modes),
	};

	return RUN("kmod_msg", tests);
}
