// SPDX-License-Identifier: GPL-2.0
/*
 * pm-listener: a minimal verdict listener and netlink client for the
 * module's tests, so that they exercise portmaster.ko without the daemon.
 *
 *   pm-listener listen [--answer MARK] [--answer-port PORT=MARK]...
 *                      [--delay-ms N] [--count N] [--out FILE]
 *                      [--ready FILE] [--no-unregister] [--quiet]
 *                      [--remember-ms N] [--no-keepalive]
 *                      [--control PATH]
 *   pm-listener register            register, unregister, report
 *   pm-listener verdict [--direct] ID MARK [REMEMBER_MS]
 *   pm-listener stats [NAME]        all counters, or one
 *   pm-listener config [policy=open|closed] [timeout=MS] [pending=N] [held=N]
 *                      [dns=off|dns4=ADDR dns6=ADDR dnsport=N]
 *                      [tunnel=off|tunnel4=ADDR tunnel6=ADDR tunnelport=N]
 *   pm-listener flows               the pending flows
 *   pm-listener reset               clear the 17xx marks
 *   pm-listener raw CMD [ATTR=U32]... send a raw command, print the errno
 *
 * The listener registers again every KEEPALIVE_MS from its own socket,
 * as portmasterd does: the module takes such a listener as hung when it
 * has not heard from it while a flow timed out.  SIGSTOP makes it hang.
 *
 * Only the listener's own socket may give verdicts.  A test gives one by
 * hand through the running listener: `listen --control PATH` takes
 * requests on a unix datagram socket, and `verdict` sends them there when
 * PM_LISTENER_CONTROL names it (or, with --direct, from a socket of its
 * own, which the module must refuse).
 *
 * Events are printed one per line as key=value pairs.  Exit status: 0,
 * or the errno of the failing netlink request (EBUSY, EPERM, ...).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/portmaster.h>

#define MAX_PORT_ANSWERS 16

struct answer {
	unsigned int port;
	unsigned int mark;
};

static struct {
	unsigned int answer;
	struct answer ports[MAX_PORT_ANSWERS];
	int nports;
	unsigned int delay_ms;
	long count;
	FILE *out;
	int unregister;
	int quiet;
	unsigned int remember_ms;
} opt = { .count = -1, .unregister = 1 };

static int family;
static struct nl_sock *ctl;
static struct nl_sock *lsk;	/* listen: the listener's own socket */
static volatile sig_atomic_t stop;
static long events;

/* The one verdict by hand in flight: who asked, and its sequence number. */
static struct {
	int fd;
	int busy;
	unsigned int seq;
	struct sockaddr_un peer;
	socklen_t peer_len;
} hand = { .fd = -1 };

static void die(const char *what, int err)
{
	fprintf(stderr, "pm-listener: %s: %s\n", what, nl_geterror(err));
	exit(err < 0 ? -err : 1);
}

static struct nl_sock *connect_genl(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		die("nl_socket_alloc", -NLE_NOMEM);
	err = genl_connect(sk);
	if (err)
		die("genl_connect", err);
	if (!family) {
		family = genl_ctrl_resolve(sk, PORTMASTER_GENL_NAME);
		if (family < 0) {
			fprintf(stderr, "pm-listener: family %s: %s\n",
				PORTMASTER_GENL_NAME, nl_geterror(family));
			exit(ENOENT);
		}
	}
	return sk;
}

/* libnl maps kernel errnos to its own codes; tests want the errno. */
static int nl_to_errno(int err)
{
	switch (-err) {
	case NLE_BUSY: return EBUSY;
	case NLE_PERM: return EPERM;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_INVAL: return EINVAL;
	case NLE_NOACCESS: return EACCES;
	case NLE_RANGE: return ERANGE;
	case NLE_MSGSIZE: return EMSGSIZE;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_AGAIN: return EAGAIN;
	default: return err ? EIO : 0;
	}
}

static struct nl_msg *new_msg(int cmd, int flags)
{
	/* small: nlmsg_alloc() would clear a page for every message */
	struct nl_msg *msg = nlmsg_alloc_size(512);

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 flags, cmd, PORTMASTER_GENL_VERSION))
		die("nlmsg_alloc", -NLE_NOMEM);
	return msg;
}

/* Send and wait for the ack; returns 0 or a libnl error. */
static int request(struct nl_sock *sk, struct nl_msg *msg)
{
	int err = nl_send_auto(sk, msg);

	nlmsg_free(msg);
	if (err < 0)
		return err;
	return nl_wait_for_ack(sk);
}

