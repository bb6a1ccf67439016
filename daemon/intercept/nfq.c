// SPDX-License-Identifier: GPL-2.0
/*
 * Fallback mode: the seed's iptables rules send the first packet of every
 * undecided connection to NFQUEUE 17040/17060 (out) and 17140/17160 (in);
 * every packet is answered NF_ACCEPT with a 17xx mark that the filter
 * chain C17 enforces and saves on the connection.
 *
 * One netlink socket per watched namespace is bound to all four queues
 * there; verdicts are batched per receive burst into one sendto().
 * Nothing here blocks: a packet held for a prompt is simply answered later
 * by its id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "intercept/backend.h"
#include "intercept/ct.h"
#include "daemon.h"
#include "intercept/iptables.h"
#include "common/log.h"
#include "intercept/packet.h"
#include "intercept/reject.h"
#include "common/util.h"

/* enum ip_conntrack_info, as NFQA_CT_INFO carries it */
#define CTINFO_NEW 2

#define RX_SIZE (256 * 1024)
#define VBUF_SIZE (64 * 1024)
/* Headers only: IPv6 with extension headers plus a TCP header fit. */
#define COPY_RANGE 256

static const uint16_t queues[] = { PM_QUEUE_OUT_V4, PM_QUEUE_OUT_V6, PM_QUEUE_IN_V4,
				   PM_QUEUE_IN_V6 };

struct nfq {
	struct pm_ns *ns;
	struct mnl_socket *nl;
	uint32_t portid;
	char *rx;
	char *vbuf;
	size_t vlen;
	enum ipt_backend ipt;
	bool have_v6, installed;
	struct rejecter *rej;
	struct ct_reset *ct;
	uint64_t rejects, reject_errors;
	uint64_t enobufs, send_errors;
	uint64_t reset_verdicts;	/* given while a reset pass ran */
};

static int cfg_cmd(struct nfq *q, uint16_t queue, uint8_t cmd, int flags_extra)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);

	(void)flags_extra;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static int wait_ack(struct nfq *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));

	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, 0, q->portid, NULL, NULL) < 0)
		return -errno;
	return 0;
}

static int set_flag(struct nfq *q, uint16_t queue, uint32_t flag)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flag));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flag));
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return wait_ack(q);
}

static int bind_queue(struct nfq *q, uint16_t queue, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int r;

	if ((r = cfg_cmd(q, queue, NFQNL_CFG_CMD_BIND, 0)) < 0 || (r = wait_ack(q)) < 0) {
		snprintf(err, errlen, "cannot bind NFQUEUE %u: %s%s", queue, strerror(-r),
			 r == -EBUSY ? " (another portmasterd or NFQUEUE program uses it)" : "");
		return -1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 8192);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0 || (r = wait_ack(q)) < 0) {
		snprintf(err, errlen, "cannot configure NFQUEUE %u: %s", queue, strerror(errno));
		return -1;
	}
	/* Each metadata flag on its own: a kernel without one still gives
	 * the others. */
	if (set_flag(q, queue, NFQA_CFG_F_GSO) < 0)
		pm_debug("NFQUEUE %u: no GSO flag", queue);
	if (set_flag(q, queue, NFQA_CFG_F_UID_GID) < 0)
		pm_warn("NFQUEUE %u: the kernel gives no socket uid", queue);
	/* Without it (no CONFIG_NETFILTER_NETLINK_GLUE_CT) every queued
	 * packet counts as one that creates its conntrack entry. */
	if (set_flag(q, queue, NFQA_CFG_F_CONNTRACK) < 0)
		pm_debug("NFQUEUE %u: the kernel gives no conntrack state", queue);
	return 0;
}

static void nfq_flush(struct pmd *d, struct pm_ns *ns)
{
	struct nfq *q = ns->be;

	(void)d;
	if (!q || !q->vlen)
		return;
	if (mnl_socket_sendto(q->nl, q->vbuf, q->vlen) < 0) {
		q->send_errors++;
		pm_warn("sending verdicts: %s", strerror(errno));
	}
	q->vlen = 0;
}

static int nfq_verdict(struct pmd *d, struct pm_ns *ns, uint16_t queue, uint64_t id,
		       uint32_t mark)
{
	struct nfq *q = ns->be;
	struct nlmsghdr *nlh;

	if (q->vlen + 128 > VBUF_SIZE)
		nfq_flush(d, ns);
	if (ct_reset_busy(q->ct))
		q->reset_verdicts++;
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	nfq_nlmsg_verdict_put_mark(nlh, mark);
	q->vlen += nlh->nlmsg_len;
	return 0;
}

