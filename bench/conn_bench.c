// SPDX-License-Identifier: GPL-2.0
/*
 * New TCP connections per second, for bench/fallback.sh.
 *
 *   conn_bench server PORT              accept and close, forever
 *   conn_bench client ADDR PORT SECS [INFLIGHT]
 *                                       connect/close loop; prints conn/s
 *
 * The client keeps INFLIGHT (default 1) non-blocking connects going, and
 * closes each as soon as it is established, with SO_LINGER 0 so that no
 * TIME_WAIT state exhausts the ports.  Each connection is a new flow for
 * a firewall: a SYN to decide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int server(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), one = 1, zero = 0;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		perror("server");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

static int start(struct sockaddr_storage *dst, socklen_t len, int ep)
{
	int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	if (connect(fd, (struct sockaddr *)dst, len) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

static int client(const char *addr, int port, double secs, int inflight)
{
	struct sockaddr_storage dst = { 0 };
	socklen_t len;
	int ep = epoll_create1(0);
	long ok = 0, failed = 0;
	double t0, t1;

	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
		dst.ss_family = AF_INET;
		((struct sockaddr_in *)&dst)->sin_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&dst)->sin6_addr) == 1) {
		dst.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&dst)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "bad address %s\n", addr);
		return 2;
	}
	for (int i = 0; i < inflight; i++)
		start(&dst, len, ep);
	t0 = now();
	t1 = t0;
	while (t1 - t0 < secs) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, 1000);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd, err = 0;
			socklen_t el = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err)
				failed++;
			else
				ok++;
			close(fd);
			start(&dst, len, ep);
		}
		t1 = now();
	}
	printf("%.0f %ld\n", (double)ok / (t1 - t0), failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atof(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
	fprintf(stderr, "usage: conn_bench server PORT | client ADDR PORT SECS [INFLIGHT]\n");
	return 2;
}