static void print_addr(FILE *f, const char *key, struct nlattr *a)
{
	char buf[INET6_ADDRSTRLEN] = "?";

	if (nla_len(a) == 4)
		inet_ntop(AF_INET, nla_data(a), buf, sizeof(buf));
	else if (nla_len(a) == 16)
		inet_ntop(AF_INET6, nla_data(a), buf, sizeof(buf));
	fprintf(f, " %s=%s", key, buf);
}

static struct nla_policy owner_policy[PM_OWNER_A_MAX + 1] = {
	[PM_OWNER_A_UID] = { .type = NLA_U32 },
	[PM_OWNER_A_GID] = { .type = NLA_U32 },
	[PM_OWNER_A_INODE] = { .type = NLA_U64 },
	[PM_OWNER_A_PID] = { .type = NLA_U32 },
	[PM_OWNER_A_TGID] = { .type = NLA_U32 },
	[PM_OWNER_A_COMM] = { .type = NLA_STRING },
	[PM_OWNER_A_EXE] = { .type = NLA_STRING },
	[PM_OWNER_A_CGROUP_ID] = { .type = NLA_U64 },
	[PM_OWNER_A_PPID] = { .type = NLA_U32 },
};

/* One flow as key=value pairs. */
static void print_flow(FILE *f, const char *tag, struct nlattr **tb)
{
	fprintf(f, "%s", tag);
	if (tb[PM_A_FLOW_ID])
		fprintf(f, " id=%llu", (unsigned long long)nla_get_u64(tb[PM_A_FLOW_ID]));
	if (tb[PM_A_CT_ID])
		fprintf(f, " ct=%u", nla_get_u32(tb[PM_A_CT_ID]));
	if (tb[PM_A_DIRECTION])
		fprintf(f, " dir=%s", nla_get_u8(tb[PM_A_DIRECTION]) == PM_DIR_IN ? "in" : "out");
	if (tb[PM_A_FAMILY])
		fprintf(f, " family=%s", nla_get_u8(tb[PM_A_FAMILY]) == AF_INET6 ? "ipv6" : "ipv4");
	if (tb[PM_A_PROTOCOL])
		fprintf(f, " proto=%u", nla_get_u8(tb[PM_A_PROTOCOL]));
	if (tb[PM_A_SRC_ADDR])
		print_addr(f, "src", tb[PM_A_SRC_ADDR]);
	if (tb[PM_A_DST_ADDR])
		print_addr(f, "dst", tb[PM_A_DST_ADDR]);
	if (tb[PM_A_SRC_PORT])
		fprintf(f, " sport=%u", nla_get_u16(tb[PM_A_SRC_PORT]));
	if (tb[PM_A_DST_PORT])
		fprintf(f, " dport=%u", nla_get_u16(tb[PM_A_DST_PORT]));
	if (tb[PM_A_ICMP_TYPE])
		fprintf(f, " icmp_type=%u", nla_get_u8(tb[PM_A_ICMP_TYPE]));
	if (tb[PM_A_ICMP_CODE])
		fprintf(f, " icmp_code=%u", nla_get_u8(tb[PM_A_ICMP_CODE]));
	if (tb[PM_A_IFINDEX])
		fprintf(f, " ifindex=%u", nla_get_u32(tb[PM_A_IFINDEX]));
	if (tb[PM_A_AGE_MS])
		fprintf(f, " age_ms=%u", nla_get_u32(tb[PM_A_AGE_MS]));
	if (tb[PM_A_HELD])
		fprintf(f, " held=%u", nla_get_u32(tb[PM_A_HELD]));
	if (tb[PM_A_MARK])
		fprintf(f, " decided=%u", nla_get_u32(tb[PM_A_MARK]));
	if (tb[PM_A_OWNER]) {
		struct nlattr *o[PM_OWNER_A_MAX + 1];

		if (nla_parse_nested(o, PM_OWNER_A_MAX, tb[PM_A_OWNER], owner_policy) == 0) {
			if (o[PM_OWNER_A_UID])
				fprintf(f, " uid=%u", nla_get_u32(o[PM_OWNER_A_UID]));
			if (o[PM_OWNER_A_GID])
				fprintf(f, " gid=%u", nla_get_u32(o[PM_OWNER_A_GID]));
			if (o[PM_OWNER_A_INODE])
				fprintf(f, " inode=%llu", (unsigned long long)nla_get_u64(o[PM_OWNER_A_INODE]));
			if (o[PM_OWNER_A_PID])
				fprintf(f, " pid=%u", nla_get_u32(o[PM_OWNER_A_PID]));
			if (o[PM_OWNER_A_TGID])
				fprintf(f, " tgid=%u", nla_get_u32(o[PM_OWNER_A_TGID]));
			if (o[PM_OWNER_A_PPID])
				fprintf(f, " ppid=%u", nla_get_u32(o[PM_OWNER_A_PPID]));
			if (o[PM_OWNER_A_CGROUP_ID])
				fprintf(f, " cgroup=%llu", (unsigned long long)nla_get_u64(o[PM_OWNER_A_CGROUP_ID]));
			if (o[PM_OWNER_A_COMM])
				fprintf(f, " comm=%s", nla_get_string(o[PM_OWNER_A_COMM]));
			if (o[PM_OWNER_A_EXE])
				fprintf(f, " exe=%s", nla_get_string(o[PM_OWNER_A_EXE]));
		}
	}
	fputc('\n', f);
	fflush(f);
}

