// SPDX-License-Identifier: GPL-2.0
/* The verdict engine: marks for each action and scope, once rules, prompts
 * held and answered later by id, timeouts, and flows seen again. */
#include "test_common.h"
#include <arpa/inet.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include "decide/engine.h"
#include "fake_backend.h"
#include "common/util.h"

/* A packet that opens its conntrack entry (the fallback says so); its
 * conntrack id is made from the ports, so each connection has its own. */
static struct flow_info tcp_out(uint16_t lport, uint16_t rport)
{
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = IPPROTO_TCP;
	f.has_ports = true;
	f.ct_state_known = true;
	f.ct_new = true;
	f.ct_id = (uint32_t)lport << 16 | rport;
	inet_pton(AF_INET, "10.0.0.1", f.key.laddr);
	inet_pton(AF_INET, "10.0.0.2", f.key.raddr);
	f.key.lport = lport;
	f.key.rport = rport;
	return f;
}

/* A later packet of the same connection. */
static struct flow_info again(struct flow_info f)
{
	f.ct_new = false;
	return f;
}

static struct rule *add_rule_line(struct pmd *d, const char *line, enum scope s)
{
	struct rule r, *p;
	enum action def;
	char err[256];

	assert_int_equal(rule_parse_line(line, &r, &def, err, sizeof(err)), 0);
	p = rule_dup(&r);
	rule_release(&r);
	p->id = d->next_rule_id++;
	p->scope = s;
	ruleset_add(&d->rules, p);
	return p;
}

static void add_rule(struct pmd *d, enum action a, enum scope s, uint16_t port)
{
	char line[64];

	snprintf(line, sizeof(line), "%s", action_name(a));
	if (port)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " port=%u", port);
	add_rule_line(d, line, s);
}

static void pkt(struct pmd *d, struct flow_info f, uint64_t id)
{
	engine_packet(d, d->ns[0], &f, true, 17040, id, NULL, 0);
}

static uint32_t remember_ms[256];
static int remember_n;

static int fake_remember_fn(struct pmd *d, struct pm_ns *ns, uint64_t id, uint32_t mark,
			    uint32_t ms)
{
	(void)d;
	if (remember_n < 256) {
		remember_ms[remember_n++] = ms;
		fake_v[fake_n++] = (struct fake_verdict){ ns, 0, id, mark };
	}
	return 0;
}

static const struct backend_ops module_like = {
	.name = "module-like",
	.verdict = fake_verdict_fn,
	.verdict_remember = fake_remember_fn,
	.reset = fake_reset_fn,
};

/* Module mode: what rules decide for good is remembered in the module,
 * never longer than the rule lasts; once rules and prompts are not. */