static int nfq_ct_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type == CTA_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[type] = a;
	return MNL_CB_OK;
}

struct rx_ctx {
	struct pmd *d;
	struct nfq *q;
};

static int on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct rx_ctx *rx = data;
	struct pmd *d = rx->d;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	uint16_t queue = ntohs(g->res_id);
	struct nfqnl_msg_packet_hdr *ph;
	struct flow_info fi;
	uint8_t pkt_dir = (queue == PM_QUEUE_IN_V4 || queue == PM_QUEUE_IN_V6) ? PM_DIR_IN : PM_DIR_OUT;
	const uint8_t *pkt = NULL;
	size_t pktlen = 0;
	bool parsed = false;
	uint32_t id;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		/* Without its id the packet cannot be answered; the kernel
		 * never sends such a message. */
		pm_warn("queue %u: message without packet header ignored", queue);
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	memset(&fi, 0, sizeof(fi));
	if (attr[NFQA_PAYLOAD]) {
		pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		pktlen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
		parsed = packet_parse(pkt, pktlen, pkt_dir, &fi) == 0;
	}
	/* Without the conntrack state (no CONFIG_NETFILTER_NETLINK_GLUE_CT)
	 * every queued packet counts as one that creates its entry. */
	fi.ct_new = true;
	if (attr[NFQA_CT_INFO] && mnl_attr_get_payload_len(attr[NFQA_CT_INFO]) >= 4) {
		fi.ct_new = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO])) == CTINFO_NEW;
		fi.ct_state_known = true;
	}
	if (attr[NFQA_CT]) {
		const struct nlattr *ct[CTA_MAX + 1] = { 0 };

		if (mnl_attr_parse_nested(attr[NFQA_CT], nfq_ct_attr_cb, ct) >= 0 && ct[CTA_ID])
			fi.ct_id = ntohl(mnl_attr_get_u32(ct[CTA_ID]));
	}
	if (pkt_dir == PM_DIR_OUT && attr[NFQA_UID] &&
	    mnl_attr_get_payload_len(attr[NFQA_UID]) >= 4) {
		fi.owner.uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
		fi.owner.have_uid = true;
		if (attr[NFQA_GID] && mnl_attr_get_payload_len(attr[NFQA_GID]) >= 4) {
			fi.owner.gid = ntohl(mnl_attr_get_u32(attr[NFQA_GID]));
			fi.owner.have_gid = true;
		}
	}
	if (attr[pkt_dir == PM_DIR_OUT ? NFQA_IFINDEX_OUTDEV : NFQA_IFINDEX_INDEV])
		fi.ifindex = ntohl(mnl_attr_get_u32(
			attr[pkt_dir == PM_DIR_OUT ? NFQA_IFINDEX_OUTDEV : NFQA_IFINDEX_INDEV]));
	engine_packet(d, rx->q->ns, &fi, parsed, queue, id, pkt, pktlen);
	return MNL_CB_OK;
}

static void on_readable(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct nfq *q = arg;
	struct rx_ctx rx = { d, q };

	(void)fd;
	(void)events;
	/* Drain what is there, then answer the batch. */
	for (int burst = 0; burst < 64; burst++) {
		ssize_t n = recv(mnl_socket_get_fd(q->nl), q->rx, RX_SIZE, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* The kernel could not hand us packets: it dropped
				 * them (no fail-open). Count and go on. */
				q->enobufs++;
				d->st.overruns++;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				pm_warn("NFQUEUE receive: %s", strerror(errno));
			break;
		}
		if (mnl_cb_run(q->rx, (size_t)n, 0, q->portid, on_packet, &rx) < 0 &&
		    errno != ENOENT)
			pm_debug("NFQUEUE message error: %s", strerror(errno));
	}
	/* The whole burst's verdicts in one message. */
	nfq_flush(d, q->ns);
}

