// SPDX-License-Identifier: GPL-2.0
/*
 * The resolver's listeners and queries.  UDP and TCP at each configured
 * address; a query is read by ldns, attributed to the program that sent
 * it, decided by name (policy.c), resolved by libunbound asynchronously
 * (its fd is in our epoll loop, so nothing here ever waits), and its
 * answer remembered per program before it goes back.
 *
 * Bounds: dns_max_queries in flight (SERVFAIL beyond), TCP_MAX_CONNS
 * connections (refused beyond), TCP_MAX_INFLIGHT queries and TCP_MAX_OUT
 * bytes waiting per connection (closed beyond), TCP_IDLE_MS idle.
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
#include "attrib/attrib.h"
#include "common/log.h"
#include "common/util.h"
#include "control/proto.h"
#include "daemon.h"
#include "dns/dns.h"
#include "dns/dot.h"
#include "dns/internal.h"

struct tcp_conn {
	int fd;
	struct dns_addr local;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t *in;		/* a 2-byte length and up to 65535 bytes */
	size_t inlen;
	struct buf out;
	size_t outoff;
	int inflight;
	uint64_t last_ms;
	bool want_out;
	struct tcp_conn *next;
};

static const char *const stub_resolvers[] = {
	"/usr/lib/systemd/systemd-resolved", "/lib/systemd/systemd-resolved",
	"/usr/sbin/nscd", "/usr/sbin/dnsmasq", "/usr/sbin/unbound", "/usr/sbin/named",
};

static void sa_to_addr(const struct sockaddr_storage *ss, uint8_t *family, uint8_t addr[16],
		       uint16_t *port)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		*family = AF_INET6;
		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		*family = AF_INET;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	}
}

/* ---- sending ---------------------------------------------------------- */

static void conn_close(struct dns *n, struct tcp_conn *c);
static void on_conn(struct pmd *d, int fd, uint32_t events, void *arg);

static bool conn_alive(const struct dns *n, const struct tcp_conn *c)
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

static void send_wire(struct dns *n, bool tcp, struct tcp_conn *c, int udp_fd,
		      const struct sockaddr_storage *peer, socklen_t peerlen,
		      const uint8_t *wire, size_t len)
{
	if (!tcp) {
		if (sendto(udp_fd, wire, len, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen) < 0)
			n->st.dropped++;
	} else if (c) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };

		if (c->out.len - c->outoff + len + 2 > TCP_MAX_OUT) {
			/* a client that does not read its answers */
			conn_close(n, c);
			return;
		}
		buf_add(&c->out, hdr, 2);
		buf_add(&c->out, wire, len);
		conn_flush(n, c);
	}
}

static void send_pkt(struct dns *n, struct query *q_or_null, bool tcp, struct tcp_conn *c,
		     int udp_fd, const struct sockaddr_storage *peer, socklen_t peerlen,
		     uint16_t udp_max, ldns_pkt *p)
{
	uint8_t *wire = NULL;
	size_t len;
	bool trunc;

	(void)q_or_null;
	if (!p)
		return;
	if (wire_encode(p, tcp ? 65535 : udp_max, &wire, &len, &trunc) < 0) {
		n->st.dropped++;
		ldns_pkt_free(p);
		return;
	}
	ldns_pkt_free(p);
	n->st.truncated += trunc;
	send_wire(n, tcp, c, udp_fd, peer, peerlen, wire, len);
	free(wire);
}

/* ---- queries ---------------------------------------------------------- */

static void query_free(struct dns *n, struct query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		n->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	n->nqueries--;
	if (q->tcp && q->conn)
		q->conn->inflight--;
	ldns_pkt_free(q->req);
	free(q->who.exe);
	free(q->cache_key);
	free(q);
}

static void answer_query(struct dns *n, struct query *q, ldns_pkt *p)
{
	send_pkt(n, q, q->tcp, q->conn, q->udp_fd, &q->peer, q->peerlen, q->udp_max, p);
}

static void list_query(struct dns *n, const struct query *q, const char *name, bool blocked)
{
	engine_dns_query(n->d, &q->key, &q->who, name, blocked);
}

struct put_ctx {
	struct dns *n;
	const struct query *q;
	const char *cnames;
	uint64_t now;
	struct ans *keep;
};

static void put_addr(void *arg, uint8_t family, const uint8_t *addr, uint32_t ttl)
{
	struct put_ctx *p = arg;

	namecache_put(p->n->names, p->q->scope, family, addr, p->q->name, p->cnames, ttl, p->now);
	if (p->keep->naddrs < ANSCACHE_ADDRS) {
		struct ans_addr *a = &p->keep->addrs[p->keep->naddrs++];

		a->family = family;
		memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
		a->ttl = ttl;
	}
}

