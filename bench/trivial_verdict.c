// SPDX-License-Identifier: GPL-2.0
/*
 * The least a verdict program can do, for bench/fallback.sh: bind the four
 * Portmaster queues and answer every packet NF_ACCEPT with mark 1710, one
 * recv and one send per packet.  The reference point that says how much
 * of portmasterd's cost is its own and how much is NFQUEUE's.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static struct mnl_socket *nl;

static int cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	char buf[256];
	struct nlmsghdr *v;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, ntohs(g->res_id));
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_ACCEPT);
	nfq_nlmsg_verdict_put_mark(v, PM_MARK_ACCEPT_ALWAYS);
	mnl_socket_sendto(nl, v, v->nlmsg_len);
	return MNL_CB_OK;
}

int main(void)
{
	static const uint16_t queues[] = { PM_QUEUE_OUT_V4, PM_QUEUE_OUT_V6, PM_QUEUE_IN_V4,
					   PM_QUEUE_IN_V6 };
	static char buf[65536];
	int rcv = 8 << 20;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		struct nlmsghdr *h = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queues[i]);

		nfq_nlmsg_cfg_put_cmd(h, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
		if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
			perror("bind");
			return 1;
		}
		h = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queues[i]);
		nfq_nlmsg_cfg_put_params(h, NFQNL_COPY_PACKET, 128);
		mnl_socket_sendto(nl, h, h->nlmsg_len);
	}
	printf("trivial_verdict: ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			continue;
		mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), cb, NULL);
	}
}
