// SPDX-License-Identifier: GPL-2.0
/* The resolver's parts that need no network: domain patterns, the
 * blocklist set, the per-program name cache, its configuration keys, DNS
 * messages through ldns, and domain= in rules (CNAMEs only block); every
 * query published on the event bus (history, pmctl monitor). */
#include "test_common.h"
#include <arpa/inet.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <unistd.h>
#include "common/util.h"
#include "config.h"
#include "daemon.h"
#include "dns/blocklist.h"
#include "dns/dns.h"
#include "dns/internal.h"
#include "dns/names.h"
#include "dns/namecache.h"
#include "events/events.h"

static bool pm(const char *pattern, const char *name)
{
	char p[DNS_NAME_MAX], n[DNS_NAME_MAX], err[256];

	assert_int_equal(dns_pattern_canon(pattern, p, sizeof(p), err, sizeof(err)), 0);
	assert_int_equal(dns_name_canon(name, n, sizeof(n)), 0);
	return dns_pattern_match(p, n);
}

static void test_patterns(void **state)
{
	char out[DNS_NAME_MAX], err[256];

	(void)state;
	/* Portmaster's semantics, case-insensitive, trailing dot optional */
	assert_true(pm("example.com", "example.com"));
	assert_true(pm("Example.COM.", "example.com"));
	assert_true(pm("example.com", "EXAMPLE.com."));
	assert_false(pm("example.com", "www.example.com"));
	assert_true(pm(".example.com", "example.com"));
	assert_true(pm(".example.com", "a.b.example.com"));
	assert_false(pm(".example.com", "badexample.com"));
	assert_true(pm("*.example.com", "www.example.com"));
	assert_false(pm("*.example.com", "example.com"));
	assert_true(pm("*xample.com", "example.com"));
	assert_true(pm("*xample.com", "www.example.com"));
	assert_false(pm("*xample.com", "example.org"));
	assert_true(pm("example.*", "example.org"));
	assert_false(pm("example.*", "www.example.org"));
	assert_true(pm("*xampl*", "www.example.org"));
	assert_false(pm("*xampl*", "www.exmple.org"));
	/* what is not a pattern */
	assert_int_equal(dns_pattern_canon("", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(dns_pattern_canon("*", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(dns_pattern_canon("a*b.com", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(dns_pattern_canon("a..b", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(dns_pattern_canon("a b.com", out, sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(dns_name_canon("a..b", out, sizeof(out)), -1);
	assert_int_equal(dns_name_canon("", out, sizeof(out)), -1);
}

static void test_blocklist(void **state)
{
	struct blocklist b;
	const char *text =
		"# hosts\n0.0.0.0 ads.example.com tracker.example.net\n127.0.0.1 localhost\n"
		"::1 ip6-localhost\n"
		"malware.example.org\n||adblock.example^\n*.wild.example\n"
		"not a list line at all\n0.0.0.0 ads.example.com\n";
	char n[DNS_NAME_MAX];

	(void)state;
	blocklist_init(&b, 42);
	assert_int_equal(blocklist_add_text(&b, text, strlen(text)), 0);
	assert_int_equal(blocklist_seal(&b), 0);
	assert_int_equal(b.n, 5);	/* duplicates once, localhost never */
	assert_true(b.lines_skipped >= 1);
	assert_true(blocklist_match(&b, "ads.example.com"));
	assert_true(blocklist_match(&b, "x.y.ads.example.com"));	/* and below */
	assert_false(blocklist_match(&b, "example.com"));		/* not above */
	assert_false(blocklist_match(&b, "bads.example.com"));
	assert_true(blocklist_match(&b, "malware.example.org"));
	assert_true(blocklist_match(&b, "adblock.example"));
	assert_true(blocklist_match(&b, "a.wild.example"));
	assert_false(blocklist_match(&b, "localhost"));
	/* 8 bytes an entry and the index: well under 64 at any size */
	assert_int_equal(blocklist_bytes(&b), 5 * 8 + ((1u << BLOCKLIST_INDEX_BITS) + 1) * 4);
	blocklist_free(&b);
	/* many entries: every one found, no other */
	blocklist_init(&b, 7);
	for (int i = 0; i < 20000; i++) {
		snprintf(n, sizeof(n), "host%d.example", i);
		assert_int_equal(blocklist_add_name(&b, n), 0);
	}
	assert_int_equal(blocklist_seal(&b), 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(n, sizeof(n), "www.host%d.example", i);
		assert_true(blocklist_match(&b, n));
		snprintf(n, sizeof(n), "host%d.example.org", i);
		assert_false(blocklist_match(&b, n));
	}
	blocklist_free(&b);
}

static void test_namecache(void **state)
{
	struct namecache *c = namecache_new(4);
	uint8_t a[16] = { 10, 0, 0, 1 }, b6[16] = { 0xfd };
	uint64_t curl = namecache_scope("/usr/bin/curl"), ff = namecache_scope("/usr/bin/firefox");
	const char *name, *cn;

	(void)state;
	assert_non_null(c);
	assert_int_equal(namecache_scope(NULL), 0);
	assert_int_equal(namecache_get(c, curl, AF_INET, a, 0, &name, &cn), -1);
	assert_int_equal(namecache_put(c, curl, AF_INET, a, "one.test", "", 300, 0), 0);
	assert_int_equal(namecache_get(c, curl, AF_INET, a, 1000, &name, &cn), 0);
	assert_string_equal(name, "one.test");
	/* another program never resolved it */
	assert_int_equal(namecache_get(c, ff, AF_INET, a, 1000, &name, &cn), -1);
	/* the global scope (the system's stub resolver) names it for all */
	assert_int_equal(namecache_put(c, 0, AF_INET, a, "global.test", "x.cdn.test", 300, 0), 0);
	assert_int_equal(namecache_get(c, ff, AF_INET, a, 1000, &name, &cn), 0);
	assert_string_equal(name, "global.test");
	assert_string_equal(cn, "x.cdn.test");
	/* its own scope first, the most recent answer wins */
	assert_int_equal(namecache_get(c, curl, AF_INET, a, 1000, &name, &cn), 0);
	assert_string_equal(name, "one.test");
	assert_int_equal(namecache_put(c, curl, AF_INET, a, "two.test", "", 300, 0), 0);
	assert_int_equal(namecache_get(c, curl, AF_INET, a, 1000, &name, &cn), 0);
	assert_string_equal(name, "two.test");
	/* the TTL bounds it (at least NAMECACHE_MIN_TTL) */
	assert_int_equal(namecache_put(c, curl, AF_INET6, b6, "six.test", "", 1, 0), 0);
	assert_int_equal(namecache_get(c, curl, AF_INET6, b6, NAMECACHE_MIN_TTL * 1000 - 1, &name, &cn), 0);
	assert_int_equal(namecache_get(c, curl, AF_INET6, b6, NAMECACHE_MIN_TTL * 1000, &name, &cn), -1);
	/* and the size: the oldest goes */
	for (int i = 2; i < 10; i++) {
		a[3] = (uint8_t)i;
		assert_int_equal(namecache_put(c, curl, AF_INET, a, "n.test", "", 300, 0), 0);
		assert_true(namecache_count(c) <= 4);
	}
	a[3] = 2;
	assert_int_equal(namecache_get(c, curl, AF_INET, a, 1000, &name, &cn), -1);
	namecache_free(c);
}

static void test_config(void **state)
{
	struct config c;
	char err[512];

	(void)state;
	config_defaults(&c);
	assert_true(c.dns.enabled);
	assert_int_equal(c.dns.nlisten, 2);
	config_finish(&c);
	/* while the resolver is on, stray DNS goes to it */
	assert_true(c.reroute_dns);
	assert_int_equal(c.nameserver.addr[3], 17);
	assert_int_equal(config_load_mem(&c, "t",
		"upstream = tls://192.0.2.1#dns.example tls://[2001:db8::1]:8853#x.example\n"
		"blocklist = /a /b\nblocked_answer = zero\nprevent_bypass = no\n", err, sizeof(err)), 0);
	assert_int_equal(c.dns.nupstream, 2);
	assert_true(c.dns.upstream[0].tls);
	assert_int_equal(c.dns.upstream[0].a.port, 853);
	assert_string_equal(c.dns.upstream[0].tls_name, "dns.example");
	assert_int_equal(c.dns.upstream[1].a.port, 8853);
	assert_int_equal(c.dns.nblocklist, 2);
	assert_int_equal(c.dns.blocked_answer, BLOCKED_ZERO);
	assert_false(c.dns.prevent_bypass);
	assert_int_equal(config_load_mem(&c, "t", "upstream = 192.0.2.1 tls://192.0.2.2\n", err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "all tls:// or none"));
	assert_int_equal(config_load_mem(&c, "t", "blocklist = relative.txt\n", err, sizeof(err)), -1);
	assert_int_equal(config_load_mem(&c, "t", "blocked_answer = maybe\n", err, sizeof(err)), -1);
	/* off: the seed's reroute stays as configured */
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "t", "resolver = none\n", err, sizeof(err)), 0);
	config_finish(&c);
	assert_false(c.dns.enabled);
	assert_false(c.reroute_dns);
	/* reroute_dns = no is kept with the resolver on */
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "t", "reroute_dns = no\nresolver = 127.0.0.18:5353\n",
					 err, sizeof(err)), 0);
	config_finish(&c);
	assert_false(c.reroute_dns);
	assert_int_equal(c.nameserver.port, 5353);
}

static ldns_pkt *query(const char *name, ldns_rr_type t, bool edns)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, t, LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 4242);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 4096);
	return p;
}

struct addrs {
	int n;
	uint8_t fam[8];
	uint8_t a[8][16];
};

static void collect(void *arg, uint8_t family, const uint8_t *addr, uint32_t ttl)
{
	struct addrs *x = arg;

	(void)ttl;
	if (x->n < 8) {
		x->fam[x->n] = family;
		memcpy(x->a[x->n], addr, family == AF_INET ? 4 : 16);
		x->n++;
	}
}

static void push(ldns_pkt *p, const char *rr)
{
	ldns_rr *r = NULL;

	assert_int_equal(ldns_rr_new_frm_str(&r, rr, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, r));
}

static void test_wire(void **state)
{
	ldns_pkt *req = query("WWW.Chain.test.", LDNS_RR_TYPE_A, false), *up, *p, *back = NULL;
	uint8_t *w = NULL;
	size_t len;
	bool trunc;
	char name[DNS_NAME_MAX], cn[NAMECACHE_CNAMES_MAX];
	struct addrs x = { 0 };

	(void)state;
	assert_int_equal(wire_qname(req, name, sizeof(name)), 0);
	assert_string_equal(name, "www.chain.test");
	/* an upstream answer: chain, then addresses, one of them elsewhere */
	up = wire_reply_for(req, LDNS_RCODE_NOERROR);
	push(up, "www.chain.test. 60 IN CNAME a.cdn.test.");
	push(up, "a.cdn.test. 30 IN CNAME b.cdn.test.");
	push(up, "b.cdn.test. 60 IN A 192.0.2.7");
	push(up, "other.test. 60 IN A 192.0.2.99");
	assert_int_equal(ldns_pkt2wire(&w, up, &len), LDNS_STATUS_OK);
	ldns_pkt_free(up);
	p = wire_from_upstream(req, w, len);
	free(w);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), 4242);
	assert_int_equal(wire_chain(p, name, cn, sizeof(cn), collect, &x), 2);
	assert_string_equal(cn, "a.cdn.test,b.cdn.test");
	assert_int_equal(x.n, 1);	/* not other.test's */
	assert_int_equal(x.a[0][3], 7);
	/* too large for a client without EDNS: truncated, TC */
	for (int i = 0; i < 40; i++)
		push(p, "b.cdn.test. 60 IN TXT \"0123456789012345678901234567890123456789\"");
	assert_int_equal(wire_encode(p, 512, &w, &len, &trunc), 0);
	assert_true(trunc);
	assert_true(len <= 512);
	assert_int_equal(ldns_wire2pkt(&back, w, len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(back));
	assert_int_equal(ldns_pkt_ancount(back), 0);
	ldns_pkt_free(back);
	free(w);
	ldns_pkt_free(p);
	/* blocked answers */
	p = wire_blocked(req, BLOCKED_NXDOMAIN);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = wire_blocked(req, BLOCKED_ZERO);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	x.n = 0;
	wire_chain(p, name, cn, sizeof(cn), collect, &x);
	assert_int_equal(x.n, 1);
	assert_memory_equal(x.a[0], "\0\0\0\0", 4);
	ldns_pkt_free(p);
	ldns_pkt_free(req);
	/* HTTPS records name addresses in their hints */
	req = query("svc.test.", LDNS_RR_TYPE_HTTPS, true);
	up = wire_reply_for(req, LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_edns(up));
	push(up, "svc.test. 60 IN HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1");
	x.n = 0;
	assert_int_equal(wire_chain(up, "svc.test", cn, sizeof(cn), collect, &x), 0);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.fam[2], AF_INET6);
	ldns_pkt_free(up);
	ldns_pkt_free(req);
	/* FORMERR from a header alone; never to a response */
	{
		uint8_t junk[14] = { 0x12, 0x34, 0x01, 0x00, 0, 9, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		p = wire_formerr_raw(junk, sizeof(junk));
		assert_non_null(p);
		assert_int_equal(ldns_pkt_id(p), 0x1234);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
		ldns_pkt_free(p);
		junk[2] |= 0x80;
		assert_null(wire_formerr_raw(junk, sizeof(junk)));
		assert_null(wire_formerr_raw(junk, 11));
	}
}

static void test_domain_rules(void **state)
{
	struct pmd d;
	struct rule *r;
	struct flow_info f;
	char err[256];
	uint32_t id = 1;

	(void)state;
	memset(&d, 0, sizeof(d));
	const char *text = "allow domain=.example.com\nblock domain=*.tracker.test\n";

	assert_int_equal(ruleset_load_mem(&d.rules, "t", text, strlen(text), &id, err,
					  sizeof(err)), 0);
	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.has_ports = true;
	/* no name: domain rules never match */
	assert_null(ruleset_match(&d.rules, &f, 0));
	f.domain = "www.example.com";
	r = ruleset_match(&d.rules, &f, 0);
	assert_non_null(r);
	assert_int_equal(r->action, ACT_ALLOW);
	/* a CNAME can only block */
	f.cnames = "cdn.other.test,x.tracker.test";
	r = dns_cname_rule(&d, &f, r, 0);
	assert_int_equal(r->action, ACT_BLOCK);
	f.domain = "blocked.tracker.test";
	f.cnames = "www.example.com";
	r = dns_cname_rule(&d, &f, ruleset_match(&d.rules, &f, 0), 0);
	assert_int_equal(r->action, ACT_BLOCK);
	/* round trip through the rules file */
	{
		char *s = rule_format(d.rules.v[1]);

		assert_string_equal(s, "block domain=*.tracker.test");
		free(s);
	}
	ruleset_clear(&d.rules);
	text = "allow domain=a*b.test\n";
	assert_int_equal(ruleset_load_mem(&d.rules, "t", text, strlen(text), &id, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "domain pattern"));
	ruleset_clear(&d.rules);
}

static struct flow_info out_flow(const char *dst, uint16_t dport, uint8_t proto)
{
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = proto;
	inet_pton(AF_INET, "10.0.0.1", f.key.laddr);
	inet_pton(AF_INET, dst, f.key.raddr);
	f.key.lport = 40000;
	f.key.rport = dport;
	f.has_ports = true;
	f.dir = PM_DIR_OUT;
	f.owner.pid = 4242;
	return f;
}

static const struct backend_ops fallback_like = { .name = "nfqueue" };

static void test_dns_flows(void **state)
{
	static struct pmd d;
	struct dns *n = calloc(1, sizeof(*n));
	struct flow_info f;
	uint32_t mark = 0;

	(void)state;
	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	config_finish(&d.cfg);
	d.dns = n;
	d.be = &fallback_like;
	n->d = &d;
	blocklist_init(&n->bl, 1);
	blocklist_init(&n->doh, 1);
	inet_pton(AF_INET, "192.0.2.53", n->doh_addrs[0].addr);
	n->doh_addrs[0].family = AF_INET;
	n->ndoh_addrs = 1;

	/* our own upstream queries: accepted before any rule */
	f = out_flow("192.0.2.1", 53, IPPROTO_UDP);
	f.owner.pid = getpid();
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_ACCEPT_ALWAYS);
	/* a query to the resolver: accepted, and its sender remembered */
	f = out_flow("127.0.0.17", 53, IPPROTO_UDP);
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_ACCEPT_ALWAYS);
	assert_non_null(asker_get(n, AF_INET, f.key.laddr, 40000, IPPROTO_UDP));
	assert_int_equal(asker_get(n, AF_INET, f.key.laddr, 40000, IPPROTO_UDP)->owner.pid, 4242);
	assert_null(asker_get(n, AF_INET, f.key.laddr, 40001, IPPROTO_UDP));
	/* stray DNS, UDP and TCP: rerouted */
	f = out_flow("192.0.2.1", 53, IPPROTO_TCP);
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_REROUTE_DNS);
	/* module mode, before the module DNATs 1799: blocked, not let through */
	d.be = &kmod_backend;
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_BLOCK_ALWAYS);
	d.kmod_reroutes_dns = true;
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_REROUTE_DNS);
	d.be = &fallback_like;
	/* the ways around it */
	f = out_flow("192.0.2.1", 853, IPPROTO_TCP);
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_BLOCK_ALWAYS);
	f = out_flow("192.0.2.53", 443, IPPROTO_TCP);
	assert_true(dns_flow_verdict(&d, &f, &mark));
	assert_int_equal(mark, PM_MARK_BLOCK_ALWAYS);
	f = out_flow("192.0.2.54", 443, IPPROTO_TCP);
	assert_false(dns_flow_verdict(&d, &f, &mark));	/* the rules' */
	/* without prevent_bypass, 853 and DoH are the rules' */
	d.cfg.dns.prevent_bypass = false;
	f = out_flow("192.0.2.53", 443, IPPROTO_TCP);
	assert_false(dns_flow_verdict(&d, &f, &mark));
	/* and inbound flows never the resolver's */
	f = out_flow("192.0.2.1", 53, IPPROTO_UDP);
	f.dir = PM_DIR_IN;
	assert_false(dns_flow_verdict(&d, &f, &mark));
	askers_free(n);
	free(n);
}

