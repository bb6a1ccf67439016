// SPDX-License-Identifier: GPL-2.0
/* The DoT bridge (see dot.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/log.h"
#include "dns/dot.h"

#define DOT_IO_TIMEOUT_MS 10000

struct dot {
	int lfd;
	int stop_pipe[2];
	pthread_t acceptor;
	gnutls_certificate_credentials_t cred;
	struct dns_upstream ups[DNS_MAX_UPSTREAMS];
	int nups;
	atomic_int conns;
	atomic_bool stopping;
};

struct pair {
	struct dot *t;
	int cfd;
};

static int connect_tcp(const struct dns_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct timeval tv = { .tv_sec = DOT_IO_TIMEOUT_MS / 1000 };

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->addr, 16);
		s6->sin6_port = htons(a->port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->addr, 4);
		s4->sin_port = htons(a->port);
		len = sizeof(*s4);
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TLS session to the first upstream that connects and proves its name. */
static gnutls_session_t open_upstream(struct dot *t, int *sfd)
{
	for (int i = 0; i < t->nups; i++) {
		const struct dns_upstream *u = &t->ups[i];
		char ip[INET6_ADDRSTRLEN];
		/* without #NAME the certificate must name the address */
		const char *name = u->tls_name[0] ? u->tls_name : ip;
		gnutls_session_t s;
		int fd, r;

		inet_ntop(u->a.family, u->a.addr, ip, sizeof(ip));
		fd = connect_tcp(&u->a);
		if (fd < 0)
			continue;
		if (gnutls_init(&s, GNUTLS_CLIENT) < 0) {
			close(fd);
			continue;
		}
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred);
		if (u->tls_name[0])
			gnutls_server_name_set(s, GNUTLS_NAME_DNS, u->tls_name, strlen(u->tls_name));
		gnutls_session_set_verify_cert(s, name, 0);
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, DOT_IO_TIMEOUT_MS);
		do {
			r = gnutls_handshake(s);
		} while (r < 0 && !gnutls_error_is_fatal(r));
		if (r < 0) {
			pm_warn("resolver: TLS to %s@%u#%s: %s", ip, u->a.port, name,
				gnutls_strerror(r));
			gnutls_deinit(s);
			close(fd);
			continue;
		}
		*sfd = fd;
		return s;
	}
	return NULL;
}

static void *serve(void *arg)
{
	struct pair *p = arg;
	struct dot *t = p->t;
	int sfd = -1;
	gnutls_session_t s = open_upstream(t, &sfd);
	char buf[16384];

	while (s && !atomic_load(&t->stopping)) {
		struct pollfd pf[2] = { { .fd = p->cfd, .events = POLLIN },
					{ .fd = sfd, .events = POLLIN } };
		ssize_t n;

		/* data GnuTLS has already decrypted does not show in poll */
		if (!gnutls_record_check_pending(s) && poll(pf, 2, DOT_IO_TIMEOUT_MS * 3) <= 0)
			break;
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(p->cfd, buf, sizeof(buf), 0);
			if (n <= 0 || gnutls_record_send(s, buf, (size_t)n) != n)
				break;
		}
		if (gnutls_record_check_pending(s) || (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = gnutls_record_recv(s, buf, sizeof(buf));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n <= 0 || send(p->cfd, buf, (size_t)n, MSG_NOSIGNAL) != n)
				break;
		}
	}
	if (s) {
		gnutls_bye(s, GNUTLS_SHUT_WR);
		gnutls_deinit(s);
		close(sfd);
	}
	close(p->cfd);
	atomic_fetch_sub(&t->conns, 1);
	free(p);
	return NULL;
}

static void *acceptor(void *arg)
{
	struct dot *t = arg;

	for (;;) {
		struct pollfd pf[2] = { { .fd = t->lfd, .events = POLLIN },
					{ .fd = t->stop_pipe[0], .events = POLLIN } };
		struct pair *p;
		pthread_t th;
		pthread_attr_t at;
		int cfd;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		cfd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		if (atomic_load(&t->conns) >= DOT_MAX_CONNS || !(p = malloc(sizeof(*p)))) {
			close(cfd);	/* libunbound retries, or answers SERVFAIL */
			continue;
		}
		p->t = t;
		p->cfd = cfd;
		atomic_fetch_add(&t->conns, 1);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, serve, p) != 0) {
			atomic_fetch_sub(&t->conns, 1);
			close(cfd);
			free(p);
		}
		pthread_attr_destroy(&at);
	}
	return NULL;
}

struct dot *dot_start(const struct dns_upstream *ups, int n, const char *ca_file,
		      uint16_t *port, char *err, size_t errlen)
{
	struct dot *t = calloc(1, sizeof(*t));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int r;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->lfd = -1;
	t->stop_pipe[0] = t->stop_pipe[1] = -1;
	memcpy(t->ups, ups, sizeof(*ups) * (size_t)n);
	t->nups = n;
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		snprintf(err, errlen, "GnuTLS: no credentials");
		free(t);
		return NULL;
	}
	r = ca_file ? gnutls_certificate_set_x509_trust_file(t->cred, ca_file, GNUTLS_X509_FMT_PEM) :
		      gnutls_certificate_set_x509_system_trust(t->cred);
	if (r <= 0) {
		snprintf(err, errlen, "resolver: no CA certificate from %s%s%s",
			 ca_file ? ca_file : "the system's store", r < 0 ? ": " : "",
			 r < 0 ? gnutls_strerror(r) : "");
		goto fail;
	}
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->lfd < 0 || bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(t->lfd, 64) < 0 || getsockname(t->lfd, (struct sockaddr *)&sa, &len) < 0 ||
	    pipe2(t->stop_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "resolver: TLS bridge: %s", strerror(errno));
		goto fail;
	}
	*port = ntohs(sa.sin_port);
	if (pthread_create(&t->acceptor, NULL, acceptor, t) != 0) {
		snprintf(err, errlen, "resolver: TLS bridge: cannot start its thread");
		goto fail;
	}
	return t;
fail:
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->stop_pipe[0] >= 0) {
		close(t->stop_pipe[0]);
		close(t->stop_pipe[1]);
	}
	gnutls_certificate_free_credentials(t->cred);
	free(t);
	return NULL;
}

void dot_stop(struct dot *t)
{
	char c = 1;

	if (!t)
		return;
	atomic_store(&t->stopping, true);
	if (write(t->stop_pipe[1], &c, 1) < 0)
		pm_warn("resolver: cannot stop the TLS bridge: %s", strerror(errno));
	pthread_join(t->acceptor, NULL);
	close(t->lfd);
	close(t->stop_pipe[0]);
	close(t->stop_pipe[1]);
	/* connection threads see "stopping" within their poll timeout; while
	 * one still runs it holds t, which then stays (we are exiting) */
	if (atomic_load(&t->conns) == 0) {
		gnutls_certificate_free_credentials(t->cred);
		free(t);
	}
}