/* A CNAME on the way can only block. */
static bool cnames_block(struct dns *n, const struct owner *who, const char *cnames)
{
	char chain[NAMECACHE_CNAMES_MAX], *save = NULL;
	uint32_t rid;

	snprintf(chain, sizeof(chain), "%s", cnames);
	for (char *cn = strtok_r(chain, ",", &save); cn; cn = strtok_r(NULL, ",", &save))
		if (dns_policy_name(n, who, cn, true, &rid) < 0)
			return true;
	return false;
}

/* A repeated question: answered from the ready answers, with the same
 * checks and naming as one from libunbound.  False: not there. */
static bool answer_from_cache(struct dns *n, struct query *q)
{
	const struct ans *a = anscache_get(n->ans, q->cache_key, now_ms());
	uint64_t now = now_ms();

	if (!a || (!q->tcp && a->len > q->udp_max) || a->len > sizeof(n->tx))
		return false;
	n->st.ans_hits++;
	if (a->cnames[0] && cnames_block(n, &q->who, a->cnames)) {
		n->st.blocked++;
		list_query(n, q, q->name, true);
		answer_query(n, q, wire_blocked(q->req, n->d->cfg.dns.blocked_answer));
		return true;
	}
	for (int i = 0; i < a->naddrs; i++)
		namecache_put(n->names, q->scope, a->addrs[i].family, a->addrs[i].addr, q->name,
			      a->cnames, a->addrs[i].ttl, now);
	memcpy(n->tx, a->wire, a->len);
	ldns_write_uint16(n->tx, ldns_pkt_id(q->req));
	n->st.answered++;
	list_query(n, q, q->name, false);
	send_wire(n, q->tcp, q->conn, q->udp_fd, &q->peer, q->peerlen, n->tx, a->len);
	return true;
}

static void on_resolved(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;
	struct dns *n = q->n;
	char cnames[NAMECACHE_CNAMES_MAX];
	ldns_pkt *p = NULL;

	if (err || !res || !res->answer_packet || res->answer_len <= 0 ||
	    !(p = wire_from_upstream(q->req, res->answer_packet, (size_t)res->answer_len))) {
		n->st.servfail++;
		answer_query(n, q, wire_reply_for(q->req, LDNS_RCODE_SERVFAIL));
		goto out;
	}
	if (wire_chain(p, q->name, cnames, sizeof(cnames), NULL, NULL) > 0 &&
	    cnames_block(n, &q->who, cnames)) {
		ldns_pkt_free(p);
		n->st.blocked++;
		list_query(n, q, q->name, true);
		answer_query(n, q, wire_blocked(q->req, n->d->cfg.dns.blocked_answer));
		goto out;
	}
	{
		struct ans keep = { .cnames = cnames };
		struct put_ctx pc = { .n = n, .q = q, .cnames = cnames, .now = now_ms(), .keep = &keep };
		bool trunc;

		wire_chain(p, q->name, cnames, sizeof(cnames), put_addr, &pc);
		if (q->cache_key && ldns_pkt_get_rcode(p) != LDNS_RCODE_SERVFAIL &&
		    wire_encode(p, 65535, &keep.wire, &keep.len, &trunc) == 0) {
			anscache_put(n->ans, q->cache_key, &keep, wire_min_ttl(p), pc.now);
			free(keep.wire);
		}
	}
	n->st.answered++;
	list_query(n, q, q->name, false);
	answer_query(n, q, p);
out:
	if (res)
		ub_resolve_free(res);
	query_free(n, q);
}

static bool is_stub_resolver(const char *exe)
{
	if (!exe)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(stub_resolvers); i++)
		if (!strcmp(exe, stub_resolvers[i]))
			return true;
	return false;
}

/* Who sent it: the flow it came with (remembered when that flow was
 * decided), else its socket as the fallback's attribution finds it. */
static void who_asked(struct dns *n, const struct dns_addr *local, uint8_t proto,
		      const struct sockaddr_storage *peer, struct query *q)
{
	uint8_t fam, addr[16];
	uint16_t port;
	const struct asker *a;

	sa_to_addr(peer, &fam, addr, &port);
	a = asker_get(n, fam, addr, port, proto);
	n->st.askers_found += a != NULL;
	n->st.askers_missed += a == NULL;
	if (a) {
		q->key = a->key;
		q->who = a->owner;
		q->who.exe = a->owner.exe ? strdup(a->owner.exe) : NULL;
	} else {
		struct flow_info fi;

		memset(&fi, 0, sizeof(fi));
		fi.key.family = fam;
		fi.key.proto = proto;
		memcpy(fi.key.laddr, addr, 16);
		fi.key.lport = port;
		memcpy(fi.key.raddr, local->addr, 16);
		fi.key.rport = local->port;
		fi.has_ports = true;
		if (n->d->attrib)
			attrib_lookup(n->d->attrib, &fi, &n->d->st);
		q->key = fi.key;
		q->who = fi.owner;
	}
	q->scope = is_stub_resolver(q->who.exe) ? 0 : namecache_scope(q->who.exe);
}

