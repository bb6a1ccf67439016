// SPDX-License-Identifier: GPL-2.0
/* The event bus: what listeners get for each step of a flow, how a
 * conntrack end finds its flow (by tuple, either direction, the newest
 * decision for a reused tuple), and the resolver's DNS events. */
#include "test_common.h"
#include <linux/portmaster.h>
#include <sys/socket.h>
#include "daemon.h"
#include "events/events.h"

struct got {
	int n;
	struct pm_event ev[8];
	char exe[8][64];
	char domain[8][64];	/* "-": none (the event's own string may be gone) */
};

static void collect(void *arg, const struct pm_event *ev)
{
	struct got *g = arg;

	assert_true(g->n < 8);
	g->ev[g->n] = *ev;
	snprintf(g->exe[g->n], sizeof(g->exe[0]), "%s", ev->exe ? ev->exe : "-");
	snprintf(g->domain[g->n], sizeof(g->domain[0]), "%s", ev->domain ? ev->domain : "-");
	g->n++;
}

static struct flow_entry flow(uint64_t id, uint8_t dir, uint16_t lport, uint16_t rport, char *exe)
{
	struct flow_entry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.info.dir = dir;
	e.info.key.family = AF_INET;
	e.info.key.proto = 6;
	e.info.key.laddr[0] = 10, e.info.key.laddr[3] = 1;
	e.info.key.raddr[0] = 10, e.info.key.raddr[3] = 2;
	e.info.key.lport = lport;
	e.info.key.rport = rport;
	e.info.owner.exe = exe;
	e.info.owner.pid = 42;
	e.mark = PM_MARK_ACCEPT_ALWAYS;
	e.state = FS_DECIDED;
	return e;
}

/* conntrack's view: the original tuple is the flow's first packet. */
static struct ct_end end_of(const struct flow_entry *e, uint64_t ob, uint64_t rb)
{
	const struct flow_key *k = &e->info.key;
	bool out = e->info.dir == PM_DIR_OUT;
	struct ct_end c = { .family = k->family, .proto = k->proto, .orig_bytes = ob,
			    .orig_pkts = 1, .reply_bytes = rb, .reply_pkts = 2 };

	c.netns = e->info.netns;
	memcpy(c.src, out ? k->laddr : k->raddr, 4);
	memcpy(c.dst, out ? k->raddr : k->laddr, 4);
	c.sport = out ? k->lport : k->rport;
	c.dport = out ? k->rport : k->lport;
	return c;
}

static void test_flow_and_end(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct flow_entry out = flow(1, PM_DIR_OUT, 40000, 443, "/usr/bin/curl");
	struct flow_entry in = flow(2, PM_DIR_IN, 22, 50000, "/usr/sbin/sshd");
	struct flow_entry other = flow(3, PM_DIR_OUT, 40001, 443, "/usr/bin/wget");
	struct ct_end c;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	assert_int_equal(events_listen(d.events, EV_MASK(EV_FLOW) | EV_MASK(EV_END), collect, &g), 0);
	events_flow(&d, &out, EV_FLOW);
	events_flow(&d, &in, EV_FLOW);
	events_flow(&d, &out, EV_PROMPT);	/* not in the mask */
	assert_int_equal(g.n, 2);
	assert_string_equal(g.exe[0], "/usr/bin/curl");
	assert_string_equal(g.ev[0].verdict, "allow");

	/* Outbound: orig is what we sent. */
	c = end_of(&out, 100, 5000);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[2].type, EV_END);
	assert_int_equal(g.ev[2].flow_id, 1);
	assert_string_equal(g.exe[2], "/usr/bin/curl");	/* kept, the entry's own exe is gone */
	assert_int_equal(g.ev[2].bytes_out, 100);
	assert_int_equal(g.ev[2].bytes_in, 5000);
	/* Inbound: orig is what the peer sent. */
	c = end_of(&in, 300, 7000);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.ev[3].flow_id, 2);
	assert_int_equal(g.ev[3].bytes_in, 300);
	assert_int_equal(g.ev[3].bytes_out, 7000);
	/* Each end once; a flow never decided here has none. */
	c = end_of(&out, 1, 1);
	events_ct_end(&d, &c);
	c = end_of(&other, 1, 1);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 4);
	events_free(d.events);
}

/* A flow named by the resolver: its decision and its end carry the name
 * (the history's row and pmctl monitor get it), and a flow without one
 * carries none. */
static void test_flow_domain(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct flow_entry named = flow(1, PM_DIR_OUT, 40000, 443, "/usr/bin/curl");
	struct flow_entry bare = flow(2, PM_DIR_OUT, 40001, 443, "/usr/bin/curl");
	char domain[] = "www.example.org";
	struct ct_end c;
	struct buf b;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_FLOW) | EV_MASK(EV_END), collect, &g);
	named.info.domain = domain;
	events_flow(&d, &named, EV_FLOW);
	events_flow(&d, &bare, EV_FLOW);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.domain[0], "www.example.org");
	assert_string_equal(g.domain[1], "-");
	buf_init(&b);
	event_record(&b, &g.ev[0]);
	assert_non_null(strstr(b.p, "\"domain\":\"www.example.org\""));
	buf_free(&b);
	/* the entry's own string goes with it; the end keeps a copy */
	memset(domain, 'x', sizeof(domain) - 1);
	c = end_of(&named, 10, 20);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[2].type, EV_END);
	assert_string_equal(g.domain[2], "www.example.org");
	c = end_of(&bare, 10, 20);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.domain[3], "-");
	events_free(d.events);
}