struct dns_seen {
	int n;
	struct pm_event ev[4];
	char qname[4][64], exe[4][64], answers[4][64], verdict[4][16];
};

static void seen(void *arg, const struct pm_event *ev)
{
	struct dns_seen *s = arg;

	assert_int_equal(ev->type, EV_DNS);
	assert_true(s->n < 4);
	s->ev[s->n] = *ev;
	snprintf(s->qname[s->n], sizeof(s->qname[0]), "%s", ev->qname ? ev->qname : "-");
	snprintf(s->exe[s->n], sizeof(s->exe[0]), "%s", ev->exe ? ev->exe : "-");
	snprintf(s->answers[s->n], sizeof(s->answers[0]), "%s", ev->answers ? ev->answers : "-");
	snprintf(s->verdict[s->n], sizeof(s->verdict[0]), "%s", ev->verdict ? ev->verdict : "-");
	s->n++;
}

/* One query through dns_handle() over loopback; the client's reply's rcode. */
static int ask(struct dns *n, int srv, int cli, const struct dns_addr *local, const char *name,
	       ldns_rr_type t)
{
	ldns_pkt *req = query(name, t, false), *rep = NULL;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	uint8_t *w = NULL, in[1500];
	size_t len;
	ssize_t got;
	int rcode;

	assert_int_equal(getsockname(cli, (struct sockaddr *)&peer, &plen), 0);
	assert_int_equal(ldns_pkt2wire(&w, req, &len), LDNS_STATUS_OK);
	dns_handle(n, w, len, false, NULL, srv, local, &peer, plen);
	free(w);
	ldns_pkt_free(req);
	got = recv(cli, in, sizeof(in), 0);	/* sent before dns_handle returned */
	assert_true(got > 0);
	assert_int_equal(ldns_wire2pkt(&rep, in, (size_t)got), LDNS_STATUS_OK);
	rcode = ldns_pkt_get_rcode(rep);
	ldns_pkt_free(rep);
	return rcode;
}