static void test_remember(void **state)
{
	struct pmd d;
	struct flow_info f;
	struct rule *r;

	(void)state;
	fake_setup(&d);
	d.be = &module_like;
	remember_n = 0;
	f = tcp_out(40000, 80);		/* the default: allow */
	engine_packet(&d, d.ns[0], &f, true, 0, 1, NULL, 0);
	assert_int_equal(remember_n, 1);
	assert_int_equal(remember_ms[0], 60000);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);

	add_rule(&d, ACT_BLOCK, SCOPE_FOR, 81);
	r = d.rules.v[d.rules.n - 1];
	r->expires_ms = now_ms() + 10000;
	f = tcp_out(40001, 81);
	engine_packet(&d, d.ns[0], &f, true, 0, 2, NULL, 0);
	assert_int_equal(remember_n, 2);
	assert_true(remember_ms[1] > 0 && remember_ms[1] <= 10000);
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK_ALWAYS);	/* the module keeps it */

	add_rule(&d, ACT_ALLOW, SCOPE_ONCE, 82);
	f = tcp_out(40002, 82);
	engine_packet(&d, d.ns[0], &f, true, 0, 3, NULL, 0);
	assert_int_equal(remember_n, 2);			/* once: not remembered */
	assert_int_equal(fake_v[2].mark, PM_MARK_ACCEPT_ALWAYS);	/* its connection */

	add_rule(&d, ACT_ASK, SCOPE_ALWAYS, 83);
	f = tcp_out(40003, 83);
	engine_packet(&d, d.ns[0], &f, true, 0, 4, NULL, 0);
	assert_int_equal(fake_n, 3);				/* a prompt waits */

	d.cfg.remember_s = 0;
	f = tcp_out(40004, 80);
	engine_packet(&d, d.ns[0], &f, true, 0, 5, NULL, 0);
	assert_int_equal(remember_n, 2);			/* turned off */
	assert_int_equal(fake_n, 4);

	/* a flow the module decided itself is listed, not answered */
	f = tcp_out(40005, 80);
	engine_report(&d, d.ns[0], &f, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(fake_n, 4);
	assert_int_equal(d.st.remembered, 1);
	assert_non_null(flowtab_lookup(&d.ft, &f));

	/* With a domain rule, a verdict is not carried to flows to the same
	 * address: one made without a name (or under another) would decide
	 * a flow that a domain rule treats otherwise. */
	d.cfg.remember_s = 60;
	add_rule_line(&d, "allow domain=.example.com", SCOPE_ALWAYS);
	f = tcp_out(40006, 80);
	engine_packet(&d, d.ns[0], &f, true, 0, 6, NULL, 0);
	assert_int_equal(remember_n, 2);
	assert_int_equal(fake_v[fake_n - 1].mark, PM_MARK_ACCEPT_ALWAYS);
	/* Nor with a rule that asks what the module's key lacks: python3
	 * running bad.py and good.py are the same key (exe, uid, peer,
	 * port), and a remembered verdict for one would decide the other. */
	ruleset_del(&d.rules, d.rules.v[d.rules.n - 1]->id);
	f = tcp_out(40007, 80);
	engine_packet(&d, d.ns[0], &f, true, 0, 7, NULL, 0);
	assert_int_equal(remember_n, 3);			/* the domain rule gone */
	for (const char *const *l = (const char *const[]){ "block cmdline=*bad.py*",
			"block parent=/usr/sbin/cron", "block unit=x", "block cgroup=/a/*",
			"block group=0", "block local=10.0.0.0/8", "block icmp-type=8", NULL };
	     *l; l++) {
		struct rule *x = add_rule_line(&d, *l, SCOPE_ALWAYS);

		f = tcp_out(40008, 80);
		engine_packet(&d, d.ns[0], &f, true, 0, 8, NULL, 0);
		if (remember_n != 3)
			fail_msg("remembered with '%s'", *l);
		ruleset_del(&d.rules, x->id);
	}
	add_rule_line(&d, "block exe=/usr/bin/*x remote=lan port=1-9 user=0 dir=in proto=udp",
		      SCOPE_ALWAYS);
	f = tcp_out(40009, 80);
	engine_packet(&d, d.ns[0], &f, true, 0, 9, NULL, 0);
	assert_int_equal(remember_n, 4);	/* all in the key: remembered */
	fake_teardown(&d);
}

static void test_default_allow(void **state)
{
	struct pmd d;
	struct flow_info f = tcp_out(40000, 80);

	(void)state;
	fake_setup(&d);
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_v[0].id, 1);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.st.verdicts[10], 1);
	fake_teardown(&d);
}

static void test_actions_and_scopes(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	add_rule(&d, ACT_DROP, SCOPE_RESTART, 81);
	add_rule(&d, ACT_BLOCK, SCOPE_ALWAYS, 82);
	f = tcp_out(40001, 81);
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_DROP_ALWAYS);
	/* block on a packet that opens its conntrack entry: 1701 (see
	 * backend.h), and the sender is told */
	f = tcp_out(40002, 82);
	engine_packet(&d, d.ns[0], &f, true, 17040, 2, (const uint8_t *)"x", 1);
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK);
	assert_int_equal(fake_rejects, 1);
	f = tcp_out(40003, 82);
	f.ct_new = false;
	engine_packet(&d, d.ns[0], &f, true, 17040, 3, NULL, 0);
	assert_int_equal(fake_v[2].mark, PM_MARK_BLOCK_ALWAYS);
	fake_teardown(&d);
}

