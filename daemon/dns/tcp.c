// SPDX-License-Identifier: GPL-2.0
/*
 * The resolver's TCP side (RFC 7766): each message with its 2-byte
 * length, several on one connection, answers in any order.  Bounds:
 * TCP_MAX_CONNS connections (refused beyond), TCP_MAX_INFLIGHT queries
 * and TCP_MAX_OUT bytes of answers waiting per connection (closed
 * beyond), TCP_IDLE_MS idle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "common/util.h"
#include "daemon.h"
#include "dns/internal.h"

static void on_conn(struct pmd *d, int fd, uint32_t events, void *arg);
static void conn_close(struct dns *n, struct tcp_conn *c);

bool tcp_alive(const struct dns *n, const struct tcp_conn *c)
{
	for (const struct tcp_conn *x = n->conns; x; x = x->next)
		if (x == c)
			return true;
	return false;
}

static void conn_flush(struct dns *n, struct tcp_conn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t w = send(c->fd, c->out.p + c->outoff, c->out.len - c->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (!c->want_out) {
					c->want_out = true;
					pmd_watch(n->d, c->fd, EPOLLIN | EPOLLOUT, on_conn, c);
				}
				return;
			}
			conn_close(n, c);
			return;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->out.len) {
		c->out.len = c->outoff = 0;
		if (c->want_out) {
			c->want_out = false;
			pmd_watch(n->d, c->fd, EPOLLIN, on_conn, c);
		}
	}
}

static void conn_close(struct dns *n, struct tcp_conn *c)
{
	struct tcp_conn **pp = &n->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	queries_detach(n, c);
	pmd_unwatch(n->d, c->fd);
	close(c->fd);
	buf_free(&c->out);
	free(c->in);
	free(c);
	n->nconns--;
}

static void on_conn(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct dns *n = d->dns;
	struct tcp_conn *c = arg;

	(void)fd;
	if (!n)
		return;
	c->last_ms = now_ms();
	if (events & EPOLLOUT) {
		conn_flush(n, c);
		if (!tcp_alive(n, c))
			return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		size_t want = c->inlen < 2 ? 2 : 2 + (size_t)(c->in[0] << 8 | c->in[1]);
		ssize_t r;

		if (c->inlen == want && want > 2) {
			if (c->inflight >= TCP_MAX_INFLIGHT) {
				conn_close(n, c);
				return;
			}
			dns_handle(n, c->in + 2, want - 2, true, c, -1, &c->local, &c->peer, c->peerlen);
			/* dns_handle() may have closed c (its output overflowed) */
			if (!tcp_alive(n, c))
				return;
			c->inlen = 0;
			continue;
		}
		if (want == 2 && c->inlen == 2 && c->in[0] == 0 && c->in[1] == 0) {
			conn_close(n, c);	/* a zero-length message */
			return;
		}
		r = recv(c->fd, c->in + c->inlen, want - c->inlen, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(n, c);
			return;
		}
		if (r < 0)
			return;
		c->inlen += (size_t)r;
	}
}

void tcp_on_accept(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct dns *n = arg;
	int li = listener_index(n, fd, true);

	(void)events;
	for (int i = 0; i < 16 && li >= 0; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_conn *c;

		if (cfd < 0)
			break;
		if (n->nconns >= TCP_MAX_CONNS) {
			n->st.tcp_refused++;
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(2 + 65535);
		if (!c || !c->in || pmd_watch(d, cfd, EPOLLIN, on_conn, c) < 0) {
			if (c)
				free(c->in);
			free(c);
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->local = n->bound[li];
		memcpy(&c->peer, &peer, plen);
		c->peerlen = plen;
		c->last_ms = now_ms();
		buf_init(&c->out);
		c->next = n->conns;
		n->conns = c;
		n->nconns++;
		n->st.tcp_conns++;
	}
}

int tcp_send(struct dns *n, struct tcp_conn *c, const uint8_t *wire, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (c->out.len - c->outoff + len + 2 > TCP_MAX_OUT) {
		/* a client that does not read its answers */
		conn_close(n, c);
		return -1;
	}
	buf_add(&c->out, hdr, 2);
	buf_add(&c->out, wire, len);
	conn_flush(n, c);
	return 0;
}

void tcp_close_all(struct dns *n)
{
	while (n->conns)
		conn_close(n, n->conns);
}

void tcp_expire(struct dns *n, uint64_t now)
{
	struct tcp_conn *c, *next;

	for (c = n->conns; c; c = next) {
		next = c->next;
		if (!c->inflight && now - c->last_ms > TCP_IDLE_MS)
			conn_close(n, c);
	}
}
