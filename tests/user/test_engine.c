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

static struct flow_info tcp_out(uint16_t lport, uint16_t rport)
{
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = IPPROTO_TCP;
	f.has_ports = true;
	f.ct_new = true;
	inet_pton(AF_INET, "10.0.0.1", f.key.laddr);
	inet_pton(AF_INET, "10.0.0.2", f.key.raddr);
	f.key.lport = lport;
	f.key.rport = rport;
	return f;
}

static void add_rule(struct pmd *d, enum action a, enum scope s, uint16_t port)
{
	struct rule *r = calloc(1, sizeof(*r));

	r->id = d->next_rule_id++;
	r->action = a;
	r->scope = s;
	if (port) {
		r->port = port;
		r->match = RM_PORT;
	}
	ruleset_add(&d->rules, r);
}

static uint32_t remember_ms[256];
static int remember_n;

static int fake_remember_fn(struct pmd *d, uint64_t id, uint32_t mark, uint32_t ms)
{
	(void)d;
	if (remember_n < 256) {
		remember_ms[remember_n++] = ms;
		fake_v[fake_n++] = (struct fake_verdict){ 0, id, mark };
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
	engine_packet(&d, &f, true, 0, 1, NULL, 0);
	assert_int_equal(remember_n, 1);
	assert_int_equal(remember_ms[0], 60000);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);

	add_rule(&d, ACT_BLOCK, SCOPE_FOR, 81);
	r = d.rules.v[d.rules.n - 1];
	r->expires_ms = now_ms() + 10000;
	f = tcp_out(40001, 81);
	engine_packet(&d, &f, true, 0, 2, NULL, 0);
	assert_int_equal(remember_n, 2);
	assert_true(remember_ms[1] > 0 && remember_ms[1] <= 10000);
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK_ALWAYS);	/* the module keeps it */

	add_rule(&d, ACT_ALLOW, SCOPE_ONCE, 82);
	f = tcp_out(40002, 82);
	engine_packet(&d, &f, true, 0, 3, NULL, 0);
	assert_int_equal(remember_n, 2);			/* once: not remembered */
	assert_int_equal(fake_v[2].mark, PM_MARK_ACCEPT);

	add_rule(&d, ACT_ASK, SCOPE_ALWAYS, 83);
	f = tcp_out(40003, 83);
	engine_packet(&d, &f, true, 0, 4, NULL, 0);
	assert_int_equal(fake_n, 3);				/* a prompt waits */

	d.cfg.remember_s = 0;
	f = tcp_out(40004, 80);
	engine_packet(&d, &f, true, 0, 5, NULL, 0);
	assert_int_equal(remember_n, 2);			/* turned off */
	assert_int_equal(fake_n, 4);

	/* a flow the module decided itself is listed, not answered */
	f = tcp_out(40005, 80);
	engine_report(&d, &f, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(fake_n, 4);
	assert_int_equal(d.st.remembered, 1);
	assert_non_null(flowtab_lookup(&d.ft, &f.key));

	/* With a domain rule, a verdict is not carried to flows to the same
	 * address: one made without a name (or under another) would decide
	 * a flow that a domain rule treats otherwise. */
	d.cfg.remember_s = 60;
	r = calloc(1, sizeof(*r));
	r->id = d.next_rule_id++;
	r->action = ACT_ALLOW;
	r->scope = SCOPE_ALWAYS;
	r->domain = strdup(".example.com");
	r->match = RM_DOMAIN;
	ruleset_add(&d.rules, r);
	f = tcp_out(40006, 80);
	engine_packet(&d, &f, true, 0, 6, NULL, 0);
	assert_int_equal(remember_n, 2);
	assert_int_equal(fake_v[fake_n - 1].mark, PM_MARK_ACCEPT_ALWAYS);
	fake_teardown(&d);
}

