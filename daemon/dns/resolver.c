// SPDX-License-Identifier: GPL-2.0
/*
 * The resolver as the daemon starts, stops, reloads and asks it: its
 * listeners (UDP here, TCP in tcp.c, each query in query.c), libunbound's
 * fd in the event loop, and its counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>
#include <unbound.h>
#include "common/log.h"
#include "common/util.h"
#include "control/proto.h"
#include "daemon.h"
#include "dns/dns.h"
#include "dns/dot.h"
#include "dns/internal.h"

/* ---- sockets ---------------------------------------------------------- */

int listener_index(struct dns *n, int fd, bool tcp)
{
	for (int i = 0; i < n->nlisten; i++)
		if ((tcp ? n->tcp[i] : n->udp[i]) == fd)
			return i;
	return -1;
}

static void on_udp(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct dns *n = arg;
	int li = listener_index(n, fd, false);

	(void)events;
	(void)d;
	if (li < 0)
		return;
	n->batch.fd = fd;
	n->batch.open = true;
	for (int burst = 0; burst < 4; burst++) {
		struct mmsghdr mm[UDP_BATCH];
		struct iovec iov[UDP_BATCH];
		struct sockaddr_storage peer[UDP_BATCH];
		int got;

		/* one syscall for a burst of queries, each in a 2 KiB slot
		 * of rx: more than any query needs */
		for (int i = 0; i < UDP_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = n->rx + i * (sizeof(n->rx) / UDP_BATCH),
						 .iov_len = sizeof(n->rx) / UDP_BATCH };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &peer[i],
							       .msg_namelen = sizeof(peer[i]),
							       .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		got = recvmmsg(fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			/* cut short: never read a part of a message as a whole
			 * one; it is dropped as unreadable */
			size_t len = mm[i].msg_hdr.msg_flags & MSG_TRUNC ? 0 : mm[i].msg_len;

			dns_handle(n, iov[i].iov_base, len, false, NULL, fd, &n->bound[li], &peer[i],
				   mm[i].msg_hdr.msg_namelen);
		}
		udp_batch_flush(n);
		if (got < UDP_BATCH)
			break;
	}
	n->batch.open = false;
}

static void on_unbound(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct dns *n = arg;

	(void)d;
	(void)fd;
	(void)events;
	if (ub_process(n->ub) != 0)
		pm_warn("resolver: libunbound could not process its answers");
}

static int open_listener(const struct dns_addr *a, int type, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rcv = 4 << 20, e;
	char s[INET6_ADDRSTRLEN];

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
	fd = socket(a->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* TCP only: on UDP it would let another resolver share the port */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (type == SOCK_STREAM && listen(fd, 128) < 0))
		goto fail;
	return fd;
fail:
	e = errno;
	inet_ntop(a->family, a->addr, s, sizeof(s));
	snprintf(err, errlen, "resolver: cannot listen on %s%s%s:%u/%s: %s%s",
		 a->family == AF_INET6 ? "[" : "", s, a->family == AF_INET6 ? "]" : "", a->port,
		 type == SOCK_DGRAM ? "udp" : "tcp", strerror(e),
		 e == EADDRINUSE ? " (another resolver there? set resolver = ... or none)" : "");
	if (fd >= 0)
		close(fd);
	return -e;
}

