// SPDX-License-Identifier: GPL-2.0
/* Conntrack destroy events over libmnl (see ctacct.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "control/control.h"
#include "daemon.h"
#include "common/util.h"
#include "events/events.h"
#include "history/ctacct.h"
#include "intercept/ct.h"
#include "common/log.h"

#define CT_RCVBUF (4 << 20)

/*
 * Conntrack is per namespace: each watched one has its own sockets,
 * created inside it, and its own accounting switch.
 */
struct ct_ns {
	struct ctacct *c;
	uint64_t netns;			/* the namespace's inode number */
	struct mnl_socket *nl;		/* destroy events */
	struct mnl_socket *dump;	/* live traffic; NULL: none */
	bool dumping;
	uint32_t dump_seq;
};

struct ctacct {
	struct ct_ns ns[PM_MAX_NS];
	int nns;
	char *rx;
	uint64_t events, overruns;
	/* Live traffic: one round dumps every namespace's table; it ends
	 * when the last of them has answered. */
	int dumping;
	uint64_t dump_started_ms, last_round_ms;
	uint64_t dumps, dump_errors;
};

static void counters(const struct nlattr *nest, uint64_t *bytes, uint64_t *pkts)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			continue;
		if (mnl_attr_get_type(a) == CTA_COUNTERS_BYTES)
			*bytes = be64toh(mnl_attr_get_u64(a));
		else if (mnl_attr_get_type(a) == CTA_COUNTERS_PACKETS)
			*pkts = be64toh(mnl_attr_get_u64(a));
	}
}

static void tuple_ip(const struct nlattr *nest, struct ct_end *e)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case CTA_IP_V4_SRC:
		case CTA_IP_V4_DST:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				memcpy(mnl_attr_get_type(a) == CTA_IP_V4_SRC ? e->src : e->dst,
				       mnl_attr_get_payload(a), 4);
			break;
		case CTA_IP_V6_SRC:
		case CTA_IP_V6_DST:
			if (mnl_attr_validate2(a, MNL_TYPE_BINARY, 16) == 0)
				memcpy(mnl_attr_get_type(a) == CTA_IP_V6_SRC ? e->src : e->dst,
				       mnl_attr_get_payload(a), 16);
			break;
		}
	}
}

static void tuple_proto(const struct nlattr *nest, struct ct_end *e)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case CTA_PROTO_NUM:
			if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
				e->proto = mnl_attr_get_u8(a);
			break;
		case CTA_PROTO_SRC_PORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0)
				e->sport = ntohs(mnl_attr_get_u16(a));
			break;
		case CTA_PROTO_DST_PORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0)
				e->dport = ntohs(mnl_attr_get_u16(a));
			break;
		case CTA_PROTO_ICMP_ID:
		case CTA_PROTO_ICMPV6_ID:
			/* as the flow key has it: the identifier as both ports */
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0)
				e->sport = e->dport = ntohs(mnl_attr_get_u16(a));
			break;
		}
	}
}

static void tuple(const struct nlattr *nest, struct ct_end *e)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			continue;
		if (mnl_attr_get_type(a) == CTA_TUPLE_IP)
			tuple_ip(a, e);
		else if (mnl_attr_get_type(a) == CTA_TUPLE_PROTO)
			tuple_proto(a, e);
	}
}

/* A conntrack message of the given type: its id, tuple and counters. */
static int parse_ct(const void *msg, size_t len, uint8_t type, struct ct_end *e)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *a;
	bool have_tuple = false;

	memset(e, 0, sizeof(*e));
	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | type) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return -1;
	e->family = ((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				e->id = ntohl(mnl_attr_get_u32(a));
			break;
		case CTA_TUPLE_ORIG:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0) {
				tuple(a, e);
				have_tuple = true;
			}
			break;
		case CTA_COUNTERS_ORIG:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
				counters(a, &e->orig_bytes, &e->orig_pkts);
			break;
		case CTA_COUNTERS_REPLY:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
				counters(a, &e->reply_bytes, &e->reply_pkts);
			break;
		}
	}
	return have_tuple && e->proto ? 0 : -1;
}