static void test_default_allow(void **state)
{
	struct pmd d;
	struct flow_info f = tcp_out(40000, 80);

	(void)state;
	fake_setup(&d);
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
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
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_DROP_ALWAYS);
	/* block on a packet that opens its conntrack entry: 1701 (see
	 * backend.h), and the sender is told */
	f = tcp_out(40002, 82);
	engine_packet(&d, &f, true, 17040, 2, (const uint8_t *)"x", 1);
	assert_int_equal(fake_v[1].mark, PM_MARK_BLOCK);
	assert_int_equal(fake_rejects, 1);
	f = tcp_out(40003, 82);
	f.ct_new = false;
	engine_packet(&d, &f, true, 17040, 3, NULL, 0);
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
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT);
	assert_int_equal(d.rules.n, 0);
	/* later packets of the same connection, either way, get 1700 again */
	f = tcp_out(40010, 90);
	engine_packet(&d, &f, true, 17140, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_ACCEPT);
	/* another connection meets the default */
	f = tcp_out(40011, 90);
	engine_packet(&d, &f, true, 17040, 3, NULL, 0);
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
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_n, 0);
	assert_int_equal(d.ft.npending, 1);
	/* a retransmission is held with it */
	f = tcp_out(40020, 80);
	engine_packet(&d, &f, true, 17040, 2, NULL, 0);
	assert_int_equal(fake_n, 0);
	/* other flows are decided meanwhile */
	for (int i = 0; i < 100; i++) {
		f = tcp_out((uint16_t)(41000 + i), 8090);
		engine_packet(&d, &f, true, 17040, (uint64_t)(100 + i), NULL, 0);
	}
	assert_int_equal(fake_n, 100);
	f = tcp_out(40020, 80);
	e = flowtab_lookup(&d.ft, &f.key);
	assert_non_null(e);
	assert_int_equal(e->state, FS_PENDING);
	assert_int_equal(engine_verdict(&d, e->id, ACT_ALLOW, true), 0);
	assert_int_equal(fake_n, 102);
	assert_int_equal(fake_v[100].id, 1);
	assert_int_equal(fake_v[101].id, 2);
	assert_int_equal(fake_v[101].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.ft.npending, 0);
	assert_int_equal(engine_verdict(&d, e->id, ACT_ALLOW, true), -ENOENT);
	assert_int_equal(engine_verdict(&d, 9999, ACT_ALLOW, true), -ENOENT);
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
	d.cfg.max_pending = 2;
	for (int i = 0; i < 3; i++) {
		f = tcp_out((uint16_t)(40030 + i), 80);
		engine_packet(&d, &f, true, 17040, (uint64_t)i + 1, NULL, 0);
	}
	/* the third found the table full: the fallback, at once */
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_v[0].id, 3);
	assert_int_equal(fake_v[0].mark, PM_MARK_BLOCK);
	assert_int_equal(d.st.pending_full, 1);
	engine_tick(&d);
	assert_int_equal(fake_n, 3);
	assert_int_equal(d.st.timeouts, 2);
	assert_int_equal(d.ft.npending, 0);
	fake_teardown(&d);
}

static void test_unparsable_and_icmp_errors(void **state)
{
	struct pmd d;
	struct flow_info f;

	(void)state;
	fake_setup(&d);
	memset(&f, 0, sizeof(f));
	engine_packet(&d, &f, false, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_DROP);
	assert_int_equal(d.st.unparsable, 1);
	f = tcp_out(0, 0);
	f.key.proto = IPPROTO_ICMP;
	f.icmp_error = true;
	d.def = ACT_BLOCK;
	engine_packet(&d, &f, true, 17040, 2, NULL, 0);
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
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
	add_rule(&d, ACT_DROP, SCOPE_RESTART, 80);
	/* its conntrack entry was reset: the next packet, inbound, finds the
	 * flow and is decided under the new rule */
	f = tcp_out(40040, 80);
	f.dir = 1;
	engine_packet(&d, &f, true, 17140, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_DROP_ALWAYS);
	assert_int_equal(flowtab_lookup(&d.ft, &f.key)->info.dir, 0);
	fake_teardown(&d);
}

static void test_table_bound(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	for (int i = 0; i < FLOWTAB_MAX + 100; i++) {
		struct flow_info f = tcp_out((uint16_t)(i % 60000), (uint16_t)(1 + i / 60000));

		engine_packet(&d, &f, true, 17040, (uint64_t)i, NULL, 0);
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
	engine_packet(&d, &f, true, 17040, 1, NULL, 0);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	d.cfg.reroute_dns = true;
	f = tcp_out(40051, 53);
	f.key.proto = IPPROTO_UDP;
	engine_packet(&d, &f, true, 17040, 2, NULL, 0);
	assert_int_equal(fake_v[1].mark, PM_MARK_REROUTE_DNS);
	/* already addressed to our resolver: left alone */
	f = tcp_out(40052, 53);
	f.key.proto = IPPROTO_UDP;
	inet_pton(AF_INET, "127.0.0.1", f.key.raddr);
	engine_packet(&d, &f, true, 17040, 3, NULL, 0);
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
		cmocka_unit_test(test_seen_again_after_reset),
		cmocka_unit_test(test_table_bound),
		cmocka_unit_test(test_reroute_dns),
	};

	return RUN("engine", tests);
}
