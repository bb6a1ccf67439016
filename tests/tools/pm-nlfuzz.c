// SPDX-License-Identifier: GPL-2.0
/*
 * pm-nlfuzz: a structure-aware fuzzer for the module's netlink family.
 *
 *   pm-nlfuzz COUNT [SEED] [--as-nobody] [--show-ok]
 *
 * Sends COUNT generic netlink messages to the "portmaster" family: valid
 * netlink and genetlink headers, the family's id, a command drawn from the
 * family's own and a few beyond, flags drawn from none, ACK and DUMP, and
 * attributes that are sometimes well-formed (the family's types, their
 * sizes, the 17xx marks, nested config and owner attributes) and
 * sometimes not (any type, any length, any bytes, truncated nests).  Every
 * reply is read and thrown away, so the socket never fills.  With
 * --as-nobody the messages are sent after giving up every privilege.
 *
 * Prints how many messages were sent and how the kernel answered (by
 * errno), and exits 0 once all were sent: whether the kernel survived is
 * for the harness to say (its log, KASAN, kmemleak).  With --show-ok,
 * also the command and flags of every message the kernel accepted.
 */
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/portmaster.h>

#define BUF 4096

static uint64_t rng;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the seed */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 2685821657736338717ULL) >> 32;
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

struct msg {
	char buf[BUF];
	size_t len;
};

static void *put(struct msg *m, size_t n)
{
	void *p;

	if (m->len + NLA_ALIGN(n) > sizeof(m->buf))
		return NULL;
	p = m->buf + m->len;
	memset(p, 0, NLA_ALIGN(n));
	m->len += NLA_ALIGN(n);
	return p;
}

static struct nlattr *attr(struct msg *m, uint16_t type, const void *data,
			   uint16_t len)
{
	struct nlattr *a = put(m, NLA_HDRLEN + len);

	if (!a)
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (data)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	return a;
}

static const uint32_t marks[] = { 0, 1700, 1701, 1702, 1705, 1710, 1711,
				  1712, 1717, 1799, 0xffffffff };

/* A value of the size the family expects for @type, or of any size. */
static void fill_attr(struct msg *m, uint16_t type, int depth)
{
	uint8_t junk[64];
	uint64_t v64 = ((uint64_t)rnd() << 32) | rnd();
	uint32_t v32 = rnd();
	size_t off;
	int i, n;

	switch (below(6)) {
	case 0:		/* any length, any bytes */
		n = below(sizeof(junk) + 1);
		for (i = 0; i < n; i++)
			junk[i] = rnd();
		attr(m, type, junk, n);
		return;
	case 1:
		attr(m, type, &v64, 8);
		return;
	case 2:
		attr(m, type, &v32, 4);
		return;
	case 3:		/* a mark, or a small number */
		v32 = below(2) ? marks[below(sizeof(marks) / sizeof(marks[0]))] : below(70000);
		attr(m, type, &v32, 4);
		return;
	case 4:
		attr(m, type, &v32, below(2) ? 1 : 2);
		return;
	default:	/* nested: config, owner, or anything */
		if (depth > 2) {
			attr(m, type, NULL, 0);
			return;
		}
		off = m->len;
		if (!attr(m, type | (below(2) ? NLA_F_NESTED : 0), NULL, 0))
			return;
		n = below(5);
		for (i = 0; i < n; i++)
			fill_attr(m, below(PM_CONFIG_A_MAX + 3), depth + 1);
		/* sometimes the nest claims less or more than it holds */
		((struct nlattr *)(m->buf + off))->nla_len =
			m->len - off - (below(8) ? 0 : below(8));
		return;
	}
}

static void build(struct msg *m, int family, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	static const uint16_t flags[] = { 0, NLM_F_ACK, NLM_F_DUMP, NLM_F_ACK | NLM_F_DUMP };
	int i, n;

	m->len = 0;
	nlh = put(m, NLMSG_HDRLEN);
	g = put(m, GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags[below(4)];
	nlh->nlmsg_seq = seq;
	g->cmd = below(PM_CMD_MAX + 4);
	g->version = below(8) ? PORTMASTER_GENL_VERSION : rnd();
	n = below(7);
	for (i = 0; i < n; i++)
		fill_attr(m, below(PM_A_MAX + 4), 0);
	nlh->nlmsg_len = m->len;
	if (!below(16))	/* a header that claims too much or too little */
		nlh->nlmsg_len = m->len - below(m->len - NLMSG_HDRLEN + 1);
}

static long answers[140];
static int show_ok;
static unsigned char *sent_cmd;
static unsigned short *sent_flags;
static long sent_max;

static void drain(int fd)
{
	char buf[16384];
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		int len = r;

		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				int err = -e->error;

				if (err >= 0 && err < 139)
					answers[err]++;
				else
					answers[139]++;
				if (!err && show_ok && e->msg.nlmsg_seq &&
				    (long)e->msg.nlmsg_seq <= sent_max)
					printf("ok: cmd=%u flags=0x%x\n",
					       sent_cmd[e->msg.nlmsg_seq - 1],
					       sent_flags[e->msg.nlmsg_seq - 1]);
			}
		}
	}
}

static int resolve_family(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int family;

	if (!sk || genl_connect(sk))
		return -1;
	family = genl_ctrl_resolve(sk, PORTMASTER_GENL_NAME);
	nl_socket_free(sk);
	return family;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	long count, sent = 0, i;
	int family, fd, nobody = 0, rcvbuf = 1 << 20;
	struct msg m;

	if (argc < 2) {
		fprintf(stderr, "usage: pm-nlfuzz COUNT [SEED] [--as-nobody]\n");
		return 2;
	}
	count = strtol(argv[1], NULL, 0);
	rng = argc > 2 && argv[2][0] != '-' ? strtoull(argv[2], NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (!rng)
		rng = 1;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--as-nobody"))
			nobody = 1;
		if (!strcmp(argv[i], "--show-ok"))
			show_ok = 1;
	}
	sent_max = count;
	sent_cmd = calloc(count ? count : 1, 1);
	sent_flags = calloc(count ? count : 1, sizeof(*sent_flags));
	if (!sent_cmd || !sent_flags)
		return 1;

	family = resolve_family();
	if (family < 0) {
		fprintf(stderr, "pm-nlfuzz: no %s family\n", PORTMASTER_GENL_NAME);
		return 1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0) {
		perror("pm-nlfuzz: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (nobody && (setgroups(0, NULL) || setgid(65534) || setuid(65534))) {
		perror("pm-nlfuzz: dropping privileges");
		return 1;
	}
	for (i = 0; i < count; i++) {
		build(&m, family, i + 1);
		sent_cmd[i] = ((struct genlmsghdr *)(m.buf + NLMSG_HDRLEN))->cmd;
		sent_flags[i] = ((struct nlmsghdr *)m.buf)->nlmsg_flags;
		if (sendto(fd, m.buf, m.len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel)) >= 0)
			sent++;
		else
			answers[errno < 139 ? errno : 139]++;
		drain(fd);
	}
	drain(fd);
	printf("sent=%ld", sent);
	for (i = 0; i < 140; i++)
		if (answers[i])
			printf(" %s=%ld", i ? (i < 139 ? strerror(i) : "other") : "ok",
			       answers[i]);
	printf("\n");
	return sent == count ? 0 : 1;
}