static int send_verdict(unsigned long long id, unsigned int mark)
{
	struct nl_msg *msg = new_msg(PM_CMD_VERDICT, 0);

	NLA_PUT_U64(msg, PM_A_FLOW_ID, id);
	NLA_PUT_U32(msg, PM_A_MARK, mark);
	if (opt.remember_ms)
		NLA_PUT_U32(msg, PM_A_REMEMBER_MS, opt.remember_ms);
	return request(ctl, msg);
nla_put_failure:
	nlmsg_free(msg);
	return -NLE_NOMEM;
}

/*
 * In the listen loop a verdict goes from the listener's own socket
 * without waiting for its ack, so that the next event is read at once;
 * an error comes back among the events (on_verdict_error()).  With
 * @flags NLM_F_ACK (a verdict by hand), *seq gets its sequence number.
 */
static int send_verdict_async(unsigned long long id, unsigned int mark,
			      unsigned int remember_ms, int flags,
			      unsigned int *seq)
{
	struct nl_msg *msg = new_msg(PM_CMD_VERDICT, flags);
	int err;

	if (nla_put_u64(msg, PM_A_FLOW_ID, id) || nla_put_u32(msg, PM_A_MARK, mark) ||
	    (remember_ms && nla_put_u32(msg, PM_A_REMEMBER_MS, remember_ms))) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	err = nl_send_auto(lsk, msg);
	if (seq)
		*seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	return err < 0 ? err : 0;
}

static void hand_reply(int err)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", err);

	sendto(hand.fd, buf, n, 0, (struct sockaddr *)&hand.peer, hand.peer_len);
	hand.busy = 0;
}

static int on_verdict_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	(void)arg;
	if (hand.busy && e->msg.nlmsg_seq == hand.seq) {
		hand_reply(-e->error);
		return NL_SKIP;
	}
	fprintf(opt.out, "verdict-error %s\n", strerror(-e->error));
	fflush(opt.out);
	return NL_SKIP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)arg;
	if (hand.busy && nlmsg_hdr(msg)->nlmsg_seq == hand.seq)
		hand_reply(0);
	return NL_OK;	/* NL_STOP would drop the events read with it */
}

/* A request "ID MARK [REMEMBER_MS]" on the control socket. */
static void on_hand_request(void)
{
	unsigned long long id;
	unsigned int mark, remember = 0;
	char buf[128];
	ssize_t n;
	int err;

	hand.peer_len = sizeof(hand.peer);
	n = recvfrom(hand.fd, buf, sizeof(buf) - 1, 0,
		     (struct sockaddr *)&hand.peer, &hand.peer_len);
	if (n <= 0)
		return;
	buf[n] = 0;
	if (sscanf(buf, "%llu %u %u", &id, &mark, &remember) < 2) {
		hand_reply(EINVAL);
		return;
	}
	hand.busy = 1;
	err = send_verdict_async(id, mark, remember, NLM_F_ACK, &hand.seq);
	if (err)
		hand_reply(nl_to_errno(err));
}