static void handle(struct dns *n, const uint8_t *buf, size_t len, bool tcp, struct tcp_conn *c,
		   int udp_fd, const struct dns_addr *local, const struct sockaddr_storage *peer,
		   socklen_t peerlen)
{
	ldns_pkt *req = NULL;
	ldns_rr *qr;
	struct query *q;
	uint32_t rid;
	uint16_t udp_max = 512;
	int verdict, r;

	n->st.queries++;
	if (ldns_wire2pkt(&req, buf, len) != LDNS_STATUS_OK) {
		ldns_pkt *fe = wire_formerr_raw(buf, len);

		n->st.formerr += fe != NULL;
		n->st.dropped += fe == NULL;
		send_pkt(n, NULL, tcp, c, udp_fd, peer, peerlen, 512, fe);
		return;
	}
	if (ldns_pkt_qr(req)) {
		/* a response sent to us: answering it could start a loop */
		n->st.dropped++;
		ldns_pkt_free(req);
		return;
	}
	if (ldns_pkt_edns(req) && ldns_pkt_edns_udp_size(req) > 512)
		udp_max = ldns_pkt_edns_udp_size(req) < 4096 ? ldns_pkt_edns_udp_size(req) : 4096;
	qr = ldns_rr_list_rr(ldns_pkt_question(req), 0);
	if (ldns_pkt_get_opcode(req) != LDNS_PACKET_QUERY) {
		send_pkt(n, NULL, tcp, c, udp_fd, peer, peerlen, udp_max,
			 wire_reply_for(req, LDNS_RCODE_NOTIMPL));
		ldns_pkt_free(req);
		return;
	}
	if (ldns_rr_list_rr_count(ldns_pkt_question(req)) != 1 || !qr ||
	    ldns_pkt_ancount(req) || ldns_pkt_nscount(req)) {
		n->st.formerr++;
		send_pkt(n, NULL, tcp, c, udp_fd, peer, peerlen, udp_max,
			 wire_reply_for(req, LDNS_RCODE_FORMERR));
		ldns_pkt_free(req);
		return;
	}
	if (ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN || ldns_rr_get_type(qr) == LDNS_RR_TYPE_AXFR ||
	    ldns_rr_get_type(qr) == LDNS_RR_TYPE_IXFR) {
		send_pkt(n, NULL, tcp, c, udp_fd, peer, peerlen, udp_max,
			 wire_reply_for(req, LDNS_RCODE_REFUSED));
		ldns_pkt_free(req);
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q || wire_qname(req, q->name, sizeof(q->name)) < 0) {
		free(q);
		n->st.formerr++;
		send_pkt(n, NULL, tcp, c, udp_fd, peer, peerlen, udp_max,
			 wire_reply_for(req, LDNS_RCODE_FORMERR));
		ldns_pkt_free(req);
		return;
	}
	q->n = n;
	q->req = req;
	q->tcp = tcp;
	q->conn = c;
	q->udp_fd = udp_fd;
	memcpy(&q->peer, peer, peerlen);
	q->peerlen = peerlen;
	q->udp_max = udp_max;
	q->async_id = -1;
	who_asked(n, local, tcp ? IPPROTO_TCP : IPPROTO_UDP, peer, q);
	q->next = n->queries;
	if (n->queries)
		n->queries->prev = q;
	n->queries = q;
	n->nqueries++;
	if (tcp)
		c->inflight++;

	verdict = dns_policy_name(n, &q->who, q->name, false, &rid);
	if (verdict < 0) {
		n->st.blocked++;
		list_query(n, q, q->name, true);
		answer_query(n, q, wire_blocked(req, n->d->cfg.dns.blocked_answer));
		query_free(n, q);
		return;
	}
	{
		char *qname = ldns_rdf2str(ldns_rr_owner(qr));

		if (qname && asprintf(&q->cache_key, "%u/%d%d%d%d/%s", ldns_rr_get_type(qr),
				      ldns_pkt_edns(req), ldns_pkt_edns_do(req), ldns_pkt_cd(req),
				      ldns_pkt_rd(req), qname) < 0)
			q->cache_key = NULL;
		if (q->cache_key && answer_from_cache(n, q)) {
			free(qname);
			query_free(n, q);
			return;
		}
		if (!n->ub || n->nqueries > n->d->cfg.dns.max_queries) {
			free(qname);
			n->st.servfail++;
			answer_query(n, q, wire_reply_for(req, LDNS_RCODE_SERVFAIL));
			query_free(n, q);
			return;
		}
		r = qname ? ub_resolve_async(n->ub, qname, ldns_rr_get_type(qr), LDNS_RR_CLASS_IN,
					     q, on_resolved, &q->async_id) : UB_NOMEM;
		free(qname);
	}
	if (r != 0) {
		n->st.servfail++;
		answer_query(n, q, wire_reply_for(req, LDNS_RCODE_SERVFAIL));
		query_free(n, q);
	}
}