static void test_once_rule(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	d.def = ACT_BLOCK;
	add_rule(&d, ACT_ALLOW, SCOPE_ONCE, 90);
	f = tcp_out(40010, 90);
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	/* its one connection, kept on it: no per-flow state needed later */
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.rules.n, 0);
	/* asked again after a rule change: the once rule's answer stands
	 * for that connection, like a prompt's */
	pkt(&d, again(tcp_out(40010, 90)), 2);
	assert_int_equal(fake_v[1].mark, PM_MARK_ACCEPT_ALWAYS);
	/* another connection meets the default */
	f = tcp_out(40011, 90);
	engine_packet(&d, d.ns[0], &f, true, 17040, 3, NULL, 0);
	assert_int_equal(fake_v[2].mark, PM_MARK_BLOCK);
	fake_teardown(&d);
}

static void test_prompt(void **state)
{
	struct pmd d;
	struct flow_info f;
	struct flow_entry *e;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	add_rule(&d, ACT_ALLOW, SCOPE_RESTART, 8090);
	f = tcp_out(40020, 80);
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_n, 0);
	assert_int_equal(d.ft.npending, 1);
	/* a retransmission of the packet, same entry, is held with it */
	f = again(tcp_out(40020, 80));
	engine_packet(&d, d.ns[0], &f, true, 17040, 2, NULL, 0);
	assert_int_equal(fake_n, 0);
	/* other flows are decided meanwhile */
	for (int i = 0; i < 100; i++) {
		f = tcp_out((uint16_t)(41000 + i), 8090);
		engine_packet(&d, d.ns[0], &f, true, 17040, (uint64_t)(100 + i), NULL, 0);
	}
	assert_int_equal(fake_n, 100);
	f = tcp_out(40020, 80);
	f.netns = d.ns[0]->id;
	e = flowtab_lookup(&d.ft, &f);
	assert_non_null(e);
	assert_int_equal(e->state, FS_PENDING);
	assert_int_equal(engine_verdict(&d, e, ACT_ALLOW), 0);
	assert_int_equal(fake_n, 102);
	assert_int_equal(fake_v[100].id, 1);
	assert_int_equal(fake_v[101].id, 2);
	assert_int_equal(fake_v[101].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.ft.npending, 0);
	assert_int_equal(engine_verdict(&d, e, ACT_ALLOW), -ENOENT);
	assert_int_equal(engine_verdict(&d, NULL, ACT_ALLOW), -ENOENT);
	fake_teardown(&d);
}

static void test_prompt_timeout_and_limit(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	d.cfg.prompt_timeout_s = 0;
	d.cfg.max_pending = 4;	/* 2 per direction, 1 per uid of a direction */
	for (int i = 0; i < 3; i++) {
		f = tcp_out((uint16_t)(40030 + i), 80);
		f.owner.have_uid = true;
		f.owner.uid = (uint32_t)(1000 + i);
		pkt(&d, f, (uint64_t)i + 1);
	}
	/* the third found its direction's share taken: the fallback, at once */
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_v[0].id, 3);
	assert_int_equal(fake_v[0].mark, PM_MARK_BLOCK);
	assert_int_equal(d.st.quota_full, 1);
	engine_tick(&d);
	assert_int_equal(fake_n, 3);
	assert_int_equal(d.st.timeouts, 2);
	assert_int_equal(d.ft.npending, 0);
	fake_teardown(&d);
}

/* An inbound flood fills only the inbound share, and one user's flows
 * only that user's part of it: a local program is still asked. */