static int open_control(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* `verdict` through the running listener; returns its errno. */
static int verdict_by_hand(const char *control, int argc, char **argv)
{
	struct sockaddr_un to = { .sun_family = AF_UNIX }, me = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 60 };
	char buf[128];
	ssize_t n;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || strlen(control) >= sizeof(to.sun_path))
		return EIO;
	snprintf(me.sun_path, sizeof(me.sun_path), "%s.%d", control, getpid());
	unlink(me.sun_path);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
		return EIO;
	strcpy(to.sun_path, control);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(buf, sizeof(buf), "%s %s %s", argv[0], argv[1],
		     argc > 2 ? argv[2] : "0");
	if (sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("pm-listener: verdict: the listener's control socket");
		unlink(me.sun_path);
		return EIO;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	unlink(me.sun_path);
	close(fd);
	if (n <= 0) {
		fprintf(stderr, "pm-listener: verdict: no answer from the listener\n");
		return ETIMEDOUT;
	}
	buf[n] = 0;
	n = atoi(buf);
	if (n)
		fprintf(stderr, "pm-listener: verdict: %s\n", strerror(n));
	return n;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	unsigned int mark = opt.answer;
	int i, err;

	(void)arg;
	if (gh->cmd != PM_CMD_FLOW_NEW)
		return NL_SKIP;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL))
		return NL_SKIP;
	events++;
	if (!opt.quiet)
		print_flow(opt.out, "event", tb);
	if (tb[PM_A_MARK])	/* decided in the kernel: a report */
		return NL_OK;
	if (tb[PM_A_DST_PORT])
		for (i = 0; i < opt.nports; i++)
			if (opt.ports[i].port == nla_get_u16(tb[PM_A_DST_PORT]))
				mark = opt.ports[i].mark;
	if (mark && tb[PM_A_FLOW_ID]) {
		if (opt.delay_ms)
			usleep(opt.delay_ms * 1000);
		err = send_verdict_async(nla_get_u64(tb[PM_A_FLOW_ID]), mark,
					 opt.remember_ms, 0, NULL);
		if (err)
			fprintf(opt.out, "verdict-error %s\n", nl_geterror(err));
	}
	if (opt.count > 0 && events >= opt.count)
		stop = 1;
	return NL_OK;
}

static int skip_event(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_SKIP;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

#define KEEPALIVE_MS 100

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Registering again from the listener's socket; no ACK, so no reply. */
static void keepalive(struct nl_sock *sk)
{
	struct nl_msg *m = new_msg(PM_CMD_REGISTER, 0);

	if (nl_send_auto(sk, m) < 0)
		fprintf(stderr, "pm-listener: keep-alive failed\n");
	nlmsg_free(m);
}

/*
 * --quiet (the benchmarks): one datagram of events, walked in place, as
 * portmasterd reads them (daemon/intercept/kmod.c).  libnl's receive
 * loop copies each message into an allocation of its own and parses
 * every attribute: for a flow the kernel decided and only reported, that
 * cost more than the module's own work, and the benchmark measures the
 * module.  Return: whether a datagram was read.
 */
static int read_events_in_place(int fd)
{
	static char buf[64 << 10];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	struct nlmsghdr *nlh;
	int left;

	if (n < 0) {
		if (errno == ENOBUFS) {	/* we fell behind, as -NLE_NOMEM */
			fprintf(opt.out, "recv-error %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	left = (int)n;
	for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
		struct genlmsghdr *gh = nlmsg_data(nlh);
		struct nlattr *a, *id = NULL, *dport = NULL;
		unsigned int mark = opt.answer;
		int rem, i, err;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = nlmsg_data(nlh);

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			if (e->error)
				on_verdict_error(NULL, e, NULL);
			else if (hand.busy && e->msg.nlmsg_seq == hand.seq)
				hand_reply(0);
			continue;
		}
		if (nlh->nlmsg_type != family || nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) ||
		    gh->cmd != PM_CMD_FLOW_NEW)
			continue;
		events++;
		nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
			if (nla_type(a) == PM_A_MARK)
				break;	/* decided in the kernel: a report */
			if (nla_type(a) == PM_A_FLOW_ID && nla_len(a) == 8)
				id = a;
			else if (nla_type(a) == PM_A_DST_PORT && nla_len(a) == 2)
				dport = a;
		}
		if (!id)
			continue;
		for (i = 0; dport && i < opt.nports; i++)
			if (opt.ports[i].port == nla_get_u16(dport))
				mark = opt.ports[i].mark;
		if (mark) {
			err = send_verdict_async(nla_get_u64(id), mark, opt.remember_ms, 0, NULL);
			if (err)
				fprintf(opt.out, "verdict-error %s\n", nl_geterror(err));
		}
		if (opt.count > 0 && events >= opt.count)
			stop = 1;
	}
	return 1;
}

