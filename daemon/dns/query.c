// SPDX-License-Identifier: GPL-2.0
/*
 * One query, from its bytes to its answer: read by ldns, attributed to
 * the program that sent it, decided by name (policy.c), answered from the
 * ready answers or resolved by libunbound asynchronously (its fd is in our
 * epoll loop, so nothing here ever waits), and its answer remembered for
 * that program before it goes back.  dns_max_queries wait at once;
 * beyond, SERVFAIL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unbound.h>
#include "attrib/attrib.h"
#include "common/util.h"
#include "daemon.h"
#include "dns/dns.h"
#include "dns/internal.h"
#include "events/events.h"

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

static void send_wire(struct dns *n, bool tcp, struct tcp_conn *c, int udp_fd,
		      const struct sockaddr_storage *peer, socklen_t peerlen,
		      const uint8_t *wire, size_t len)
{
	struct udp_batch *b = &n->batch;

	if (!tcp && b->open && b->fd == udp_fd && len <= UDP_BATCH_MSG) {
		/* answered within the burst that brought the query */
		memcpy(b->msg[b->n], wire, len);
		b->len[b->n] = len;
		memcpy(&b->peer[b->n], peer, peerlen);
		b->peerlen[b->n] = peerlen;
		if (++b->n == UDP_BATCH)
			udp_batch_flush(n);
	} else if (!tcp) {
		if (sendto(udp_fd, wire, len, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen) < 0)
			n->st.dropped++;
	} else if (c) {
		tcp_send(n, c, wire, len);
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
	owner_release(&q->who);
	free(q->cache_key);
	free(q);
}

static void answer_query(struct dns *n, struct query *q, ldns_pkt *p)
{
	send_pkt(n, q, q->tcp, q->conn, q->udp_fd, &q->peer, q->peerlen, q->udp_max, p);
}

/* "93.184.216.34,2606:2800:220:1::" for the history and monitors. */
static void answers_str(const struct ans_addr *a, int n, char *out, size_t len)
{
	size_t off = 0;

	out[0] = 0;
	for (int i = 0; i < n && off + INET6_ADDRSTRLEN + 1 < len; i++) {
		if (i)
			out[off++] = ',';
		if (!inet_ntop(a[i].family == AF_INET ? AF_INET : AF_INET6, a[i].addr, out + off,
			       (socklen_t)(len - off)))
			break;
		off += strlen(out + off);
	}
	out[off] = 0;
}

/*
 * Every query that reached a decision goes on the event bus (the history,
 * pmctl monitor, the web UI), named by the program that asked.
 */
static void publish_query(struct dns *n, const struct query *q, const char *verdict,
			  uint32_t rule_id, uint8_t rcode, const char *answers)
{
	struct pm_dns_query ev = {
		.pid = q->who.pid,
		.have_uid = q->who.have_uid,
		.uid = q->who.uid,
		.exe = q->who.exe,
		.cgroup = q->who.cgroup,
		.qname = q->name,
		.qtype = q->qtype,
		.rcode = rcode,
		.answers = answers && *answers ? answers : NULL,
		.verdict = verdict,
		.rule_id = rule_id,
	};

	events_dns(n->d, &ev);
}

/* An answer (blocked=false) or a refusal: the query's flow is listed with
 * the name, and the query published. */
static void list_query(struct dns *n, const struct query *q, bool blocked, uint32_t rule_id,
		       uint8_t rcode, const char *answers)
{
	engine_dns_query(n->d, &q->key, &q->who, q->name, blocked);
	publish_query(n, q, blocked ? "block" : "allow", rule_id, rcode, answers);
}

/* Refused by name (rule_id: the rule, 0: a blocklist): blocked_answer. */
static void refuse_query(struct dns *n, struct query *q, uint32_t rule_id)
{
	ldns_pkt *p = wire_blocked(q->req, n->d->cfg.dns.blocked_answer);

	n->st.blocked++;
	list_query(n, q, true, rule_id, p ? (uint8_t)ldns_pkt_get_rcode(p) : LDNS_RCODE_REFUSED,
		   NULL);
	answer_query(n, q, p);
}

/* No answer to be had (upstream failure, too many at once): SERVFAIL,
 * published like any other, the flow left as it is. */