static void test_prompt_quota(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	d.cfg.max_pending = 8;
	for (int i = 0; i < 20; i++) {
		f = tcp_out(8080, (uint16_t)(30000 + i));
		f.dir = PM_DIR_IN;
		f.owner.have_uid = true;
		f.owner.uid = 33;
		pkt(&d, f, (uint64_t)i + 1);
	}
	/* 4 for inbound, 2 of them for one uid */
	assert_int_equal(d.ft.npending, 2);
	assert_int_equal(fake_n, 18);
	assert_int_equal(d.st.quota_full, 18);
	f = tcp_out(40000, 443);
	f.owner.have_uid = true;
	f.owner.uid = 1000;
	pkt(&d, f, 100);
	assert_int_equal(d.ft.npending, 3);	/* asked, not refused */
	assert_int_equal(fake_n, 18);
	/* inbound to a port nothing listens on: decided, never asked */
	f = tcp_out(9999, 31000);
	f.dir = PM_DIR_IN;
	f.no_socket = true;
	pkt(&d, f, 101);
	assert_int_equal(fake_n, 19);
	assert_int_equal(fake_v[18].mark, PM_MARK_BLOCK);
	assert_int_equal(d.st.not_local, 1);
	fake_teardown(&d);
}

static void test_unparsable_and_icmp_errors(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	memset(&f, 0, sizeof(f));
	engine_packet(&d, d.ns[0], &f, false, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_DROP);
	assert_int_equal(d.st.unparsable, 1);
	f = tcp_out(0, 0);
	f.key.proto = IPPROTO_ICMP;
	f.icmp_error = true;
	d.def = ACT_BLOCK;
	engine_packet(&d, d.ns[0], &f, true, 17040, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_ACCEPT);
	assert_int_equal(d.ft.n, 0);
	fake_teardown(&d);
}

static void test_seen_again_after_reset(void **state)
{
	struct pmd d;
	struct flow_info f = tcp_out(40040, 80);

	(void)state;
	fake_setup(&d);
	pkt(&d, f, 1);
	add_rule(&d, ACT_DROP, SCOPE_RESTART, 80);
	/* its mark was cleared: the next packet, inbound, finds the flow by
	 * its conntrack id and is decided under the new rule */
	f = again(tcp_out(40040, 80));
	f.dir = 1;
	engine_packet(&d, d.ns[0], &f, true, 17140, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_DROP_ALWAYS);
	f.netns = d.ns[0]->id;
	assert_int_equal(flowtab_lookup(&d.ft, &f)->info.dir, 0);
	assert_int_equal(d.ft.n, 1);
	assert_int_equal(d.st.redecided, 1);
	fake_teardown(&d);
}

/*
 * Program B sends from the port program A used a moment ago, to the same
 * peer: a new conntrack entry, so a new flow, attributed to B and decided
 * by B's rules, whatever conntrack id the kernel gave it (ids are made
 * from the entry's address, which is reused).
 */
static void test_identity_port_reuse(void **state)
{
	struct pmd d;
	struct flow_info a = tcp_out(40050, 80), b;
	struct rule *ra;
	struct flow_entry *e;

	(void)state;
	fake_setup(&d);
	ra = add_rule_line(&d, "allow exe=/usr/bin/a", SCOPE_RESTART);
	add_rule_line(&d, "block exe=/usr/bin/b", SCOPE_RESTART);
	a.owner.exe = strdup("/usr/bin/a");
	a.owner.pid = 100;
	pkt(&d, a, 1);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	/* fallback: the same id, but the packet opens a new entry */
	b = tcp_out(40050, 80);
	b.owner.exe = strdup("/usr/bin/b");
	b.owner.pid = 200;
	pkt(&d, b, 2);
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK);
	assert_int_equal(ra->hits, 1);
	assert_int_equal(d.ft.n, 2);
	b.netns = d.ns[0]->id;
	e = flowtab_lookup(&d.ft, &b);
	assert_int_equal(e->info.owner.pid, 200);
	assert_string_equal(e->info.owner.exe, "/usr/bin/b");
	/* module: no word on the entry; the socket on our side tells */
	flowtab_free(&d.ft);
	flowtab_init(&d.ft);
	a = tcp_out(40051, 80);
	a.ct_state_known = a.ct_new = false;
	a.owner.inode = 555;
	a.owner.exe = strdup("/usr/bin/a");
	pkt(&d, a, 3);
	b = a;
	b.owner.inode = 556;
	b.owner.exe = strdup("/usr/bin/b");
	pkt(&d, b, 4);
	assert_int_equal(fake_v[3].mark, PM_MARK_BLOCK_ALWAYS);
	assert_int_equal(d.ft.n, 2);
	/* the same socket again (a RESET cleared its mark): the same flow */
	b.owner.exe = NULL;
	b.owner.pid = 0;
	d.def = ACT_ASK;
	pkt(&d, b, 5);
	assert_int_equal(fake_v[4].mark, PM_MARK_BLOCK_ALWAYS);
	assert_int_equal(d.ft.n, 2);
	assert_int_equal(d.ft.npending, 0);
	fake_teardown(&d);
}