/*
 * Every query the resolver decides is published with the program that
 * asked (found by its flow to the resolver), its name and type, the
 * answer's code and addresses and the verdict: refused by a blocklist,
 * answered from the ready answers, and SERVFAIL with no upstream.
 */
static void test_query_events(void **state)
{
	static struct pmd d;
	struct dns *n = calloc(1, sizeof(*n));
	struct dns_seen s = { 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 5 };
	struct dns_addr local = { 0 };
	struct ans keep = { .cnames = "" };
	struct flow_info f;
	uint32_t mark;
	char exe[] = "/usr/bin/firefox";
	uint8_t addr[4] = { 192, 0, 2, 7 };
	ldns_pkt *req, *rep;
	uint8_t *w = NULL;
	char *qname, key[300];

	(void)state;
	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	config_finish(&d.cfg);
	assert_int_equal(flowtab_init(&d.ft), 0);
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_DNS), seen, &s);
	d.dns = n;
	d.be = &fallback_like;
	n->d = &d;
	n->ans = anscache_new();
	n->names = namecache_new(64);
	blocklist_init(&n->bl, 1);
	blocklist_init(&n->doh, 1);
	assert_int_equal(blocklist_add_name(&n->bl, "ads.example.com"), 0);
	assert_int_equal(blocklist_seal(&n->bl), 0);
	assert_int_equal(blocklist_seal(&n->doh), 0);
	assert_true(srv >= 0 && cli >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(bind(cli, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	local = d.cfg.dns.listen[0];

	/* the query's own flow, decided first: firefox, pid 4242 */
	assert_int_equal(getsockname(cli, (struct sockaddr *)&a, &alen), 0);
	f = out_flow("127.0.0.17", 53, IPPROTO_UDP);
	inet_pton(AF_INET, "127.0.0.1", f.key.laddr);
	f.key.lport = ntohs(a.sin_port);
	f.owner.exe = exe;
	assert_true(dns_flow_verdict(&d, &f, &mark));

	/* a listed name: refused, published as blocked */
	assert_int_equal(ask(n, srv, cli, &local, "ads.example.com.", LDNS_RR_TYPE_A),
			 LDNS_RCODE_NXDOMAIN);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.qname[0], "ads.example.com");
	assert_string_equal(s.exe[0], "/usr/bin/firefox");
	assert_int_equal(s.ev[0].pid, 4242);
	assert_int_equal(s.ev[0].qtype, LDNS_RR_TYPE_A);
	assert_int_equal(s.ev[0].rcode, LDNS_RCODE_NXDOMAIN);
	assert_string_equal(s.verdict[0], "block");
	assert_string_equal(s.answers[0], "-");

	/* a ready answer: published with its addresses */
	req = query("www.example.org.", LDNS_RR_TYPE_A, false);
	rep = wire_reply_for(req, LDNS_RCODE_NOERROR);
	push(rep, "www.example.org. 60 IN A 192.0.2.7");
	assert_int_equal(ldns_pkt2wire(&w, rep, &keep.len), LDNS_STATUS_OK);
	keep.wire = w;
	keep.naddrs = 1;
	keep.addrs[0].family = AF_INET;
	memcpy(keep.addrs[0].addr, addr, 4);
	keep.addrs[0].ttl = 60;
	qname = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(req), 0)));
	/* the key as query.c makes it: type, EDNS, DO, CD, RD, name as asked */
	snprintf(key, sizeof(key), "%u/%d%d%d%d/%s", LDNS_RR_TYPE_A, 0, 0, 0, 1, qname);
	anscache_put(n->ans, key, &keep, 60, now_ms());
	free(qname);
	free(w);
	ldns_pkt_free(rep);
	ldns_pkt_free(req);
	assert_int_equal(ask(n, srv, cli, &local, "www.example.org.", LDNS_RR_TYPE_A),
			 LDNS_RCODE_NOERROR);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.qname[1], "www.example.org");
	assert_string_equal(s.verdict[1], "allow");
	assert_string_equal(s.answers[1], "192.0.2.7");
	assert_int_equal(s.ev[1].rcode, LDNS_RCODE_NOERROR);

	/* no upstream at all: SERVFAIL, still published */
	assert_int_equal(ask(n, srv, cli, &local, "nowhere.example.net.", LDNS_RR_TYPE_AAAA),
			 LDNS_RCODE_SERVFAIL);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.qname[2], "nowhere.example.net");
	assert_int_equal(s.ev[2].qtype, LDNS_RR_TYPE_AAAA);
	assert_int_equal(s.ev[2].rcode, LDNS_RCODE_SERVFAIL);
	assert_string_equal(s.exe[2], "/usr/bin/firefox");

	/* pmctl list still names the query's flow (issue 12's listing) */
	{
		const struct flow_entry *e = flowtab_lookup(&d.ft, &f);

		assert_non_null(e);
		assert_string_equal(e->info.domain, "www.example.org");
	}
	close(srv);
	close(cli);
	queries_free(n);
	anscache_free(n->ans);
	namecache_free(n->names);
	blocklist_free(&n->bl);
	blocklist_free(&n->doh);
	askers_free(n);
	free(n);
	events_free(d.events);
	flowtab_free(&d.ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_blocklist),
		cmocka_unit_test(test_namecache),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_domain_rules),
		cmocka_unit_test(test_dns_flows),
		cmocka_unit_test(test_query_events),
	};

	return RUN("dns", tests);
}
