// SPDX-License-Identifier: GPL-2.0
/*
 * Module mode: portmaster.ko holds the packets of undecided flows and
 * announces each with PM_CMD_FLOW_NEW; we answer PM_CMD_VERDICT with a
 * mark from the same engine as the fallback.  Two sockets: the listener
 * (registered, receives events, sends verdicts without waiting) and a
 * command socket for the synchronous requests (stats, reset), so that a
 * reply is never mixed up with an event.  One pair per watched namespace:
 * the module keeps a listener, flows and settings per namespace.
 *
 * At start it tells the module its settings (verdict timeout, fail
 * policy, where the reroutes go) and removes fallback rules that an
 * earlier crash left behind; the module does the reroutes itself, so no
 * NAT ruleset is needed (a module too old for that gets the fallback's
 * DNAT rules instead).  Events lost to a full receive buffer are
 * recovered with a PM_CMD_GET_FLOWS dump of the pending flows.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/portmaster.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "attrib/attrib.h"
#include "intercept/backend.h"
#include "intercept/iptables.h"
#include "daemon.h"
#include "intercept/kmod_msg.h"
#include "common/log.h"
#include "common/util.h"

/* How often the listener tells the module it is alive (see tick). */
#define KMOD_KEEPALIVE_MS 2000

/* The sequence number of the request awaited on the command socket. */
struct cmd_seq {
	uint32_t seq;
};

struct kmod {
	struct nl_sock *ev, *cmd;
	int family;
	bool registered;
	bool lost;		/* events were lost: recover from a dump */
	bool nat_rules;		/* the module does not reroute: iptables does */
	enum ipt_backend ipt;
	uint64_t keepalive_ms;
	uint64_t overruns, bad_events, verdict_errors, recovered;
	struct pmd *d;
	struct pm_ns *ns;
	struct cmd_seq cmd_seq;	/* the request awaited on cmd */
	uint32_t vseq;
	size_t vlen;
	char vbuf[64 * 1024];	/* verdicts queued until the burst ends */
	char rbuf[64 * 1024];	/* a datagram of events, read in place */
};