/*
 * The same, on a kernel that gives the fallback no conntrack id nor state
 * (no conntrack glue): a flow whose kept mark we have not cleared would
 * never be queued again, so its tuple queued again is a new entry; after
 * marks were cleared, the socket on our side tells.
 */
static void test_identity_without_ct_info(void **state)
{
	struct pmd d;
	struct flow_info a, b;

	(void)state;
	fake_setup(&d);
	add_rule_line(&d, "block exe=/usr/bin/b", SCOPE_RESTART);
	a = tcp_out(40055, 80);
	a.key.proto = IPPROTO_UDP;
	a.ct_id = 0;
	a.ct_state_known = a.ct_new = false;
	a.owner.inode = 11;
	a.owner.exe = strdup("/usr/bin/a");
	pkt(&d, a, 1);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	b = a;
	b.owner.inode = 12;
	b.owner.exe = strdup("/usr/bin/b");
	pkt(&d, b, 2);
	/* blocked as it opens its entry: 1701 (see backend.h) */
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK);
	assert_int_equal(d.ft.n, 2);
	/* a rule change clears the marks; B's socket asks again: B's flow */
	d.ns[0]->clear_gen++;
	b.owner.exe = NULL;
	pkt(&d, b, 3);
	assert_int_equal(fake_v[2].mark, PM_MARK_BLOCK);
	assert_int_equal(d.ft.n, 2);
	assert_int_equal(d.st.redecided, 1);
	/* and a third socket with that tuple after the clearing: new */
	d.ns[0]->clear_gen++;
	b.owner.inode = 13;
	pkt(&d, b, 4);
	assert_int_equal(d.ft.n, 3);
	fake_teardown(&d);
}

/* Identical tuples, and even conntrack ids, in two namespaces: two flows,
 * each answered in its own namespace. */
static void test_two_namespaces(void **state)
{
	struct pmd d;
	struct flow_info f;
	struct flow_entry *e0, *e1;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	f = tcp_out(40060, 80);
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	f = tcp_out(40060, 80);
	engine_packet(&d, d.ns[1], &f, true, 17040, 1, NULL, 0);
	assert_int_equal(d.ft.npending, 2);
	e1 = d.ft.head;
	e0 = e1->next;
	assert_ptr_equal(e0->ns, d.ns[0]);
	assert_ptr_equal(e1->ns, d.ns[1]);
	assert_int_equal(engine_verdict(&d, e1, ACT_BLOCK), 0);
	assert_int_equal(engine_verdict(&d, e0, ACT_ALLOW), 0);
	assert_ptr_equal(fake_v[0].ns, d.ns[1]);
	assert_int_equal(fake_v[0].mark, PM_MARK_BLOCK);
	assert_ptr_equal(fake_v[1].ns, d.ns[0]);
	assert_int_equal(fake_v[1].mark, PM_MARK_ACCEPT_ALWAYS);
	fake_teardown(&d);
}

/*
 * After a rule change: a connection the user answered keeps the answer
 * unless a rule now says otherwise, and no running connection is asked.
 */
