// SPDX-License-Identifier: GPL-2.0
/*
 * make bench-report: what portmasterd spends on one report of a flow the
 * module decided by a remembered verdict (kmod_parse_flow() and
 * engine_report(), what the daemon's receive loop runs for each), counted
 * in instructions by callgrind, so that the number is the same on a busy
 * or an idle machine.  The reports are laid out as portmaster.ko lays
 * them out (kmod/netlink.c): one program, one destination, a new source
 * port and conntrack id each, batched in datagrams of about a page.
 * usage: report_bench [REPORTS]   (run by bench/report.sh under callgrind)
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "decide/engine.h"
#include "events/events.h"
#include "intercept/kmod_msg.h"

#define BATCH_BYTES 3800

static struct pm_ns ns0 = { .id = 4026531840u, .fd = -1, .diag_fd = -1 };

/* One report, as pm_nl_put_flow() writes it for a remembered UDP flow. */
static void put_report(struct nlmsghdr *nlh, unsigned int i)
{
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	uint32_t src = htonl(0x0a000001), dst = htonl(0x0a000002);
	struct nlattr *o;

	nlh->nlmsg_type = 0x20;
	g->cmd = PM_CMD_FLOW_NEW;
	g->version = PORTMASTER_GENL_VERSION;
	mnl_attr_put_u32(nlh, PM_A_MARK, PM_MARK_ACCEPT_ALWAYS);
	mnl_attr_put_u32(nlh, PM_A_CT_ID, 0x9e3779b9u * (i + 1));
	mnl_attr_put_u8(nlh, PM_A_DIRECTION, PM_DIR_OUT);
	mnl_attr_put_u8(nlh, PM_A_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, PM_A_PROTOCOL, IPPROTO_UDP);
	mnl_attr_put(nlh, PM_A_SRC_ADDR, 4, &src);
	mnl_attr_put(nlh, PM_A_DST_ADDR, 4, &dst);
	mnl_attr_put_u32(nlh, PM_A_IFINDEX, 2);
	mnl_attr_put_u16(nlh, PM_A_SRC_PORT, (uint16_t)(32768 + i % 28000));
	mnl_attr_put_u16(nlh, PM_A_DST_PORT, 5001);
	o = mnl_attr_nest_start(nlh, PM_A_OWNER);
	mnl_attr_put_u32(nlh, PM_OWNER_A_UID, 0);
	mnl_attr_put_u32(nlh, PM_OWNER_A_GID, 0);
	mnl_attr_put_u64(nlh, PM_OWNER_A_INODE, 40000 + i);
	mnl_attr_put_u64(nlh, PM_OWNER_A_CGROUP_ID, 1);
	mnl_attr_put_u32(nlh, PM_OWNER_A_PID, 300);
	mnl_attr_put_u32(nlh, PM_OWNER_A_TGID, 300);
	mnl_attr_put_u32(nlh, PM_OWNER_A_PPID, 1);
	mnl_attr_put_strz(nlh, PM_OWNER_A_COMM, "udp_bench");
	mnl_attr_put_strz(nlh, PM_OWNER_A_EXE, "/work/main/build/bin/udp_bench");
	mnl_attr_nest_end(nlh, o);
}

/* Datagrams of reports, back to back: each starts with its length. */
static char *build(unsigned int n, size_t *len)
{
	size_t cap = (size_t)n * 512 + BATCH_BYTES, off = 0;
	char *buf = calloc(1, cap);
	unsigned int i = 0;

	if (!buf)
		exit(1);
	while (i < n) {
		uint32_t *dlen = (uint32_t *)(buf + off);
		char *start = buf + off + 8;
		size_t used = 0;

		while (i < n && used + 512 < BATCH_BYTES) {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(start + used);

			put_report(nlh, i++);
			used += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		*dlen = (uint32_t)used;
		off += 8 + used;
	}
	*len = off;
	return buf;
}

/* What read_datagram() and feed_flow() do with a datagram of reports. */
__attribute__((noinline)) void run_reports(struct pmd *d, const char *buf, size_t len,
					   unsigned long *bad)
{
	for (size_t off = 0; off < len;) {
		int left = (int)*(const uint32_t *)(buf + off);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off + 8);

		off += 8 + (size_t)left;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct kmod_flow f;
			char err[256];

			if (kmod_parse_flow(nlh, &f, err, sizeof(err)) < 0) {
				++*bad;
				continue;
			}
			engine_report(d, &ns0, &f.fi, f.decided);
			owner_release(&f.fi.owner);
		}
	}
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 20000;
	unsigned long bad = 0;
	struct pmd d;
	size_t len;
	char *buf;

	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	if (flowtab_init(&d.ft) < 0)
		return 1;
	d.ns[0] = &ns0;
	d.nns = 1;
	d.def = ACT_ALLOW;
	d.no_persist = true;
	d.events = events_new();	/* as portmasterd runs: each flow kept until its end */
	if (!d.events)
		return 1;
	buf = build(n, &len);
	run_reports(&d, buf, len, &bad);
	if (bad || d.st.remembered != n) {
		fprintf(stderr, "report_bench: %lu reports refused, %llu taken of %u\n", bad,
			(unsigned long long)d.st.remembered, n);
		return 1;
	}
	printf("reports %u\n", n);
	flowtab_free(&d.ft);
	events_free(d.events);
	free(buf);
	return 0;
}