static void nfq_stop(struct pmd *d, struct pm_ns *ns)
{
	struct nfq *q = ns->be;
	char err[1024];

	if (!q)
		return;
	nfq_flush(d, ns);
	ct_reset_close(d, q->ct);
	if (q->installed) {
		if (ipt_remove(q->ipt, err, sizeof(err)) < 0)
			pm_err("removing rules: %s", err);
		else
			pm_info("removed the iptables rules");
	}
	if (q->nl) {
		pmd_unwatch(d, mnl_socket_get_fd(q->nl));
		for (size_t i = 0; i < ARRAY_SIZE(queues); i++)
			cfg_cmd(q, queues[i], NFQNL_CFG_CMD_UNBIND, 0);
		mnl_socket_close(q->nl);
	}
	reject_close(q->rej);
	free(q->rx);
	free(q->vbuf);
	free(q);
	ns->be = NULL;
}

static int nfq_start(struct pmd *d, struct pm_ns *ns, char *err, size_t errlen)
{
	struct nfq *q = calloc(1, sizeof(*q));
	int rcvbuf = 8 << 20, one = 1;

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ns->be = q;
	q->ns = ns;
	q->rx = malloc(RX_SIZE);
	q->vbuf = malloc(VBUF_SIZE);
	if (!q->rx || !q->vbuf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ipt_resolve_backend(d->cfg.iptables, &q->ipt, err, errlen) < 0)
		goto fail;
	q->rej = reject_open();
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	/* Errors of verdicts for packets that are gone (ENOENT) are of no use. */
	mnl_socket_setsockopt(q->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Bind the queues first, so that no packet meets the rules without a
	 * reader (it would pass unmarked and be dropped by C17). */
	for (size_t i = 0; i < ARRAY_SIZE(queues); i++)
		if (bind_queue(q, queues[i], err, errlen) < 0)
			goto fail;
	if (ipt_install(q->ipt, &d->cfg, false, &q->have_v6, err, errlen) < 0)
		goto fail;
	q->installed = true;
	pm_info("installed the rules for IPv4%s with iptables-%s; reading NFQUEUE %u %u %u %u",
		q->have_v6 ? " and IPv6" : "", ipt_backend_name(q->ipt), PM_QUEUE_OUT_V4,
		PM_QUEUE_OUT_V6, PM_QUEUE_IN_V4, PM_QUEUE_IN_V6);
	if (pmd_watch(d, mnl_socket_get_fd(q->nl), EPOLLIN, on_readable, q) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	q->ct = ct_reset_open(d, err, errlen);
	if (!q->ct)
		goto fail;
	return 0;
fail:
	nfq_stop(d, ns);
	return -1;
}

/* Runs in the loop, a piece at a time (see ct.h); counted when done. */
static int nfq_reset(struct pmd *d, struct pm_ns *ns)
{
	struct nfq *q = ns->be;

	(void)d;
	return q && q->ct ? ct_reset_start(q->ct) : 0;
}

static void nfq_reject(struct pmd *d, struct pm_ns *ns, const uint8_t *pkt, size_t len,
		       uint32_t ifindex)
{
	struct nfq *q = ns->be;

	/* The verdict must reach the kernel first: the blocked packet's
	 * conntrack entry goes with it, and our error must not be related
	 * to that entry. */
	nfq_flush(d, ns);
	if (q->rej && reject_send(q->rej, pkt, len, ifindex) == 0)
		q->rejects++;
	else
		q->reject_errors++;
}

static void nfq_stats(struct pmd *d, struct pm_ns *ns, struct buf *rec)
{
	struct nfq *q = ns->be;

	(void)d;
	if (!q)
		return;
	rec_str(rec, "iptables", ipt_backend_name(q->ipt));
	rec_str(rec, "ipv6", q->have_v6 ? "yes" : "no");
	rec_u64(rec, "overruns", q->enobufs);
	rec_u64(rec, "errors", q->send_errors);
	rec_u64(rec, "rejects_sent", q->rejects);
	rec_u64(rec, "reject_errors", q->reject_errors);
	rec_u64(rec, "ct_cleared", ct_reset_cleared(q->ct));
	rec_u64(rec, "ct_passes", ct_reset_passes(q->ct));
	rec_str(rec, "ct_reset", ct_reset_busy(q->ct) ? "running" : "idle");
	rec_u64(rec, "ct_reset_ms", ct_reset_last_ms(q->ct));
	rec_u64(rec, "reset_verdicts", q->reset_verdicts);
}

const struct backend_ops nfq_backend = {
	.name = "nfqueue",
	.block_new_once = true,
	.start = nfq_start,
	.stop = nfq_stop,
	.verdict = nfq_verdict,
	.reject = nfq_reject,
	.flush = nfq_flush,
	.reset = nfq_reset,
	.stats = nfq_stats,
};