int ctacct_parse(const void *msg, size_t len, struct ct_end *e)
{
	return parse_ct(msg, len, IPCTNL_MSG_CT_DELETE, e);
}

static void on_readable(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct ct_ns *n = arg;
	struct ctacct *c = n->c;

	(void)events;
	for (int burst = 0; burst < 64; burst++) {
		ssize_t len = recv(fd, c->rx, MNL_SOCKET_BUFFER_SIZE * 4, MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0) {
			if (errno == ENOBUFS) {
				/* Ends were lost: those flows keep no totals. */
				c->overruns++;
				continue;
			}
			break;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)c->rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			struct ct_end e;

			if (ctacct_parse(nlh, nlh->nlmsg_len, &e) < 0)
				continue;
			e.netns = n->netns;
			c->events++;
			events_ct_end(d, &e);
		}
	}
}

/* One namespace's part of the round is over (answered, or lost). */
static void dump_done(struct pmd *d, struct ct_ns *n, bool ok)
{
	struct ctacct *c = n->c;

	n->dumping = false;
	if (!ok)
		c->dump_errors++;
	if (--c->dumping > 0)
		return;
	events_sample_end(d, (uint32_t)(now_ms() - c->last_round_ms));
	c->last_round_ms = c->dump_started_ms;
}

static void on_dump(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct ct_ns *n = arg;
	struct ctacct *c = n->c;

	(void)events;
	/* Read even when no round waits (one given up, then answered):
	 * what is left unread would wake the loop again and again. */
	for (int burst = 0; burst < 64; burst++) {
		ssize_t len = recv(fd, c->rx, MNL_SOCKET_BUFFER_SIZE * 4, MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		int left;

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* Its part lost (ENOBUFS): the next round starts afresh. */
			if (n->dumping)
				dump_done(d, n, false);
			return;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)c->rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			struct ct_end e;

			if (!n->dumping || nlh->nlmsg_seq != n->dump_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
				dump_done(d, n, nlh->nlmsg_type == NLMSG_DONE);
				break;
			}
			if (parse_ct(nlh, nlh->nlmsg_len, IPCTNL_MSG_CT_NEW, &e) == 0) {
				e.netns = n->netns;
				events_sample(d, &e);
			}
		}
	}
}

void ctacct_tick(struct pmd *d, struct ctacct *c, uint64_t now)
{
	if (!c)
		return;
	/* A namespace that never finished its part (its answer lost) must
	 * not stop live traffic for good: that round is given up. */
	if (c->dumping && now - c->dump_started_ms > 5000) {
		for (int i = 0; i < c->nns; i++)
			c->ns[i].dumping = false;
		c->dumping = 0;
		c->dump_errors++;
	}
	if (c->dumping || now - c->dump_started_ms < 1000 ||
	    !control_wants(d, EV_MASK(EV_TRAFFIC)))
		return;
	/* One round a second, read as it comes in the main loop: no wait. */
	for (int i = 0; i < c->nns; i++) {
		struct ct_ns *n = &c->ns[i];

		if (!n->dump)
			continue;
		if (ct_dump_request(n->dump, ++n->dump_seq) < 0) {
			c->dump_errors++;
			continue;
		}
		n->dumping = true;
		c->dumping++;
	}
	if (!c->dumping)
		return;
	if (now - c->dump_started_ms > 3000)
		c->last_round_ms = now;	/* after a pause: this round starts the window */
	c->dump_started_ms = now;
	c->dumps++;
	events_sample_begin(d);
}

/*
 * Accounting is per namespace and applies to connections created after.
 * /proc/sys/net is the namespace of the thread that opens it: the
 * caller is inside the one to turn on.
 */
