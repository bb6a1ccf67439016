// SPDX-License-Identifier: GPL-2.0
/* Clearing verdict marks with ctnetlink: messages parsed and built by
 * libnetfilter_conntrack, sent over libmnl sockets (see ct.h). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include "daemon.h"
#include "intercept/ct.h"
#include "common/log.h"
#include "common/util.h"

#define RX_SIZE (64 * 1024)
#define BATCH_SIZE (64 * 1024)

struct ct_reset {
	struct mnl_socket *dump;	/* the dump: requests and its parts */
	struct mnl_socket *upd;		/* updates, sent without waiting */
	uint32_t dump_portid, seq;
	bool busy, again;
	uint64_t started_ms, last_ms;	/* the pass running, the last one's length */
	char *rx, *batch;
	size_t blen;
	uint64_t cleared, passes, errors;
};

static void on_dump(struct pmd *d, int fd, uint32_t events, void *arg);
static void on_upd(struct pmd *d, int fd, uint32_t events, void *arg);

struct ct_reset *ct_reset_open(struct pmd *d, char *err, size_t errlen)
{
	struct ct_reset *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c)
		goto nomem;
	c->rx = malloc(RX_SIZE);
	c->batch = malloc(BATCH_SIZE);
	if (!c->rx || !c->batch)
		goto nomem;
	c->dump = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	c->upd = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!c->dump || !c->upd || mnl_socket_bind(c->dump, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(c->upd, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "ctnetlink socket: %s", strerror(errno));
		ct_reset_close(d, c);
		return NULL;
	}
	/* errors of updates only need their count, not our request back */
	mnl_socket_setsockopt(c->upd, NETLINK_CAP_ACK, &one, sizeof(one));
	c->dump_portid = mnl_socket_get_portid(c->dump);
	c->seq = (uint32_t)time(NULL);
	if (pmd_watch(d, mnl_socket_get_fd(c->dump), EPOLLIN, on_dump, c) < 0 ||
	    pmd_watch(d, mnl_socket_get_fd(c->upd), EPOLLIN, on_upd, c) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		ct_reset_close(d, c);
		return NULL;
	}
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
	ct_reset_close(d, c);
	return NULL;
}

void ct_reset_close(struct pmd *d, struct ct_reset *c)
{
	if (!c)
		return;
	if (c->dump) {
		pmd_unwatch(d, mnl_socket_get_fd(c->dump));
		mnl_socket_close(c->dump);
	}
	if (c->upd) {
		pmd_unwatch(d, mnl_socket_get_fd(c->upd));
		mnl_socket_close(c->upd);
	}
	free(c->rx);
	free(c->batch);
	free(c);
}

int ct_dump_request(struct mnl_socket *nl, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

int ct_reset_start(struct ct_reset *c)
{
	int r;

	if (c->busy) {
		c->again = true;
		return 0;
	}
	r = ct_dump_request(c->dump, ++c->seq);
	if (r < 0) {
		pm_warn("conntrack dump: %s", strerror(-r));
		return r;
	}
	c->busy = true;
	c->started_ms = now_ms();
	return 0;
}

bool ct_reset_busy(const struct ct_reset *c)
{
	return c && c->busy;
}

uint64_t ct_reset_cleared(const struct ct_reset *c)
{
	return c ? c->cleared : 0;
}

uint64_t ct_reset_passes(const struct ct_reset *c)
{
	return c ? c->passes : 0;
}

uint64_t ct_reset_last_ms(const struct ct_reset *c)
{
	return c ? c->last_ms : 0;
}

static void send_batch(struct ct_reset *c)
{
	if (!c->blen)
		return;
	if (mnl_socket_sendto(c->upd, c->batch, c->blen) < 0)
		c->errors++;
	c->blen = 0;
}

/* An update that names the entry by its original tuple (and zone) and
 * clears its mark. */
static void put_clear(struct ct_reset *c, const struct nf_conntrack *ct, uint8_t family)
{
	struct nf_conntrack *clear = nfct_new();
	struct nlmsghdr *u;
	struct nfgenmsg *g;

	if (!clear)
		return;
	nfct_copy(clear, ct, NFCT_CP_ORIG);
	if (nfct_attr_is_set(ct, ATTR_ZONE))
		nfct_set_attr_u16(clear, ATTR_ZONE, nfct_get_attr_u16(ct, ATTR_ZONE));
	nfct_set_attr_u32(clear, ATTR_MARK, 0);
	u = mnl_nlmsg_put_header(c->batch + c->blen);
	u->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	u->nlmsg_flags = NLM_F_REQUEST;
	u->nlmsg_seq = ++c->seq;
	g = mnl_nlmsg_put_extra_header(u, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	if (nfct_nlmsg_build(u, clear) == 0) {
		c->blen += u->nlmsg_len;
		c->cleared++;
	}
	nfct_destroy(clear);
}

/* One entry of the dump: with a kept verdict, its mark is cleared. */
static int on_entry(const struct nlmsghdr *nlh, void *data)
{
	struct ct_reset *c = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct nf_conntrack *ct = nfct_new();
	uint32_t mark;

	if (!ct)
		return MNL_CB_OK;
	if (nfct_nlmsg_parse(nlh, ct) == 0 && nfct_attr_is_set(ct, ATTR_MARK)) {
		mark = nfct_get_attr_u32(ct, ATTR_MARK);
		if (mark >= PM_MARK_ACCEPT_ALWAYS && mark <= PM_MARK_REROUTE_DNS) {
			if (c->blen + 512 > BATCH_SIZE)
				send_batch(c);
			put_clear(c, ct, g->nfgen_family);
		}
	}
	nfct_destroy(ct);
	return MNL_CB_OK;
}

static void finish(struct ct_reset *c)
{
	send_batch(c);
	c->busy = false;
	c->passes++;
	c->last_ms = now_ms() - c->started_ms;
	if (c->again) {
		c->again = false;
		ct_reset_start(c);
	}
}

/* One receive of the dump per call: the loop serves verdicts between. */
static void on_dump(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct ct_reset *c = arg;
	ssize_t n = recv(fd, c->rx, RX_SIZE, MSG_DONTWAIT);
	int r;

	(void)d;
	(void)events;
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* ENOBUFS and the like: the dump is broken; start it over */
		pm_warn("conntrack dump: %s; starting over", strerror(errno));
		c->busy = false;
		ct_reset_start(c);
		return;
	}
	r = mnl_cb_run(c->rx, (size_t)n, 0, c->dump_portid, on_entry, c);
	send_batch(c);
	if (r == MNL_CB_STOP || (r < 0 && c->busy)) {
		if (r < 0)
			pm_warn("conntrack dump: %s", strerror(errno));
		finish(c);
	}
}

/* Errors of updates: entries gone meanwhile (ENOENT), which is as good. */
static void on_upd(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct ct_reset *c = arg;

	(void)d;
	(void)events;
	while (recv(fd, c->rx, RX_SIZE, MSG_DONTWAIT) > 0)
		;
}