static struct nl_sock *genl_socket(int *family, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (genl_connect(sk) < 0) {
		snprintf(err, errlen, "generic netlink: cannot connect");
		nl_socket_free(sk);
		return NULL;
	}
	/* Resolving the family loads the module when it is installed
	 * (MODULE_ALIAS_GENL_FAMILY). */
	*family = genl_ctrl_resolve(sk, PORTMASTER_GENL_NAME);
	if (*family < 0) {
		snprintf(err, errlen, "generic netlink family '%s' not found (module not loaded)",
			 PORTMASTER_GENL_NAME);
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int kmod_available(void)
{
	char err[128];
	int family;
	struct nl_sock *sk = genl_socket(&family, err, sizeof(err));

	if (!sk)
		return 0;
	nl_socket_free(sk);
	return 1;
}

/*
 * The command socket is used request by request, each answer awaited for
 * at most a second.  Only the answer to the request just sent counts: one
 * that came too late for an earlier request, or libnl's own idea of the
 * next sequence number (it counts a reply without an ACK as nothing), must
 * not make the next request fail.  Whatever waits is dropped first.
 */
static int cmd_seq_check(struct nl_msg *msg, void *arg)
{
	const struct cmd_seq *s = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == s->seq ? NL_OK : NL_SKIP;
}

static int cmd_send(struct nl_sock *sk, struct nl_msg *m, struct cmd_seq *s)
{
	char junk[4096];
	int r;

	while (recv(nl_socket_get_fd(sk), junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	r = nl_send_auto(sk, m);
	if (r >= 0)
		s->seq = nlmsg_hdr(m)->nlmsg_seq;
	return r;
}

static struct nl_msg *new_msg(int family, uint8_t cmd, int flags)
{
	/* small: nlmsg_alloc() would clear a page for every message */
	struct nl_msg *m = nlmsg_alloc_size(512);

	if (m && !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
			      PORTMASTER_GENL_VERSION)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* Sends a command without attributes and waits for its acknowledgement. */
static int simple_cmd(struct nl_sock *sk, int family, uint8_t cmd)
{
	struct nl_msg *m = new_msg(family, cmd, NLM_F_ACK);
	int r;

	if (!m)
		return -NLE_NOMEM;
	r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r < 0)
		return r;
	return nl_wait_for_ack(sk);
}

/*
 * The module's settings for this namespace, from portmasterd.conf.  The
 * module resolves a flow nobody answered by its fail policy after its own
 * timeout; a prompt must end by our prompt_fallback first, so the module
 * is told to wait longer than a prompt does.
 */
static int put_reroute(struct nl_msg *m, int type, const struct endpoint *v4,
		       const struct endpoint *v6)
{
	struct nlattr *nest = nla_nest_start(m, type);
	uint16_t port = 0;

	if (!nest)
		return -1;
	if (v4 && v4->set) {
		if (nla_put(m, PM_REROUTE_A_ADDR4, 4, v4->addr) < 0)
			return -1;
		port = v4->port;
	}
	if (v6 && v6->set) {
		if (nla_put(m, PM_REROUTE_A_ADDR6, 16, v6->addr) < 0)
			return -1;
		port = port ? port : v6->port;
	}
	/* one port for both families: they are the same service */
	if (port && nla_put_u16(m, PM_REROUTE_A_PORT, port) < 0)
		return -1;
	nla_nest_end(m, nest);
	return 0;
}

static int set_config(struct kmod *k, bool reroutes)
{
	const struct config *c = &k->d->cfg;
	uint64_t ms = ((uint64_t)c->prompt_timeout_s + 5) * 1000;
	struct nl_msg *m = new_msg(k->family, PM_CMD_SET_CONFIG, NLM_F_ACK);
	struct nlattr *nest;
	int r;

	if (!m)
		return -NLE_NOMEM;
	if (ms > PM_TIMEOUT_MS_MAX)
		ms = PM_TIMEOUT_MS_MAX;
	nest = nla_nest_start(m, PM_A_CONFIG);
	if (!nest || nla_put_u32(m, PM_CONFIG_A_TIMEOUT_MS, (uint32_t)ms) < 0 ||
	    (c->fail_policy != FAIL_UNSET &&
	     nla_put_u8(m, PM_CONFIG_A_FAIL_POLICY,
			c->fail_policy == FAIL_OPEN ? PM_FAIL_OPEN : PM_FAIL_CLOSED) < 0) ||
	    (reroutes &&
	     (put_reroute(m, PM_CONFIG_A_REROUTE_DNS,
			  c->reroute_dns ? &c->nameserver : NULL,
			  c->reroute_dns ? &c->nameserver6 : NULL) < 0 ||
	      put_reroute(m, PM_CONFIG_A_REROUTE_TUNNEL, &c->tunnel, &c->tunnel6) < 0))) {
		nlmsg_free(m);
		return -NLE_NOMEM;
	}
	nla_nest_end(m, nest);
	r = cmd_send(k->cmd, m, &k->cmd_seq);
	nlmsg_free(m);
	return r < 0 ? r : nl_wait_for_ack(k->cmd);
}

static bool wants_reroute(const struct config *c)
{
	return (c->reroute_dns && (c->nameserver.set || c->nameserver6.set)) ||
	       c->tunnel.set || c->tunnel6.set;
}

/* Settings first; a module that refuses the reroutes (one older than
 * them) still gets the rest, and the reroutes go to iptables. */
static int configure(struct kmod *k, char *err, size_t errlen)
{
	const struct config *c = &k->d->cfg;
	bool v6;
	int r = set_config(k, true);

	if (r == -NLE_INVAL || r == -NLE_RANGE || r == -NLE_OPNOTSUPP) {
		r = set_config(k, false);
		if (r >= 0 && wants_reroute(c)) {
			pm_warn("module: no in-kernel reroutes; installing the DNAT rules for 1799/1717");
			if (ipt_resolve_backend(c->iptables, &k->ipt, err, errlen) < 0 ||
			    ipt_install(k->ipt, c, true, &v6, err, errlen) < 0)
				return -1;
			k->nat_rules = true;
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "PM_CMD_SET_CONFIG: %s", nl_geterror(r));
		return -1;
	}
	/* 1799 now takes stray DNS to the nameserver (the resolver's, when
	 * it runs), by the module or by the DNAT rules */
	if (k->ns == k->d->ns[0])
		k->d->kmod_reroutes_dns = c->reroute_dns &&
					  (c->nameserver.set || c->nameserver6.set);
	return 0;
}

static int feed_flow(struct kmod *k, struct nlmsghdr *nlh, bool dump)
{
	struct kmod_flow f;
	char err[256];

	if (kmod_parse_flow(nlh, &f, err, sizeof(err)) < 0) {
		/* Without a flow id there is nothing to answer; the module's
		 * timeout applies its fail policy. */
		k->bad_events++;
		pm_warn("module %s ignored: %s", dump ? "flow" : "event", err);
		return -1;
	}
	if (dump && (f.decided || engine_is_pending(k->d, k->ns, f.flow_id))) {
		owner_release(&f.fi.owner);
		return 0;
	}
	if (dump)
		k->recovered++;
	if (f.decided)
		engine_report(k->d, k->ns, &f.fi, f.decided);
	else
		engine_packet(k->d, k->ns, &f.fi, true, 0, f.flow_id, NULL, 0);
	owner_release(&f.fi.owner);
	return 0;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct kmod *k = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);

	if (g->cmd == PM_CMD_FLOW_NEW)
		feed_flow(k, nlh, false);
	return NL_OK;
}

static int on_dumped_flow(struct nl_msg *msg, void *arg)
{
	feed_flow(arg, nlmsg_hdr(msg), true);
	return NL_OK;
}

/*
 * Events lost to a full receive buffer left their flows pending in the
 * module (until its timeout).  The dump lists every pending flow; those
 * we do not hold yet are decided as if announced.
 */
static void recover(struct kmod *k)
{
	struct nl_msg *m = new_msg(k->family, PM_CMD_GET_FLOWS, NLM_F_DUMP);
	uint64_t before = k->recovered;
	int r;

	k->lost = false;
	if (!m)
		return;
	r = cmd_send(k->cmd, m, &k->cmd_seq);
	nlmsg_free(m);
	if (r < 0)
		return;
	nl_socket_modify_cb(k->cmd, NL_CB_VALID, NL_CB_CUSTOM, on_dumped_flow, k);
	r = nl_recvmsgs_default(k->cmd);
	if (r < 0)
		pm_warn("module: recovering lost events: %s", nl_geterror(r));
	k->d->st.recovered += k->recovered - before;
	if (k->recovered > before)
		pm_info("module: recovered %llu flows whose events were lost",
			(unsigned long long)(k->recovered - before));
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct kmod *k = arg;

	(void)nla;
	/* ENOENT: the flow timed out in the kernel before our answer. */
	k->verdict_errors++;
	pm_debug("module refused a request: %s", strerror(-e->error));
	return NL_SKIP;
}

static void kmod_flush(struct pmd *d, struct pm_ns *ns);

/*
 * One datagram from the module: a batch of reports, an event, or the
 * error of a verdict.  Walked in place: libnl's receive loop copies each
 * message into an allocation of its own and costs a remembered flow more
 * than all the rest of the daemon's work on it.  Return: whether a
 * datagram was read.
 */
static bool read_datagram(struct pmd *d, struct kmod *k, int fd)
{
	struct sockaddr_nl from;
	socklen_t fromlen = sizeof(from);
	struct nlmsghdr *nlh;
	ssize_t n;
	int left;

	n = recvfrom(fd, k->rbuf, sizeof(k->rbuf), MSG_DONTWAIT | MSG_TRUNC,
		     (struct sockaddr *)&from, &fromlen);
	if (n < 0) {
		if (errno == ENOBUFS) {
			/* Our receive buffer overran: events were lost; their
			 * flows wait in the module until we fetch them. */
			k->overruns++;
			d->st.overruns++;
			k->lost = true;
			return true;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			pm_warn("module socket: %s", strerror(errno));
		return false;
	}
	if (from.nl_pid != 0) {	/* only the kernel speaks for the module */
		k->bad_events++;
		return true;
	}
	if ((size_t)n > sizeof(k->rbuf)) {
		k->bad_events++;
		pm_warn("module: a message of %zd bytes ignored (more than %zu)", n,
			sizeof(k->rbuf));
		return true;
	}
	left = (int)n;
	for (nlh = (struct nlmsghdr *)k->rbuf; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = nlmsg_data(nlh);

			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				on_error(NULL, (struct nlmsgerr *)e, k);
		} else if (nlh->nlmsg_type == k->family &&
			   nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN &&
			   ((struct genlmsghdr *)nlmsg_data(nlh))->cmd == PM_CMD_FLOW_NEW) {
			feed_flow(k, nlh, false);
		}
	}
	return true;
}

static void on_readable(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct kmod *k = arg;

	(void)events;
	for (int i = 0; i < 64 && read_datagram(d, k, fd); i++)
		;
	/* The verdicts of the burst go out before the dump is read. */
	kmod_flush(d, k->ns);
	if (k->lost) {
		pm_warn("module events lost (receive buffer overrun): fetching the pending flows");
		recover(k);
		kmod_flush(d, k->ns);
	}
}

/*
 * Verdicts are queued and sent together, one sendmsg per burst of events
 * (the module takes several messages in one), written by hand: a message
 * allocated through libnl for each would cost more than the rest.
 */
static void put_attr(struct kmod *k, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(k->vbuf + k->vlen);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	k->vlen += NLA_ALIGN(a->nla_len);
}

static void kmod_flush(struct pmd *d, struct pm_ns *ns)
{
	struct kmod *k = ns->be;

	(void)d;
	if (!k || !k->vlen)
		return;
	if (send(nl_socket_get_fd(k->ev), k->vbuf, k->vlen, 0) < 0) {
		k->verdict_errors++;
		pm_warn("module: sending verdicts: %s", strerror(errno));
	}
	k->vlen = 0;
}

static int queue_verdict(struct kmod *k, struct pm_ns *ns, uint64_t id, uint32_t mark,
			 uint32_t remember_ms)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	size_t start;

	if (k->vlen + 128 > sizeof(k->vbuf))
		kmod_flush(k->d, ns);
	start = k->vlen;
	nlh = (struct nlmsghdr *)(k->vbuf + start);
	nlh->nlmsg_type = (uint16_t)k->family;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++k->vseq;
	nlh->nlmsg_pid = 0;
	g = (struct genlmsghdr *)(k->vbuf + start + NLMSG_HDRLEN);
	g->cmd = PM_CMD_VERDICT;
	g->version = PORTMASTER_GENL_VERSION;
	g->reserved = 0;
	k->vlen += NLMSG_HDRLEN + GENL_HDRLEN;
	put_attr(k, PM_A_FLOW_ID, &id, sizeof(id));
	put_attr(k, PM_A_MARK, &mark, sizeof(mark));
	if (remember_ms)
		put_attr(k, PM_A_REMEMBER_MS, &remember_ms, sizeof(remember_ms));
	nlh->nlmsg_len = (uint32_t)(k->vlen - start);
	return 0;
}

static int kmod_verdict(struct pmd *d, struct pm_ns *ns, uint16_t q, uint64_t id,
			uint32_t mark)
{
	(void)d;
	(void)q;
	return queue_verdict(ns->be, ns, id, mark, 0);
}

static int kmod_verdict_remember(struct pmd *d, struct pm_ns *ns, uint64_t id, uint32_t mark,
				 uint32_t ms)
{
	(void)d;
	if (ms > PM_REMEMBER_MS_MAX)
		ms = PM_REMEMBER_MS_MAX;
	return queue_verdict(ns->be, ns, id, mark, ms ? ms : 1);
}

static void kmod_stop(struct pmd *d, struct pm_ns *ns)
{
	struct kmod *k = ns->be;

	if (!k)
		return;
	kmod_flush(d, ns);
	if (k->nat_rules) {
		char err[512];

		if (ipt_remove(k->ipt, err, sizeof(err)) < 0)
			pm_err("removing the DNAT rules: %s", err);
	}
	if (k->ev) {
		pmd_unwatch(d, nl_socket_get_fd(k->ev));
		if (k->registered) {
			int fd = nl_socket_get_fd(k->ev);

			/* The goodbye must come from the listener socket itself;
			 * wait for its answer, ignoring events still queued. */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			nl_socket_modify_cb(k->ev, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
			if (simple_cmd(k->ev, k->family, PM_CMD_UNREGISTER) < 0)
				pm_warn("module: unregister failed; it treats us as a lost listener");
			else
				pm_info("unregistered from portmaster.ko");
		}
		nl_socket_free(k->ev);
	}
	if (k->cmd)
		nl_socket_free(k->cmd);
	free(k);
	ns->be = NULL;
}

static int kmod_start(struct pmd *d, struct pm_ns *ns, char *err, size_t errlen)
{
	struct kmod *k = calloc(1, sizeof(*k));
	int r, fam2;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ns->be = k;
	k->d = d;
	k->ns = ns;
	/* An earlier run in the fallback, killed, may have left its rules:
	 * with nobody reading their queues they would drop new flows. */
	ipt_remove_stale(ipt_have_ipv6());
	k->ev = genl_socket(&k->family, err, errlen);
	if (!k->ev)
		goto fail;
	k->cmd = genl_socket(&fam2, err, errlen);
	if (!k->cmd)
		goto fail;
	{
		/* stats and reset are asked from the event loop: a module that
		 * does not answer must not stall it */
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(nl_socket_get_fd(k->cmd), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		nl_socket_modify_cb(k->cmd, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, cmd_seq_check,
				    &k->cmd_seq);
	}
	/* A large buffer so that bursts of new flows fit; ENOBUFS stays on
	 * (no NETLINK_NO_ENOBUFS) so that we learn of an overrun. */
	nl_socket_set_buffer_size(k->ev, (int)d->cfg.event_buffer, 0);
	/* one recvmsg for many events, without peeking first */
	nl_socket_disable_msg_peek(k->ev);
	nl_socket_set_msg_buf_size(k->ev, 64 << 10);
	/* The module announces flows from the moment it has registered us,
	 * before its ACK: under traffic, events come ahead of the ACK.  They
	 * are taken as events (their verdicts go with the first flush), not
	 * as a sequence mismatch that would fail the start. */
	nl_socket_disable_seq_check(k->ev);
	nl_socket_modify_cb(k->ev, NL_CB_VALID, NL_CB_CUSTOM, on_event, k);
	r = simple_cmd(k->ev, k->family, PM_CMD_REGISTER);
	if (r < 0) {
		snprintf(err, errlen, "PM_CMD_REGISTER: %s%s", nl_geterror(r),
			 r == -NLE_BUSY ? " (another listener is registered)" : "");
		goto fail;
	}
	k->registered = true;
	if (configure(k, err, errlen) < 0)
		goto fail;
	/* Verdicts and keep-alives: the module answers only an error. */
	nl_socket_disable_auto_ack(k->ev);
	nl_socket_modify_err_cb(k->ev, NL_CB_CUSTOM, on_error, k);
	nl_socket_set_nonblocking(k->ev);
	if (pmd_watch(d, nl_socket_get_fd(k->ev), EPOLLIN, on_readable, k) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	pm_info("registered with portmaster.ko (generic netlink family %d)", k->family);
	kmod_flush(d, ns);	/* the verdicts of events that came with the ACK */
	return 0;
fail:
	kmod_stop(d, ns);
	return -1;
}

/*
 * The module takes a listener that lets a flow time out without having
 * said anything meanwhile as hung, and applies its fail policy until it
 * hears from it.  We may legitimately be quiet that long (one prompt,
 * nothing else), so registering again, which the module treats as a
 * keep-alive, proves that this loop still runs.  No ACK: an error alone
 * would come back, to on_error.
 */
static void kmod_tick(struct pmd *d, struct pm_ns *ns, uint64_t now)
{
	struct kmod *k = ns->be;
	struct nl_msg *m;

	if (!k || !k->registered || now - k->keepalive_ms < KMOD_KEEPALIVE_MS)
		return;
	(void)d;
	k->keepalive_ms = now;
	m = new_msg(k->family, PM_CMD_REGISTER, 0);
	if (!m)
		return;
	if (nl_send_auto(k->ev, m) < 0)
		pm_debug("module keep-alive: cannot send");
	nlmsg_free(m);
}

static int reset_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1];
	int *count = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL) == 0 && tb[PM_A_RESET_COUNT] &&
	    nla_len(tb[PM_A_RESET_COUNT]) >= 4)
		*count = (int)nla_get_u32(tb[PM_A_RESET_COUNT]);
	return NL_OK;
}

static int kmod_reset(struct pmd *d, struct pm_ns *ns)
{
	struct kmod *k = ns->be;
	/* No ACK asked: the reply is the answer, and waiting for an ACK
	 * that came with it would stall the loop for the socket timeout. */
	struct nl_msg *m = new_msg(k->family, PM_CMD_RESET, 0);
	int count = 0, r;

	(void)d;
	if (!m)
		return -ENOMEM;
	r = cmd_send(k->cmd, m, &k->cmd_seq);
	nlmsg_free(m);
	if (r < 0)
		return -EIO;
	nl_socket_modify_cb(k->cmd, NL_CB_VALID, NL_CB_CUSTOM, reset_reply, &count);
	r = nl_recvmsgs_default(k->cmd);
	if (r < 0)
		pm_warn("module reset: %s", nl_geterror(r));
	return r < 0 ? -EIO : count;
}

struct stats_ctx {
	struct buf *rec;
	bool ok;
};

static int stats_reply(struct nl_msg *msg, void *arg)
{
	static const char *const names[PM_STATS_A_MAX + 1] = {
		[PM_STATS_A_PACKETS] = "k_packets",
		[PM_STATS_A_INTERCEPTED] = "intercepted",
		[PM_STATS_A_PENDING] = "k_pending",
		[PM_STATS_A_HELD] = "held_now",
		[PM_STATS_A_FAST_PATH] = "fast_path",
		[PM_STATS_A_TIMEOUTS] = "k_timeouts",
		[PM_STATS_A_TABLE_FULL] = "table_full",
		[PM_STATS_A_QUEUE_FULL] = "queue_full",
		[PM_STATS_A_EVENT_FAILED] = "event_failed",
		[PM_STATS_A_POLICY_ACCEPT] = "policy_accept",
		[PM_STATS_A_POLICY_DROP] = "policy_drop",
		[PM_STATS_A_LISTENER_LOST] = "listener_lost",
		[PM_STATS_A_LISTENER_SILENT] = "listener_silent",
		/* packets the module dropped rather than let through unasked (k_: the
		 * daemon has its own quota_full and not_local) */
		[PM_STATS_A_QUOTA_FULL] = "k_quota_full",
		[PM_STATS_A_NO_MEMORY] = "no_memory",
		[PM_STATS_A_NOT_LOCAL] = "k_not_local",
		[PM_STATS_A_NO_ROUTE] = "no_route",
	};
	struct stats_ctx *c = arg;
	struct nlattr *tb[PM_A_MAX + 1], *st[PM_STATS_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL) < 0 || !tb[PM_A_STATS] ||
	    nla_parse_nested(st, PM_STATS_A_MAX, tb[PM_A_STATS], NULL) < 0)
		return NL_SKIP;
	for (int i = 1; i <= PM_STATS_A_MAX; i++)
		if (names[i] && st[i] && nla_len(st[i]) >= 8)
			rec_u64(c->rec, names[i], nla_get_u64(st[i]));
	if (tb[PM_A_LISTENER_STATE] && nla_len(tb[PM_A_LISTENER_STATE]) >= 1) {
		uint8_t s = nla_get_u8(tb[PM_A_LISTENER_STATE]);

		rec_str(c->rec, "listener", s == PM_LISTENER_ACTIVE ? "active" :
			s == PM_LISTENER_LOST ? "lost" :
			s == PM_LISTENER_SILENT ? "silent" : "none");
	}
	c->ok = true;
	return NL_OK;
}