static int cmd_listen(int argc, char **argv)
{
	long long last_keepalive = mono_ms();
	int keepalive_ms = KEEPALIVE_MS;
	const char *ready = NULL, *control = NULL;
	struct sigaction sa;
	struct nl_sock *sk;
	int i, err;

	opt.out = stdout;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--answer") && i + 1 < argc) {
			opt.answer = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--answer-port") && i + 1 < argc &&
			   opt.nports < MAX_PORT_ANSWERS) {
			if (sscanf(argv[++i], "%u=%u", &opt.ports[opt.nports].port,
				   &opt.ports[opt.nports].mark) != 2)
				return 2;
			opt.nports++;
		} else if (!strcmp(argv[i], "--delay-ms") && i + 1 < argc) {
			opt.delay_ms = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			opt.count = strtol(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			opt.out = fopen(argv[++i], "a");
			if (!opt.out) {
				perror("pm-listener: --out");
				return 1;
			}
		} else if (!strcmp(argv[i], "--ready") && i + 1 < argc) {
			ready = argv[++i];
		} else if (!strcmp(argv[i], "--remember-ms") && i + 1 < argc) {
			opt.remember_ms = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--quiet")) {
			opt.quiet = 1;	/* for benchmarks: answer, print nothing */
		} else if (!strcmp(argv[i], "--no-keepalive")) {
			keepalive_ms = 0;
		} else if (!strcmp(argv[i], "--no-unregister")) {
			opt.unregister = 0;
		} else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			control = argv[++i];
		} else {
			fprintf(stderr, "pm-listener: listen: bad option %s\n", argv[i]);
			return 2;
		}
	}

	if (control) {
		hand.fd = open_control(control);
		if (hand.fd < 0) {
			perror("pm-listener: --control");
			return 1;
		}
	}
	sk = connect_genl();
	lsk = sk;
	nl_socket_disable_seq_check(sk);
	nl_socket_set_buffer_size(sk, 8 << 20, 0);
	/* one recvmsg for many events, without peeking first */
	nl_socket_disable_msg_peek(sk);
	nl_socket_set_msg_buf_size(sk, 64 << 10);
	/* The module announces flows from the moment it has registered us,
	 * ahead of its ACK under traffic: those are events too.  The wait
	 * for the ACK reads one datagram; an event there goes to on_event,
	 * and the ACK then comes to on_ack in the loop below. */
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, NULL);
	err = request(sk, new_msg(PM_CMD_REGISTER, NLM_F_ACK));
	if (err) {
		fprintf(stderr, "pm-listener: register: %s\n", nl_geterror(err));
		return nl_to_errno(err);
	}
	nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, NULL);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_verdict_error, NULL);
	nl_socket_disable_auto_ack(sk);	/* keep-alives, verdicts: errors only */

	/* no SA_RESTART: a signal must break the blocking receive */
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (ready) {
		FILE *r = fopen(ready, "w");

		if (r)
			fclose(r);
	}
	/*
	 * libnl retries a receive interrupted by a signal, so wait in poll(),
	 * which a signal does interrupt, and read without blocking.
	 */
	nl_socket_set_nonblocking(sk);
	while (!stop) {
		struct pollfd pfd[2] = {
			{ .fd = nl_socket_get_fd(sk), .events = POLLIN },
			{ .fd = hand.busy ? -1 : hand.fd, .events = POLLIN },
		};
		int n = poll(pfd, 2, keepalive_ms ? keepalive_ms : -1);

		if (keepalive_ms && mono_ms() - last_keepalive >= keepalive_ms) {
			keepalive(sk);
			last_keepalive = mono_ms();
		}
		if (n <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			on_hand_request();
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (opt.quiet && !opt.delay_ms) {
			for (i = 0; i < 64 && read_events_in_place(nl_socket_get_fd(sk)); i++)
				;
			continue;
		}
		err = nl_recvmsgs_default(sk);
		if (err < 0 && err != -NLE_INTR && err != -NLE_AGAIN) {
			fprintf(opt.out, "recv-error %s\n", nl_geterror(err));
			if (err == -NLE_NOMEM)	/* ENOBUFS: we fell behind */
				continue;
			break;
		}
	}
	if (opt.unregister) {
		/* from the listener's own socket, ignoring events still queued */
		fcntl(nl_socket_get_fd(sk), F_SETFL, 0);
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, skip_event, NULL);
		err = request(sk, new_msg(PM_CMD_UNREGISTER, NLM_F_ACK));
		if (err)
			fprintf(stderr, "pm-listener: unregister: %s\n", nl_geterror(err));
	}
	nl_socket_free(sk);
	if (control)
		unlink(control);
	return 0;
}