static void enable_acct(const char *proc_root, const char *who)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/sys/net/netfilter/nf_conntrack_acct", proc_root);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		pm_warn("%scannot turn on %s (%s): the history will have no byte counts",
			who, path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void ns_close(struct pmd *d, struct ct_ns *n)
{
	if (n->nl) {
		pmd_unwatch(d, mnl_socket_get_fd(n->nl));
		mnl_socket_close(n->nl);
	}
	if (n->dump) {
		pmd_unwatch(d, mnl_socket_get_fd(n->dump));
		mnl_socket_close(n->dump);
	}
	n->nl = n->dump = NULL;
}

/* The sockets of one namespace; the caller is inside it. */
static int ns_open(struct pmd *d, struct ct_ns *n, const char *proc_root,
		   const char *who, char *err, size_t errlen)
{
	int rcvbuf = CT_RCVBUF;

	enable_acct(proc_root, who);
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(n->nl, NETLINK_ADD_MEMBERSHIP,
				  &(int){ NFNLGRP_CONNTRACK_DESTROY }, sizeof(int)) < 0) {
		snprintf(err, errlen, "conntrack events: %s", strerror(errno));
		goto fail;
	}
	if (setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (pmd_watch(d, mnl_socket_get_fd(n->nl), EPOLLIN, on_readable, n) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		mnl_socket_close(n->nl);
		n->nl = NULL;
		goto fail;
	}
	/* Without it there are ends but no live traffic: not fatal. */
	n->dump = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (n->dump && (mnl_socket_bind(n->dump, 0, MNL_SOCKET_AUTOPID) < 0 ||
			pmd_watch(d, mnl_socket_get_fd(n->dump), EPOLLIN, on_dump, n) < 0)) {
		mnl_socket_close(n->dump);
		n->dump = NULL;
	}
	if (!n->dump)
		pm_warn("%sconntrack dumps: %s; no live traffic per program", who, strerror(errno));
	return 0;
fail:
	ns_close(d, n);
	return -1;
}

struct ctacct *ctacct_start(struct pmd *d, const char *proc_root, char *err, size_t errlen)
{
	struct ctacct *c = calloc(1, sizeof(*c));
	char msg[160], own[160] = "", who[80];

	if (!c || !(c->rx = malloc(MNL_SOCKET_BUFFER_SIZE * 4))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Every namespace watched (d->ns[0] is our own), each from inside. */
	for (int i = 0; i < d->nns; i++) {
		struct ct_ns *n = &c->ns[c->nns];
		int rc = pmd_enter(d, d->ns[i]);

		*n = (struct ct_ns){ .c = c, .netns = d->ns[i]->id };
		/* how its messages begin: nothing for our own */
		snprintf(who, sizeof(who), "%s%s%s", i ? "netns " : "", d->ns[i]->name, i ? ": " : "");
		if (rc < 0)
			snprintf(msg, sizeof(msg), "cannot enter it: %s", strerror(-rc));
		else if (ns_open(d, n, proc_root, who, msg, sizeof(msg)) == 0) {
			c->nns++;
			continue;
		}
		/* Not fatal: its flows are still decided, with no totals. */
		if (i == 0)
			snprintf(own, sizeof(own), "%s", msg);
		else
			pm_warn("%s%s; its flows get no byte counts or end times", who, msg);
	}
	pmd_enter(d, NULL);
	if (!c->nns) {
		snprintf(err, errlen, "%s", own[0] ? own : "no namespace to watch");
		free(c->rx);
		free(c);
		return NULL;
	}
	if (own[0])
		pm_warn("conntrack accounting: %s; our own flows get no byte counts or end times",
			own);
	return c;
}

void ctacct_stop(struct pmd *d, struct ctacct *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nns; i++)
		ns_close(d, &c->ns[i]);
	free(c->rx);
	free(c);
}

void ctacct_stats(struct ctacct *c, struct buf *rec)
{
	rec_u64(rec, "ct_ends", c ? c->events : 0);
	rec_u64(rec, "ct_end_overruns", c ? c->overruns : 0);
	rec_u64(rec, "ct_dumps", c ? c->dumps : 0);
	rec_u64(rec, "ct_dump_errors", c ? c->dump_errors : 0);
	rec_u64(rec, "ct_namespaces", c ? (uint64_t)c->nns : 0);
}