static void test_answers_and_rule_changes(void **state)
{
	struct pmd d;
	struct flow_info f;
	struct flow_entry *e;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	f = tcp_out(40070, 80);
	f.owner.exe = strdup("/usr/bin/x");
	pkt(&d, f, 1);
	e = d.ft.pending;
	assert_non_null(e);
	assert_int_equal(engine_verdict(&d, e, ACT_ALLOW), 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	/* an unrelated rule: asked again, the answer stands, nobody asked */
	add_rule(&d, ACT_BLOCK, SCOPE_RESTART, 22);
	pkt(&d, again(tcp_out(40070, 80)), 2);
	assert_int_equal(fake_v[1].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.ft.npending, 0);
	/* a rule for it: the rule wins */
	add_rule_line(&d, "block exe=/usr/bin/x", SCOPE_RESTART);
	pkt(&d, again(tcp_out(40070, 80)), 3);
	assert_int_equal(fake_v[2].mark, PM_MARK_BLOCK_ALWAYS);
	/* rule gone: the answer again */
	ruleset_del(&d.rules, d.rules.v[1]->id);
	pkt(&d, again(tcp_out(40070, 80)), 4);
	assert_int_equal(fake_v[3].mark, PM_MARK_ACCEPT_ALWAYS);
	/* a connection the default allowed, the default now "ask": it keeps
	 * its verdict; the default "block" stops it */
	d.def = ACT_ALLOW;
	pkt(&d, tcp_out(40071, 80), 5);
	d.def = ACT_ASK;
	pkt(&d, again(tcp_out(40071, 80)), 6);
	assert_int_equal(fake_v[5].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.ft.npending, 0);
	d.def = ACT_BLOCK;
	pkt(&d, again(tcp_out(40071, 80)), 7);
	assert_int_equal(fake_v[6].mark, PM_MARK_BLOCK_ALWAYS);
	fake_teardown(&d);
}

/* Pending flows that the rules now decide are decided at once. */
static void test_pending_decided_by_new_rule(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	pkt(&d, tcp_out(40080, 443), 1);
	pkt(&d, tcp_out(40081, 443), 2);
	pkt(&d, tcp_out(40082, 22), 3);
	assert_int_equal(d.ft.npending, 3);
	add_rule(&d, ACT_DROP, SCOPE_RESTART, 443);
	engine_rules_changed(&d);
	assert_int_equal(d.ft.npending, 1);
	assert_int_equal(fake_n, 2);
	assert_int_equal(fake_v[0].mark, PM_MARK_DROP_ALWAYS);
	assert_int_equal(fake_v[1].mark, PM_MARK_DROP_ALWAYS);
	assert_int_equal(d.rules.v[0]->hits, 2);
	/* a once rule takes one of them, then is gone */
	pkt(&d, tcp_out(40083, 22), 4);
	add_rule(&d, ACT_ALLOW, SCOPE_ONCE, 22);
	engine_rules_changed(&d);
	assert_int_equal(d.ft.npending, 1);
	assert_int_equal(d.rules.n, 1);
	fake_teardown(&d);
}

/*
 * A retransmission opens a new conntrack entry while its first packet
 * waits, or after it was refused before its entry existed: the same
 * socket's, so the same flow (held with it; not a second prompt).
 */
static void test_retransmissions(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	f = tcp_out(40090, 80);
	f.owner.inode = 777;
	pkt(&d, f, 1);
	f = tcp_out(40090, 80);
	f.ct_id = 999;		/* another (unconfirmed) entry */
	f.owner.inode = 777;
	pkt(&d, f, 2);
	assert_int_equal(d.ft.npending, 1);
	assert_int_equal(d.ft.pending->nheld, 2);
	/* another socket with the same tuple is not let in with it */
	f.ct_id = 998;
	f.owner.inode = 778;
	pkt(&d, f, 3);
	assert_int_equal(d.ft.npending, 2);
	{
		struct flow_entry *p = d.ft.pending;

		while (p && p->info.owner.inode != 777)
			p = p->pnext;
		assert_int_equal(engine_verdict(&d, p, ACT_DROP), 0);
	}
	/* dropped before its entry existed: the next try is that flow, and
	 * gets its answer without a prompt */
	f.ct_id = 997;
	f.owner.inode = 777;
	pkt(&d, f, 4);
	assert_int_equal(d.ft.npending, 1);
	assert_int_equal(fake_v[fake_n - 1].id, 4);
	assert_int_equal(fake_v[fake_n - 1].mark, PM_MARK_DROP_ALWAYS);
	fake_teardown(&d);
}

/*
 * A SYN sent again because its verdict came late (a busy machine) opens
 * another conntrack entry: the same connection, decided as before, and
 * the rule that decided it counts it once.
 */
static void test_late_retransmission_counted_once(void **state)
{
	struct pmd d;
	struct flow_info f;
	struct rule *r;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	r = add_rule_line(&d, "allow port=80", SCOPE_ALWAYS);
	f = tcp_out(40095, 80);
	f.tcp_syn = true;
	f.owner.inode = 777;
	pkt(&d, f, 1);
	assert_int_equal(r->hits, 1);
	f.ct_id = 990;		/* the copy's own entry */
	pkt(&d, f, 2);
	assert_int_equal(fake_n, 2);
	assert_int_equal(fake_v[1].mark, fake_v[0].mark);
	assert_int_equal(r->hits, 1);
	assert_int_equal(d.ft.n, 1);	/* one connection listed */
	fake_teardown(&d);
}

static void test_table_bound(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	for (int i = 0; i < FLOWTAB_MAX + 100; i++) {
		struct flow_info f = tcp_out((uint16_t)(i % 60000), (uint16_t)(1 + i / 60000));

		engine_packet(&d, d.ns[0], &f, true, 17040, (uint64_t)i, NULL, 0);
	}
	assert_int_equal(d.ft.n, FLOWTAB_MAX);
	fake_teardown(&d);
}

static void test_reroute_dns(void **state)
{
	struct pmd d;
	struct flow_info f = tcp_out(40050, 53);

	(void)state;
	fake_setup(&d);
	f.key.proto = IPPROTO_UDP;
	engine_packet(&d, d.ns[0], &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	d.cfg.reroute_dns = true;
	f = tcp_out(40051, 53);
	f.key.proto = IPPROTO_UDP;
	engine_packet(&d, d.ns[0], &f, true, 17040, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_REROUTE_DNS);
	/* already addressed to our resolver: left alone */
	f = tcp_out(40052, 53);
	f.key.proto = IPPROTO_UDP;
	inet_pton(AF_INET, "127.0.0.1", f.key.raddr);
	engine_packet(&d, d.ns[0], &f, true, 17040, 3, NULL, 0);
	assert_int_equal(fake_v[2].mark, PM_MARK_ACCEPT_ALWAYS);
	fake_teardown(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_allow),
		cmocka_unit_test(test_remember),
		cmocka_unit_test(test_actions_and_scopes),
		cmocka_unit_test(test_once_rule),
		cmocka_unit_test(test_prompt),
		cmocka_unit_test(test_prompt_timeout_and_limit),
		cmocka_unit_test(test_unparsable_and_icmp_errors),
		cmocka_unit_test(test_prompt_quota),
		cmocka_unit_test(test_seen_again_after_reset),
		cmocka_unit_test(test_identity_port_reuse),
		cmocka_unit_test(test_identity_without_ct_info),
		cmocka_unit_test(test_two_namespaces),
		cmocka_unit_test(test_answers_and_rule_changes),
		cmocka_unit_test(test_pending_decided_by_new_rule),
		cmocka_unit_test(test_retransmissions),
		cmocka_unit_test(test_late_retransmission_counted_once),
		cmocka_unit_test(test_table_bound),
		cmocka_unit_test(test_reroute_dns),
	};

	return RUN("engine", tests);
}
