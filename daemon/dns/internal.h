/* SPDX-License-Identifier: GPL-2.0 */
/* The resolver's state, shared by its files (not by the rest of the daemon). */
#ifndef PM_DNS_INTERNAL_H
#define PM_DNS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <ldns/ldns.h>
#include "control/proto.h"
#include "decide/flow.h"
#include "dns/anscache.h"
#include "dns/blocklist.h"
#include "dns/dnsconf.h"
#include "dns/names.h"
#include "dns/namecache.h"

#define ASKERS 8192		/* recent DNS flows, by their source */
#define ASKER_TTL_MS 120000
#define TCP_MAX_CONNS 128
#define TCP_IDLE_MS 10000
#define TCP_MAX_OUT (256 * 1024)
#define TCP_MAX_INFLIGHT 64
#define DOH_MAX_ADDRS 1024
#define CNAME_CHAIN_MAX 16
#define UDP_BATCH 32		/* datagrams read, and answers sent, per syscall */
#define UDP_BATCH_MSG 1232	/* answers up to this size wait for the batch */

struct pmd;
struct dot;
struct ub_ctx;
struct ub_result;

/* Who sent a DNS flow, remembered from the flow's own decision (both modes:
 * the module names the sender before the NAT), found by the query's source. */
struct asker {
	bool used;
	uint8_t family, proto;
	uint8_t addr[16];
	uint16_t port;
	uint64_t expires_ms;
	struct flow_key key;	/* the flow as its sender opened it */
	struct owner owner;	/* owner.exe malloc'd */
};

struct doh_addr {
	uint8_t family;
	uint8_t addr[16];
};

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

/* One query waiting for libunbound. */
struct query {
	struct dns *n;
	int async_id;
	bool tcp;
	struct tcp_conn *conn;	/* NULL once the connection closed */
	int udp_fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	ldns_pkt *req;
	char name[DNS_NAME_MAX];	/* canonical */
	uint16_t qtype;
	uint32_t rule_id;		/* the domain rule that allowed it, 0: none */
	char *cache_key;		/* the question as asked (anscache.h) */
	uint16_t udp_max;
	struct owner who;	/* who.exe malloc'd */
	uint64_t scope;
	struct flow_key key;
	struct query *prev, *next;
};

struct dns_stats {
	uint64_t queries, answered, blocked, nxdomain_canary, formerr, servfail, dropped,
		 truncated, tcp_conns, tcp_refused, cache_named, bypass_blocked, askers_found, askers_missed, ans_hits;
};

struct dns {
	struct pmd *d;
	struct ub_ctx *ub;
	int ubfd;
	struct dot *dot;	/* the TLS bridge, with tls:// upstreams */
	int nlisten;
	int udp[DNS_MAX_LISTEN], tcp[DNS_MAX_LISTEN];
	struct dns_addr bound[DNS_MAX_LISTEN];
	struct tcp_conn *conns;
	int nconns;
	struct query *queries;
	uint32_t nqueries;
	struct namecache *names;
	struct anscache *ans;
	struct blocklist bl, doh;
	struct doh_addr doh_addrs[DOH_MAX_ADDRS];
	int ndoh_addrs;
	uint64_t blocklist_lines_skipped;
	struct asker askers[ASKERS];
	uint64_t seed;
	char upstreams[512];	/* for pmctl status */
	struct dns_stats st;
	uint8_t rx[65536];
	uint8_t tx[65536];
	/* the answers of one burst of UDP queries, sent with one sendmmsg */
	struct udp_batch {
		int fd, n;
		bool open;
		struct sockaddr_storage peer[UDP_BATCH];
		socklen_t peerlen[UDP_BATCH];
		size_t len[UDP_BATCH];
		uint8_t msg[UDP_BATCH][UDP_BATCH_MSG];
	} batch;
};

/* resolver.c */
int listener_index(struct dns *n, int fd, bool tcp);

/* query.c: one query from its bytes to its answer */
void dns_handle(struct dns *n, const uint8_t *buf, size_t len, bool tcp, struct tcp_conn *c,
		int udp_fd, const struct dns_addr *local, const struct sockaddr_storage *peer,
		socklen_t peerlen);
void queries_detach(struct dns *n, struct tcp_conn *c);	/* c is closing */
void queries_free(struct dns *n);
/* Sends the answers queued while a burst of UDP queries was read. */
void udp_batch_flush(struct dns *n);

/* tcp.c */
void tcp_on_accept(struct pmd *d, int fd, uint32_t events, void *arg);
bool tcp_alive(const struct dns *n, const struct tcp_conn *c);
/* Queues a message with its length; -1 when that closed c (overflow). */
int tcp_send(struct dns *n, struct tcp_conn *c, const uint8_t *wire, size_t len);
void tcp_close_all(struct dns *n);
void tcp_expire(struct dns *n, uint64_t now_ms);

/* policy.c */
void asker_put(struct dns *n, const struct flow_info *fi);
const struct asker *asker_get(struct dns *n, uint8_t family, const uint8_t *addr,
			      uint16_t port, uint8_t proto);
void askers_free(struct dns *n);
/* The verdict on a name for this asker: 1 allowed by a rule, 0 no rule
 * (and not listed), -1 blocked; *rule_id the rule that decided, if any. */
int dns_policy_name(struct dns *n, const struct owner *who, const char *name, bool is_cname,
		    uint32_t *rule_id);
int dns_load_lists(struct dns *n, char *err, size_t errlen);

/* wire.c: packets through ldns */
ldns_pkt *wire_reply_for(const ldns_pkt *req, ldns_pkt_rcode rcode);
ldns_pkt *wire_blocked(const ldns_pkt *req, enum blocked_answer how);
ldns_pkt *wire_from_upstream(const ldns_pkt *req, const void *wire, size_t len);
/* FORMERR for a message that ldns cannot read, from its id alone; NULL
 * when it is too short to have one, or is itself a response. */
ldns_pkt *wire_formerr_raw(const uint8_t *buf, size_t len);
/* Encodes for the client: truncated (TC, sections emptied) when it is
 * larger than max; *out malloc'd. */
int wire_encode(ldns_pkt *p, size_t max, uint8_t **out, size_t *len, bool *truncated);
/* Walks the answer: the CNAME chain from name (comma-separated into
 * cnames, each canonical) and calls back for every address of its end,
 * A, AAAA and the hints of SVCB/HTTPS records; returns the chain's
 * length or -1. */
int wire_chain(const ldns_pkt *ans, const char *name, char *cnames, size_t cnlen,
	       void (*addr_cb)(void *arg, uint8_t family, const uint8_t *addr, uint32_t ttl),
	       void *arg);
/* The smallest TTL of the records in p (0 when it has none). */
uint32_t wire_min_ttl(const ldns_pkt *p);
/* The question's name, canonical (or lowercased as ldns prints it). */
int wire_qname(const ldns_pkt *req, char *out, size_t len);

/* upstream.c */
int upstream_setup(struct dns *n, char *err, size_t errlen);

#endif