static void servfail_query(struct dns *n, struct query *q)
{
	n->st.servfail++;
	publish_query(n, q, "allow", q->rule_id, LDNS_RCODE_SERVFAIL, NULL);
	answer_query(n, q, wire_reply_for(q->req, LDNS_RCODE_SERVFAIL));
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

/* A CNAME on the way can only block; *rid: the rule that did (0: a list). */
static bool cnames_block(struct dns *n, const struct owner *who, const char *cnames,
			 uint32_t *rid)
{
	char chain[NAMECACHE_CNAMES_MAX], *save = NULL;

	snprintf(chain, sizeof(chain), "%s", cnames);
	for (char *cn = strtok_r(chain, ",", &save); cn; cn = strtok_r(NULL, ",", &save)) {
		*rid = 0;
		if (dns_policy_name(n, who, cn, true, rid) < 0)
			return true;
	}
	return false;
}

/* A repeated question: answered from the ready answers, with the same
 * checks and naming as one from libunbound.  False: not there. */
static bool answer_from_cache(struct dns *n, struct query *q)
{
	const struct ans *a = anscache_get(n->ans, q->cache_key, now_ms());
	uint64_t now = now_ms();
	char answers[ANSCACHE_ADDRS * (INET6_ADDRSTRLEN + 1)];
	uint32_t rid;

	if (!a || (!q->tcp && a->len > q->udp_max) || a->len > sizeof(n->tx))
		return false;
	n->st.ans_hits++;
	if (a->cnames[0] && cnames_block(n, &q->who, a->cnames, &rid)) {
		refuse_query(n, q, rid);
		return true;
	}
	for (int i = 0; i < a->naddrs; i++)
		namecache_put(n->names, q->scope, a->addrs[i].family, a->addrs[i].addr, q->name,
			      a->cnames, a->addrs[i].ttl, now);
	memcpy(n->tx, a->wire, a->len);
	ldns_write_uint16(n->tx, ldns_pkt_id(q->req));
	n->st.answered++;
	answers_str(a->addrs, a->naddrs, answers, sizeof(answers));
	list_query(n, q, false, q->rule_id, a->len >= 4 ? (uint8_t)LDNS_RCODE_WIRE(a->wire) : 0,
		   answers);
	send_wire(n, q->tcp, q->conn, q->udp_fd, &q->peer, q->peerlen, n->tx, a->len);
	return true;
}

static void on_resolved(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;
	struct dns *n = q->n;
	char cnames[NAMECACHE_CNAMES_MAX], answers[ANSCACHE_ADDRS * (INET6_ADDRSTRLEN + 1)];
	ldns_pkt *p = NULL;
	uint32_t rid;

	if (err || !res || !res->answer_packet || res->answer_len <= 0 ||
	    !(p = wire_from_upstream(q->req, res->answer_packet, (size_t)res->answer_len))) {
		servfail_query(n, q);
		goto out;
	}
	if (wire_chain(p, q->name, cnames, sizeof(cnames), NULL, NULL) > 0 &&
	    cnames_block(n, &q->who, cnames, &rid)) {
		ldns_pkt_free(p);
		refuse_query(n, q, rid);
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
		answers_str(keep.addrs, keep.naddrs, answers, sizeof(answers));
	}
	n->st.answered++;
	list_query(n, q, false, q->rule_id, (uint8_t)ldns_pkt_get_rcode(p), answers);
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
		if (owner_copy(&q->who, &a->owner) < 0)
			memset(&q->who, 0, sizeof(q->who));
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
		/* the resolver listens in our own namespace */
		if (n->d->attrib)
			attrib_lookup(n->d->attrib, n->d->nns ? n->d->ns[0]->diag_fd : -1, true, &fi,
				      &n->d->st);
		q->key = fi.key;
		q->who = fi.owner;
	}
	q->scope = is_stub_resolver(q->who.exe) ? 0 : namecache_scope(q->who.exe);
}

void dns_handle(struct dns *n, const uint8_t *buf, size_t len, bool tcp, struct tcp_conn *c,
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

	q->qtype = ldns_rr_get_type(qr);
	rid = 0;
	verdict = dns_policy_name(n, &q->who, q->name, false, &rid);
	if (verdict < 0) {
		refuse_query(n, q, rid);
		query_free(n, q);
		return;
	}
	q->rule_id = verdict > 0 ? rid : 0;
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
			servfail_query(n, q);
			query_free(n, q);
			return;
		}
		r = qname ? ub_resolve_async(n->ub, qname, ldns_rr_get_type(qr), LDNS_RR_CLASS_IN,
					     q, on_resolved, &q->async_id) : UB_NOMEM;
		free(qname);
	}
	if (r != 0) {
		servfail_query(n, q);
		query_free(n, q);
	}
}

void queries_detach(struct dns *n, struct tcp_conn *c)
{
	for (struct query *q = n->queries; q; q = q->next)
		if (q->conn == c)
			q->conn = NULL;
}

void queries_free(struct dns *n)
{
	while (n->queries)
		query_free(n, n->queries);
}

void udp_batch_flush(struct dns *n)
{
	struct udp_batch *b = &n->batch;
	struct mmsghdr mm[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int sent = 0;

	for (int i = 0; i < b->n; i++) {
		iov[i] = (struct iovec){ .iov_base = b->msg[i], .iov_len = b->len[i] };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &b->peer[i],
						       .msg_namelen = b->peerlen[i],
						       .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (sent < b->n) {
		int r = sendmmsg(b->fd, mm + sent, (unsigned int)(b->n - sent), MSG_DONTWAIT);

		if (r <= 0) {
			/* a full socket buffer: these answers are lost, as a
			 * datagram may be; the clients ask again */
			n->st.dropped += (uint64_t)(b->n - sent);
			break;
		}
		sent += r;
	}
	b->n = 0;
}
