// SPDX-License-Identifier: GPL-2.0
/*
 * Module mode: portmaster.ko holds the packets of undecided flows and
 * announces each with PM_CMD_FLOW_NEW; we answer PM_CMD_VERDICT with a
 * mark from the same engine as the fallback.  Two sockets: the listener
 * (registered, receives events, sends verdicts without waiting) and a
 * command socket for the synchronous requests (stats, reset), so that a
 * reply is never mixed up with an event.
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
#include "daemon.h"
#include "intercept/kmod_msg.h"
#include "common/log.h"
#include "common/util.h"

#define KMOD_RCVBUF (8 << 20)
/* How often the listener tells the module it is alive (see tick). */
#define KMOD_KEEPALIVE_MS 2000

struct kmod {
	struct nl_sock *ev, *cmd;
	int family;
	bool registered;
	uint64_t keepalive_ms;
	uint64_t overruns, bad_events, verdict_errors;
	struct pmd *d;
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
 * The module resolves a flow nobody answered by its fail policy after its
 * own timeout.  A prompt must end by our prompt_fallback first, so the
 * module is told to wait longer than a prompt does.
 */
static int kmod_set_timeout(struct kmod *k, uint32_t prompt_timeout_s)
{
	uint64_t ms = ((uint64_t)prompt_timeout_s + 5) * 1000;
	struct nl_msg *m = new_msg(k->family, PM_CMD_SET_CONFIG, NLM_F_ACK);
	struct nlattr *nest;
	int r;

	if (!m)
		return -NLE_NOMEM;
	if (ms > PM_TIMEOUT_MS_MAX)
		ms = PM_TIMEOUT_MS_MAX;
	nest = nla_nest_start(m, PM_A_CONFIG);
	if (!nest || nla_put_u32(m, PM_CONFIG_A_TIMEOUT_MS, (uint32_t)ms) < 0) {
		nlmsg_free(m);
		return -NLE_NOMEM;
	}
	nla_nest_end(m, nest);
	r = nl_send_auto(k->cmd, m);
	nlmsg_free(m);
	return r < 0 ? r : nl_wait_for_ack(k->cmd);
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct kmod *k = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct kmod_flow f;
	char err[256];

	if (g->cmd != PM_CMD_FLOW_NEW)
		return NL_OK;
	if (kmod_parse_flow(nlh, &f, err, sizeof(err)) < 0) {
		/* Without a flow id there is nothing to answer; the module's
		 * timeout applies its fail policy. */
		k->bad_events++;
		pm_warn("module event ignored: %s", err);
		return NL_OK;
	}
	/* Inbound flows come without a pid (not sent from the owner's
	 * context): complete it from the socket inode. */
	if (!f.fi.owner.pid && f.fi.owner.inode && k->d->attrib)
		attrib_pid_from_inode(k->d->attrib, f.fi.owner.inode, f.fi.owner.uid,
				      f.fi.owner.have_uid, &f.fi.owner.pid, &f.fi.owner.exe);
	if (f.decided)
		engine_report(k->d, &f.fi, f.decided);
	else
		engine_packet(k->d, &f.fi, true, 0, f.flow_id, NULL, 0);
	free(f.fi.owner.exe);
	return NL_OK;
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

static void on_readable(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct kmod *k = arg;

	(void)fd;
	(void)events;
	for (int i = 0; i < 64; i++) {
		int r = nl_recvmsgs_default(k->ev);

		if (r >= 0)
			continue;
		if (r == -NLE_AGAIN)
			break;
		if (r == -NLE_NOMEM || r == -NLE_OBJ_NOTFOUND || errno == ENOBUFS) {
			/* Our receive buffer overran: events were lost and
			 * those flows follow the module's fail policy. */
			k->overruns++;
			d->st.overruns++;
			pm_warn("module events lost (receive buffer overrun)");
			continue;
		}
		pm_warn("module socket: %s", nl_geterror(r));
		break;
	}
}

static int kmod_verdict(struct pmd *d, uint16_t q, uint64_t id, uint32_t mark)
{
	struct kmod *k = d->be_priv;
	struct nl_msg *m = new_msg(k->family, PM_CMD_VERDICT, 0);
	int r;

	(void)q;
	if (!m)
		return -ENOMEM;
	if (nla_put_u64(m, PM_A_FLOW_ID, id) < 0 || nla_put_u32(m, PM_A_MARK, mark) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	r = nl_send_auto(k->ev, m);
	nlmsg_free(m);
	return r < 0 ? -EIO : 0;
}

static int kmod_verdict_remember(struct pmd *d, uint64_t id, uint32_t mark, uint32_t ms)
{
	struct kmod *k = d->be_priv;
	struct nl_msg *m = new_msg(k->family, PM_CMD_VERDICT, 0);
	int r;

	if (!m)
		return -ENOMEM;
	if (ms > PM_REMEMBER_MS_MAX)
		ms = PM_REMEMBER_MS_MAX;
	if (nla_put_u64(m, PM_A_FLOW_ID, id) < 0 || nla_put_u32(m, PM_A_MARK, mark) < 0 ||
	    nla_put_u32(m, PM_A_REMEMBER_MS, ms) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	r = nl_send_auto(k->ev, m);
	nlmsg_free(m);
	return r < 0 ? -EIO : 0;
}

static void kmod_stop(struct pmd *d)
{
	struct kmod *k = d->be_priv;

	if (!k)
		return;
	engine_release_all(d);
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
	d->be_priv = NULL;
}

static int kmod_start(struct pmd *d, char *err, size_t errlen)
{
	struct kmod *k = calloc(1, sizeof(*k));
	int r, fam2;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->be_priv = k;
	k->d = d;
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
	}
	/* A large buffer so that bursts of new flows fit; ENOBUFS stays on
	 * (no NETLINK_NO_ENOBUFS) so that we learn of an overrun. */
	nl_socket_set_buffer_size(k->ev, KMOD_RCVBUF, 0);
	/* one recvmsg for many events, without peeking first */
	nl_socket_disable_msg_peek(k->ev);
	nl_socket_set_msg_buf_size(k->ev, 64 << 10);
	r = simple_cmd(k->ev, k->family, PM_CMD_REGISTER);
	if (r < 0) {
		snprintf(err, errlen, "PM_CMD_REGISTER: %s%s", nl_geterror(r),
			 r == -NLE_BUSY ? " (another listener is registered)" : "");
		goto fail;
	}
	k->registered = true;
	r = kmod_set_timeout(k, k->d->cfg.prompt_timeout_s);
	if (r < 0)
		pm_warn("module: cannot set its verdict timeout: %s", nl_geterror(r));
	nl_socket_disable_seq_check(k->ev);
	/* Verdicts and keep-alives: the module answers only an error. */
	nl_socket_disable_auto_ack(k->ev);
	nl_socket_modify_cb(k->ev, NL_CB_VALID, NL_CB_CUSTOM, on_event, k);
	nl_socket_modify_err_cb(k->ev, NL_CB_CUSTOM, on_error, k);
	nl_socket_set_nonblocking(k->ev);
	if (pmd_watch(d, nl_socket_get_fd(k->ev), EPOLLIN, on_readable, k) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	pm_info("registered with portmaster.ko (generic netlink family %d)", k->family);
	return 0;
fail:
	kmod_stop(d);
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
static void kmod_tick(struct pmd *d, uint64_t now)
{
	struct kmod *k = d->be_priv;
	struct nl_msg *m;

	if (!k || !k->registered || now - k->keepalive_ms < KMOD_KEEPALIVE_MS)
		return;
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

static int kmod_reset(struct pmd *d)
{
	struct kmod *k = d->be_priv;
	/* No ACK asked: the reply is the answer, and waiting for an ACK
	 * that came with it would stall the loop for the socket timeout. */
	struct nl_msg *m = new_msg(k->family, PM_CMD_RESET, 0);
	int count = 0, r;

	if (!m)
		return -ENOMEM;
	r = nl_send_auto(k->cmd, m);
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
		/* packets the module dropped rather than let through unasked */
		[PM_STATS_A_QUOTA_FULL] = "quota_full",
		[PM_STATS_A_NO_MEMORY] = "no_memory",
		[PM_STATS_A_NOT_LOCAL] = "not_local",
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

static void kmod_stats(struct pmd *d, struct buf *rec)
{
	struct kmod *k = d->be_priv;
	struct stats_ctx c = { .rec = rec };
	struct nl_msg *m;

	if (!k)
		return;
	rec_u64(rec, "overruns", k->overruns);
	rec_u64(rec, "bad_events", k->bad_events);
	rec_u64(rec, "verdict_errors", k->verdict_errors);
	m = new_msg(k->family, PM_CMD_GET_STATS, 0);
	if (!m)
		return;
	if (nl_send_auto(k->cmd, m) >= 0) {
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
	.reset = kmod_reset,
	.tick = kmod_tick,
	.stats = kmod_stats,
};