int dns_start(struct pmd *d, char *err, size_t errlen)
{
	const struct dns_config *c = &d->cfg.dns;
	struct dns *n;

	if (!c->enabled)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->d = d;
	n->ubfd = -1;
	for (int i = 0; i < DNS_MAX_LISTEN; i++)
		n->udp[i] = n->tcp[i] = -1;
	if (getrandom(&n->seed, sizeof(n->seed), 0) != sizeof(n->seed))
		n->seed = now_ms() ^ (uint64_t)getpid() << 32;
	n->names = namecache_new(c->cache_entries);
	n->ans = anscache_new();
	blocklist_init(&n->bl, n->seed);
	blocklist_init(&n->doh, n->seed);
	d->dns = n;
	if (!n->names || !n->ans) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (dns_load_lists(n, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < c->nlisten; i++) {
		char msg[256];
		int u = open_listener(&c->listen[i], SOCK_DGRAM, msg, sizeof(msg));
		int t = u >= 0 ? open_listener(&c->listen[i], SOCK_STREAM, msg, sizeof(msg)) : -1;

		if (u < 0 || t < 0) {
			if (u >= 0)
				close(u);
			/* a host without IPv6 still gets its IPv4 resolver */
			if (c->listen[i].family == AF_INET6 && (u == -EADDRNOTAVAIL || t == -EADDRNOTAVAIL ||
								u == -EAFNOSUPPORT)) {
				pm_warn("%s; IPv6 resolver left out", msg);
				continue;
			}
			snprintf(err, errlen, "%s", msg);
			goto fail;
		}
		n->udp[n->nlisten] = u;
		n->tcp[n->nlisten] = t;
		n->bound[n->nlisten] = c->listen[i];
		if (pmd_watch(d, u, EPOLLIN, on_udp, n) < 0 || pmd_watch(d, t, EPOLLIN, tcp_on_accept, n) < 0) {
			n->nlisten++;
			snprintf(err, errlen, "resolver: epoll: %s", strerror(errno));
			goto fail;
		}
		n->nlisten++;
	}
	if (upstream_setup(n, err, errlen) < 0)
		goto fail;
	if (n->ubfd >= 0 && pmd_watch(d, n->ubfd, EPOLLIN, on_unbound, n) < 0) {
		snprintf(err, errlen, "resolver: epoll: %s", strerror(errno));
		goto fail;
	}
	{
		char l[128] = "";

		for (int i = 0; i < n->nlisten; i++) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(n->bound[i].family, n->bound[i].addr, a, sizeof(a));
			snprintf(l + strlen(l), sizeof(l) - strlen(l), "%s%s%s%s:%u", i ? " " : "",
				 n->bound[i].family == AF_INET6 ? "[" : "", a,
				 n->bound[i].family == AF_INET6 ? "]" : "", n->bound[i].port);
		}
		pm_info("resolver on %s (udp, tcp); upstream %s; %zu blocklist entries%s%s", l,
			n->upstreams, n->bl.n, d->cfg.reroute_dns ? "; stray DNS rerouted here" : "",
			c->prevent_bypass ? "; bypass prevented" : "");
	}
	return 0;
fail:
	dns_stop(d);
	return -1;
}

void dns_stop(struct pmd *d)
{
	struct dns *n = d->dns;

	if (!n)
		return;
	tcp_close_all(n);
	if (n->ub) {
		/* pending queries' callbacks never run after this */
		if (n->ubfd >= 0)
			pmd_unwatch(d, n->ubfd);
		ub_ctx_delete(n->ub);
	}
	dot_stop(n->dot);
	queries_free(n);
	for (int i = 0; i < n->nlisten; i++) {
		pmd_unwatch(d, n->udp[i]);
		pmd_unwatch(d, n->tcp[i]);
		close(n->udp[i]);
		close(n->tcp[i]);
	}
	namecache_free(n->names);
	anscache_free(n->ans);
	blocklist_free(&n->bl);
	blocklist_free(&n->doh);
	askers_free(n);
	free(n);
	d->dns = NULL;
}

int dns_reload(struct pmd *d, char *err, size_t errlen)
{
	if (!d->dns)
		return 0;
	if (dns_load_lists(d->dns, err, errlen) < 0)
		return -1;
	pm_info("resolver: %zu blocklist entries, %zu DoH domains", d->dns->bl.n, d->dns->doh.n);
	return 0;
}

void dns_tick(struct pmd *d, uint64_t now)
{
	struct dns *n = d->dns;

	if (!n)
		return;
	namecache_expire(n->names, now);
	tcp_expire(n, now);
}

void dns_stats(struct pmd *d, struct buf *rec)
{
	struct dns *n = d->dns;

	if (!n) {
		rec_str(rec, "resolver", "off");
		return;
	}
	/* a dozen keys: the status record is shared with the backends, the
	 * history and conntrack accounting; pmctl reads at most REC_MAX_KV */
	rec_str(rec, "resolver", "on");
	rec_str(rec, "upstream", n->upstreams);
	rec_u64(rec, "blocklist_entries", n->bl.n);
	rec_u64(rec, "doh_entries", n->doh.n + (uint64_t)n->ndoh_addrs);
	rec_u64(rec, "dns_queries", n->st.queries);
	rec_u64(rec, "dns_answered", n->st.answered);
	rec_u64(rec, "dns_blocked", n->st.blocked + n->st.nxdomain_canary);
	rec_u64(rec, "dns_servfail", n->st.servfail);
	rec_u64(rec, "dns_formerr", n->st.formerr);
	rec_u64(rec, "dns_dropped", n->st.dropped + n->st.tcp_refused);
	rec_u64(rec, "dns_cache_hits", n->st.ans_hits);
	rec_u64(rec, "dns_flows_named", n->st.cache_named);
}