/* ---- sockets ---------------------------------------------------------- */

static int listener_index(struct dns *n, int fd, bool tcp)
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
	for (int i = 0; i < 64 && li >= 0; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t r = recvfrom(fd, n->rx, sizeof(n->rx), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &plen);

		if (r < 0)
			break;
		handle(n, n->rx, (size_t)r, false, NULL, fd, &n->bound[li], &peer, plen);
	}
}

static void conn_close(struct dns *n, struct tcp_conn *c)
{
	struct tcp_conn **pp = &n->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	for (struct query *q = n->queries; q; q = q->next)
		if (q->conn == c)
			q->conn = NULL;
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
		if (!conn_alive(n, c))
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
			handle(n, c->in + 2, want - 2, true, c, -1, &c->local, &c->peer, c->peerlen);
			/* handle() may have closed c (its output overflowed) */
			if (!conn_alive(n, c))
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

static void on_accept(struct pmd *d, int fd, uint32_t events, void *arg)
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
	int fd, one = 1, rcv = 4 << 20;
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
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (type == SOCK_STREAM && listen(fd, 128) < 0))
		goto fail;
	return fd;
fail:
	inet_ntop(a->family, a->addr, s, sizeof(s));
	snprintf(err, errlen, "resolver: cannot listen on %s%s%s:%u/%s: %s%s",
		 a->family == AF_INET6 ? "[" : "", s, a->family == AF_INET6 ? "]" : "", a->port,
		 type == SOCK_DGRAM ? "udp" : "tcp", strerror(errno),
		 errno == EADDRINUSE ? " (another resolver there? set resolver = ... or none)" : "");
	if (fd >= 0)
		close(fd);
	return -errno;
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
		if (pmd_watch(d, u, EPOLLIN, on_udp, n) < 0 || pmd_watch(d, t, EPOLLIN, on_accept, n) < 0) {
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
	while (n->conns)
		conn_close(n, n->conns);
	if (n->ub) {
		/* pending queries' callbacks never run after this */
		if (n->ubfd >= 0)
			pmd_unwatch(d, n->ubfd);
		ub_ctx_delete(n->ub);
	}
	dot_stop(n->dot);
	while (n->queries)
		query_free(n, n->queries);
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
	struct tcp_conn *c, *next;

	if (!n)
		return;
	namecache_expire(n->names, now);
	for (c = n->conns; c; c = next) {
		next = c->next;
		if (!c->inflight && now - c->last_ms > TCP_IDLE_MS)
			conn_close(n, c);
	}
}

void dns_stats(struct pmd *d, struct buf *rec)
{
	struct dns *n = d->dns;

	if (!n) {
		rec_str(rec, "resolver", "off");
		return;
	}
	rec_str(rec, "resolver", "on");
	rec_str(rec, "upstream", n->upstreams);
	rec_u64(rec, "blocklist_entries", n->bl.n);
	rec_u64(rec, "blocklist_bytes", blocklist_bytes(&n->bl));
	rec_u64(rec, "blocklist_lines_skipped", n->blocklist_lines_skipped);
	rec_u64(rec, "doh_domains", n->doh.n);
	rec_u64(rec, "doh_addrs", (uint64_t)n->ndoh_addrs);
	rec_u64(rec, "dns_queries", n->st.queries);
	rec_u64(rec, "dns_answered", n->st.answered);
	rec_u64(rec, "dns_blocked", n->st.blocked);
	rec_u64(rec, "dns_canary", n->st.nxdomain_canary);
	rec_u64(rec, "dns_formerr", n->st.formerr);
	rec_u64(rec, "dns_servfail", n->st.servfail);
	rec_u64(rec, "dns_dropped", n->st.dropped);
	rec_u64(rec, "dns_truncated", n->st.truncated);
	rec_u64(rec, "dns_bypass_blocked", n->st.bypass_blocked);
	rec_u64(rec, "dns_in_flight", n->nqueries);
	rec_u64(rec, "dns_askers_from_flows", n->st.askers_found);
	rec_u64(rec, "dns_askers_from_sockets", n->st.askers_missed);
	rec_u64(rec, "dns_tcp_conns", n->st.tcp_conns);
	rec_u64(rec, "dns_tcp_refused", n->st.tcp_refused);
	rec_u64(rec, "dns_names_cached", namecache_count(n->names));
	rec_u64(rec, "dns_answers_cached", anscache_count(n->ans));
	rec_u64(rec, "dns_answer_cache_hits", n->st.ans_hits);
	rec_u64(rec, "dns_flows_named", n->st.cache_named);
}
