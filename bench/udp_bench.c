// SPDX-License-Identifier: GPL-2.0
/*
 * New UDP flows per second, for bench/module.sh.
 *
 *   udp_bench server PORT NPORTS        echo every datagram, on NPORTS ports
 *   udp_bench client ADDR PORT NPORTS SECS [INFLIGHT]
 *                                       query/answer loop; prints flows/s
 *
 * Each query comes from a new socket (a new source port) to the next of
 * NPORTS server ports, so each is a new flow for a firewall, and counts
 * only once its answer is back, as a DNS lookup would.  A query with no
 * answer within a second counts as failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 256
#define MAX_PORTS 1024

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int server(int port, int nports)
{
	int ep = epoll_create1(0);
	char buf[2048];

	for (int i = 0; i < nports; i++) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons((uint16_t)(port + i)) };
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = socket(AF_INET6, SOCK_DGRAM, 0), zero = 0;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("server bind");
			return 1;
		}
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	for (;;) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, -1);

		for (int i = 0; i < n; i++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r = recvfrom(ev[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT,
					     (struct sockaddr *)&from, &fl);

			if (r > 0)
				sendto(ev[i].data.fd, buf, (size_t)r, 0,
				       (struct sockaddr *)&from, fl);
		}
	}
}

struct query {
	int fd;
	double sent;
};

static struct sockaddr_in dst;
static int base_port, nports;
static unsigned long next_port;

static int start(struct query *q, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };

	q->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (q->fd < 0)
		return -1;
	dst.sin_port = htons((uint16_t)(base_port + (int)(next_port++ % (unsigned long)nports)));
	if (connect(q->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
	    send(q->fd, "q", 1, 0) < 0) {
		close(q->fd);
		q->fd = -1;
		return -1;
	}
	q->sent = now();
	ev.data.ptr = q;
	epoll_ctl(ep, EPOLL_CTL_ADD, q->fd, &ev);
	return 0;
}

static int client(const char *addr, double secs, int inflight)
{
	static struct query qs[MAX_INFLIGHT];
	int ep = epoll_create1(0);
	long ok = 0, failed = 0;
	double t0, t1, checked;

	dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		return 2;
	}
	for (int i = 0; i < inflight; i++)
		start(&qs[i], ep);
	t0 = now();
	t1 = checked = t0;
	while (t1 - t0 < secs) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, 100);
		char buf[16];

		for (int i = 0; i < n; i++) {
			struct query *q = ev[i].data.ptr;

			if (recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				ok++;
			else
				failed++;
			close(q->fd);
			start(q, ep);
		}
		t1 = now();
		if (t1 - checked > 0.2) {	/* queries lost on the way */
			for (int i = 0; i < inflight; i++) {
				if (qs[i].fd >= 0 && t1 - qs[i].sent < 1.0)
					continue;
				if (qs[i].fd >= 0) {
					close(qs[i].fd);
					failed++;
				}
				start(&qs[i], ep);
			}
			checked = t1;
		}
	}
	printf("%.0f %ld\n", (double)ok / (t1 - t0), failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atoi(argv[3]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "client")) {
		int inflight = argc == 7 ? atoi(argv[6]) : 1;

		base_port = atoi(argv[3]);
		nports = atoi(argv[4]);
		if (nports < 1 || nports > MAX_PORTS || inflight < 1 || inflight > MAX_INFLIGHT)
			return 2;
		return client(argv[2], atof(argv[5]), inflight);
	}
	fprintf(stderr, "usage: udp_bench server PORT NPORTS | client ADDR PORT NPORTS SECS [INFLIGHT]\n");
	return 2;
}