static int cmd_register(void)
{
	struct nl_sock *sk = connect_genl();
	int err = request(sk, new_msg(PM_CMD_REGISTER, NLM_F_ACK));

	if (err) {
		printf("register: %s\n", nl_geterror(err));
		return nl_to_errno(err);
	}
	err = request(sk, new_msg(PM_CMD_UNREGISTER, NLM_F_ACK));
	printf("register: ok\n");
	return nl_to_errno(err);
}

static struct nla_policy stats_policy[PM_STATS_A_MAX + 1] = {
	[PM_STATS_A_VERDICTS] = { .type = NLA_NESTED },
};

static const char *const stat_names[PM_STATS_A_MAX + 1] = {
	[PM_STATS_A_PACKETS] = "packets",
	[PM_STATS_A_INTERCEPTED] = "intercepted",
	[PM_STATS_A_PENDING] = "pending",
	[PM_STATS_A_HELD] = "held",
	[PM_STATS_A_FAST_PATH] = "fast_path",
	[PM_STATS_A_TIMEOUTS] = "timeouts",
	[PM_STATS_A_TABLE_FULL] = "table_full",
	[PM_STATS_A_QUEUE_FULL] = "queue_full",
	[PM_STATS_A_EVENT_FAILED] = "event_failed",
	[PM_STATS_A_POLICY_ACCEPT] = "policy_accept",
	[PM_STATS_A_POLICY_DROP] = "policy_drop",
	[PM_STATS_A_LISTENER_LOST] = "listener_lost",
	[PM_STATS_A_REMEMBERED] = "remembered",
	[PM_STATS_A_LISTENER_SILENT] = "listener_silent",
	[PM_STATS_A_QUOTA_FULL] = "quota_full",
	[PM_STATS_A_NO_MEMORY] = "no_memory",
	[PM_STATS_A_NOT_LOCAL] = "not_local",
	[PM_STATS_A_NO_ROUTE] = "no_route",
};

static const char *stats_key;

static void print_stat(const char *name, unsigned long long v)
{
	if (!stats_key)
		printf("%s=%llu\n", name, v);
	else if (!strcmp(stats_key, name))
		printf("%llu\n", v);
}

static int on_stats(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1], *st[PM_STATS_A_MAX + 1], *v;
	char name[32];
	int i, rem;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL) || !tb[PM_A_STATS])
		return NL_SKIP;
	if (nla_parse_nested(st, PM_STATS_A_MAX, tb[PM_A_STATS], stats_policy))
		return NL_SKIP;
	for (i = 1; i <= PM_STATS_A_MAX; i++)
		if (st[i] && stat_names[i])
			print_stat(stat_names[i], nla_get_u64(st[i]));
	if (st[PM_STATS_A_VERDICTS])
		nla_for_each_nested(v, st[PM_STATS_A_VERDICTS], rem) {
			snprintf(name, sizeof(name), "verdict_%d", nla_type(v));
			print_stat(name, nla_get_u64(v));
		}
	if (tb[PM_A_LISTENER])
		print_stat("listener", nla_get_u32(tb[PM_A_LISTENER]));
	if (tb[PM_A_LISTENER_STATE])
		print_stat("listener_state", nla_get_u8(tb[PM_A_LISTENER_STATE]));
	return NL_OK;
}

/* A reroute's place, printed as NAME4=, NAME6= and NAMEport= lines. */
static void print_reroute(const char *name, struct nlattr *nest)
{
	struct nlattr *r[PM_REROUTE_A_MAX + 1];
	char buf[INET6_ADDRSTRLEN];

	if (!nest || nla_parse_nested(r, PM_REROUTE_A_MAX, nest, NULL))
		return;
	if (r[PM_REROUTE_A_ADDR4] && nla_len(r[PM_REROUTE_A_ADDR4]) == 4)
		printf("%s4=%s\n", name,
		       inet_ntop(AF_INET, nla_data(r[PM_REROUTE_A_ADDR4]), buf, sizeof(buf)));
	if (r[PM_REROUTE_A_ADDR6] && nla_len(r[PM_REROUTE_A_ADDR6]) == 16)
		printf("%s6=%s\n", name,
		       inet_ntop(AF_INET6, nla_data(r[PM_REROUTE_A_ADDR6]), buf, sizeof(buf)));
	if (r[PM_REROUTE_A_PORT])
		printf("%sport=%u\n", name, nla_get_u16(r[PM_REROUTE_A_PORT]));
}