static void test_reused_tuple(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct flow_entry a = flow(1, PM_DIR_OUT, 40000, 80, "/bin/a");
	struct flow_entry b = flow(2, PM_DIR_OUT, 40000, 80, "/bin/b");
	struct ct_end c = end_of(&a, 10, 20);

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_END), collect, &g);
	events_flow(&d, &a, EV_FLOW);
	events_flow(&d, &b, EV_ANSWER);		/* the same tuple, decided again */
	events_ct_end(&d, &c);
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ev[0].flow_id, 2);
	assert_string_equal(g.exe[0], "/bin/b");
	events_free(d.events);
}

/* Two namespaces with the same addresses (pmd "netns ="): identical
 * tuples are two flows, and each end finds its own namespace's. */
static void test_same_tuple_two_namespaces(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct flow_entry a = flow(1, PM_DIR_OUT, 41100, 7100, "/bin/a");
	struct flow_entry b = flow(2, PM_DIR_OUT, 41100, 7100, "/bin/b");
	struct ct_end c;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_END), collect, &g);
	a.info.netns = 4026531840u;
	b.info.netns = 4026532999u;
	events_flow(&d, &a, EV_FLOW);
	events_flow(&d, &b, EV_FLOW);	/* does not replace a's */
	c = end_of(&b, 30, 40);
	events_ct_end(&d, &c);
	c = end_of(&a, 10, 20);
	events_ct_end(&d, &c);
	c.netns = 1;			/* a namespace nobody decided in */
	events_ct_end(&d, &c);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ev[0].flow_id, 2);
	assert_int_equal(g.ev[0].bytes_out, 30);
	assert_int_equal(g.ev[1].flow_id, 1);
	assert_int_equal(g.ev[1].bytes_out, 10);
	events_free(d.events);
}

static void test_dns_and_records(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct pm_dns_query q = { .pid = 7, .exe = "/usr/bin/firefox", .qname = "example.org",
				  .qtype = 28, .answers = "2001:db8::1", .verdict = "block" };
	struct buf b;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_DNS), collect, &g);
	events_dns(&d, &q);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.ev[0].domain, "example.org");
	buf_init(&b);
	event_record(&b, &g.ev[0]);
	assert_non_null(strstr(b.p, "\"event\":\"dns\""));
	assert_non_null(strstr(b.p, "\"domain\":\"example.org\""));
	assert_non_null(strstr(b.p, "\"qtype\":28"));
	assert_non_null(strstr(b.p, "\"verdict\":\"block\""));
	buf_free(&b);
	events_unlisten(d.events, collect, &g);
	events_dns(&d, &q);
	assert_int_equal(g.n, 1);
	events_free(d.events);
}

/* Each second's traffic per program, from conntrack's counters. */
static void test_traffic(void **state)
{
	struct pmd d;
	struct got g = { 0 };
	struct flow_entry a = flow(1, PM_DIR_OUT, 40000, 443, "/bin/a");
	struct flow_entry b = flow(2, PM_DIR_IN, 22, 50000, "/bin/b");
	struct ct_end c;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.events = events_new();
	events_listen(d.events, EV_MASK(EV_TRAFFIC), collect, &g);
	events_flow(&d, &a, EV_FLOW);
	/* The first round only learns where a's counters stand. */
	events_sample_begin(&d);
	c = end_of(&a, 100, 1000);
	events_sample(&d, &c);
	events_sample_end(&d, 1000);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.exe[0], "/bin/a");
	assert_int_equal(g.ev[0].conns, 1);
	assert_int_equal(g.ev[0].bytes_out, 0);
	assert_int_equal(g.ev[0].bytes_in, 0);
	/* b begins after that round began: all it moved counts. */
	events_flow(&d, &b, EV_FLOW);
	events_sample_begin(&d);
	c = end_of(&a, 150, 3000);
	events_sample(&d, &c);
	c = end_of(&b, 10, 20);		/* inbound: orig is what came in */
	events_sample(&d, &c);
	c = end_of(&a, 160, 3500);	/* a ends before the round is out */
	events_ct_end(&d, &c);
	events_sample_end(&d, 1000);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.exe[1], "/bin/a");
	assert_int_equal(g.ev[1].bytes_out, 60);
	assert_int_equal(g.ev[1].bytes_in, 2500);
	assert_int_equal(g.ev[1].conns, 1);
	assert_string_equal(g.exe[2], "/bin/b");
	assert_int_equal(g.ev[2].bytes_in, 10);
	assert_int_equal(g.ev[2].bytes_out, 20);
	assert_int_equal(g.ev[2].interval_ms, 1000);
	/* Nothing moved, nothing open: no event. */
	events_sample_begin(&d);
	events_sample_end(&d, 1000);
	assert_int_equal(g.n, 3);
	events_free(d.events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_and_end),
		cmocka_unit_test(test_flow_domain),
		cmocka_unit_test(test_reused_tuple),
		cmocka_unit_test(test_same_tuple_two_namespaces),
		cmocka_unit_test(test_dns_and_records),
		cmocka_unit_test(test_traffic),
	};

	return RUN("events", tests);
}