static void kmod_stats(struct pmd *d, struct pm_ns *ns, struct buf *rec)
{
	struct kmod *k = ns->be;
	struct stats_ctx c = { .rec = rec };
	struct nl_msg *m;

	(void)d;
	if (!k)
		return;
	rec_u64(rec, "overruns", k->overruns);
	rec_str(rec, "reroutes", k->nat_rules ? "iptables" : "module");
	rec_u64(rec, "bad_events", k->bad_events);
	rec_u64(rec, "verdict_errors", k->verdict_errors);
	m = new_msg(k->family, PM_CMD_GET_STATS, 0);
	if (!m)
		return;
	if (cmd_send(k->cmd, m, &k->cmd_seq) >= 0) {
		nl_socket_modify_cb(k->cmd, NL_CB_VALID, NL_CB_CUSTOM, stats_reply, &c);
		nl_recvmsgs_default(k->cmd);
	}
	nlmsg_free(m);
	if (!c.ok)
		rec_str(rec, "module_stats", "unavailable");
}

const struct backend_ops kmod_backend = {
	.name = "kmod",
	.verdict_remember = kmod_verdict_remember,
	.start = kmod_start,
	.stop = kmod_stop,
	.verdict = kmod_verdict,
	.flush = kmod_flush,
	.reset = kmod_reset,
	.tick = kmod_tick,
	.stats = kmod_stats,
};