static int on_config(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1], *c[PM_CONFIG_A_MAX + 1];

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL) || !tb[PM_A_CONFIG])
		return NL_SKIP;
	if (nla_parse_nested(c, PM_CONFIG_A_MAX, tb[PM_A_CONFIG], NULL))
		return NL_SKIP;
	if (c[PM_CONFIG_A_FAIL_POLICY])
		printf("policy=%s\n", nla_get_u8(c[PM_CONFIG_A_FAIL_POLICY]) ? "closed" : "open");
	if (c[PM_CONFIG_A_TIMEOUT_MS])
		printf("timeout=%u\n", nla_get_u32(c[PM_CONFIG_A_TIMEOUT_MS]));
	if (c[PM_CONFIG_A_MAX_PENDING])
		printf("pending=%u\n", nla_get_u32(c[PM_CONFIG_A_MAX_PENDING]));
	if (c[PM_CONFIG_A_MAX_HELD])
		printf("held=%u\n", nla_get_u32(c[PM_CONFIG_A_MAX_HELD]));
	print_reroute("dns", c[PM_CONFIG_A_REROUTE_DNS]);
	print_reroute("tunnel", c[PM_CONFIG_A_REROUTE_TUNNEL]);
	return NL_OK;
}

/*
 * The settings of one reroute place, from the KEY=VALUE arguments that
 * start with @name: NAME=off (an empty nest), NAME4=, NAME6=, NAMEport=.
 * Returns 0, 1 when none names it, or 2 for a bad one.
 */
static int put_reroute(struct nl_msg *msg, int type, const char *name,
		       int argc, char **argv)
{
	size_t n = strlen(name);
	struct nlattr *nest = NULL;
	unsigned char addr[16];
	int i;

	for (i = 0; i < argc; i++) {
		const char *k = argv[i], *v = strchr(argv[i], '=');

		if (!v || strncmp(k, name, n))
			continue;
		v++;
		if (!nest)
			nest = nla_nest_start(msg, type);
		if (!strncmp(k + n, "=off", 4))	/* no address: off */
			nla_put_u16(msg, PM_REROUTE_A_PORT, 0);
		else if (!strncmp(k + n, "4=", 2) && inet_pton(AF_INET, v, addr) == 1)
			nla_put(msg, PM_REROUTE_A_ADDR4, 4, addr);
		else if (!strncmp(k + n, "6=", 2) && inet_pton(AF_INET6, v, addr) == 1)
			nla_put(msg, PM_REROUTE_A_ADDR6, 16, addr);
		else if (!strncmp(k + n, "port=", 5))
			nla_put_u16(msg, PM_REROUTE_A_PORT, strtoul(v, NULL, 0));
		else
			return 2;
	}
	if (!nest)
		return 1;
	nla_nest_end(msg, nest);
	return 0;
}

static int on_flow(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1];

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL))
		return NL_SKIP;
	print_flow(stdout, "flow", tb);
	return NL_OK;
}

static int on_reset(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[PM_A_MAX + 1];

	(void)arg;
	if (!genlmsg_parse(nlmsg_hdr(msg), 0, tb, PM_A_MAX, NULL) &&
	    tb[PM_A_RESET_COUNT])
		printf("reset=%u\n", nla_get_u32(tb[PM_A_RESET_COUNT]));
	return NL_OK;
}

/*
 * A request answered by a reply (or a dump) that goes to @cb; an error
 * comes back instead of the reply.  Returns an errno.
 */
static int query(int cmd, int flags, nl_recvmsg_msg_cb_t cb)
{
	struct nl_msg *msg = new_msg(cmd, flags);
	int err;

	nl_socket_modify_cb(ctl, NL_CB_VALID, NL_CB_CUSTOM, cb, NULL);
	err = nl_send_auto(ctl, msg);
	nlmsg_free(msg);
	if (err >= 0)
		err = nl_recvmsgs_default(ctl);
	if (err < 0) {
		fprintf(stderr, "pm-listener: %s\n", nl_geterror(err));
		return nl_to_errno(err);
	}
	return 0;
}

static int cmd_config(int argc, char **argv)
{
	struct nl_msg *msg;
	struct nlattr *nest;
	unsigned long v;
	char *eq;
	int i;

	if (!argc)
		return query(PM_CMD_GET_CONFIG, 0, on_config);
	msg = new_msg(PM_CMD_SET_CONFIG, NLM_F_ACK);
	nest = nla_nest_start(msg, PM_A_CONFIG);
	if (put_reroute(msg, PM_CONFIG_A_REROUTE_DNS, "dns", argc, argv) == 2 ||
	    put_reroute(msg, PM_CONFIG_A_REROUTE_TUNNEL, "tunnel", argc, argv) == 2)
		return 2;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "dns", 3) || !strncmp(argv[i], "tunnel", 6))
			continue;
		eq = strchr(argv[i], '=');
		if (!eq)
			return 2;
		*eq++ = 0;
		v = strtoul(eq, NULL, 0);
		if (!strcmp(argv[i], "policy"))
			nla_put_u8(msg, PM_CONFIG_A_FAIL_POLICY,
				   !strcmp(eq, "closed") ? PM_FAIL_CLOSED :
				   !strcmp(eq, "open") ? PM_FAIL_OPEN : v);
		else if (!strcmp(argv[i], "timeout"))
			nla_put_u32(msg, PM_CONFIG_A_TIMEOUT_MS, v);
		else if (!strcmp(argv[i], "pending"))
			nla_put_u32(msg, PM_CONFIG_A_MAX_PENDING, v);
		else if (!strcmp(argv[i], "held"))
			nla_put_u32(msg, PM_CONFIG_A_MAX_HELD, v);
		else
			return 2;
	}
	nla_nest_end(msg, nest);
	i = request(ctl, msg);
	if (i) {
		fprintf(stderr, "pm-listener: config: %s\n", nl_geterror(i));
		return nl_to_errno(i);
	}
	return query(PM_CMD_GET_CONFIG, 0, on_config);
}

/* Send CMD with arbitrary u32 attributes: for the validation tests. */
static int cmd_raw(int argc, char **argv)
{
	struct nl_msg *msg;
	unsigned int type, val;
	int i;

	if (argc < 1)
		return 2;
	msg = new_msg(strtoul(argv[0], NULL, 0), NLM_F_ACK);
	for (i = 1; i < argc; i++) {
		if (sscanf(argv[i], "%u=%u", &type, &val) != 2)
			return 2;
		nla_put_u32(msg, type, val);
	}
	i = request(ctl, msg);
	printf("raw: %s\n", i ? nl_geterror(i) : "ok");
	return nl_to_errno(i);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pm-listener listen|register|verdict|stats|config|flows|reset|raw ...\n");
		return 2;
	}
	ctl = connect_genl();
	if (!strcmp(argv[1], "listen"))
		return cmd_listen(argc - 2, argv + 2);
	if (!strcmp(argv[1], "register"))
		return cmd_register();
	if (!strcmp(argv[1], "verdict") && argc >= 4) {
		const char *control = getenv("PM_LISTENER_CONTROL");
		int direct = !strcmp(argv[2], "--direct");
		int err;

		if (direct) {
			argc--;
			argv++;
		}
		if (argc != 4 && argc != 5)
			return 2;
		if (!direct && control && *control)
			return verdict_by_hand(control, argc - 2, argv + 2);
		if (argc == 5)
			opt.remember_ms = strtoul(argv[4], NULL, 0);
		err = send_verdict(strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
		if (err)
			fprintf(stderr, "pm-listener: verdict: %s\n", nl_geterror(err));
		return nl_to_errno(err);
	}
	if (!strcmp(argv[1], "stats")) {
		stats_key = argc > 2 ? argv[2] : NULL;
		return query(PM_CMD_GET_STATS, 0, on_stats);
	}
	if (!strcmp(argv[1], "config"))
		return cmd_config(argc - 2, argv + 2);
	if (!strcmp(argv[1], "flows"))
		return query(PM_CMD_GET_FLOWS, NLM_F_DUMP, on_flow);
	if (!strcmp(argv[1], "reset"))
		return query(PM_CMD_RESET, 0, on_reset);
	if (!strcmp(argv[1], "raw"))
		return cmd_raw(argc - 2, argv + 2);
	fprintf(stderr, "pm-listener: unknown command %s\n", argv[1]);
	return 2;
}
