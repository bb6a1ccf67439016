// SPDX-License-Identifier: GPL-2.0
/* The control commands end to end, as the daemon runs them: replies,
 * errors, and the permission check for state changes. */
#include "test_common.h"
#include <unistd.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include "control/ctlcmd.h"
#include "decide/engine.h"
#include "fake_backend.h"

/* One request line as the daemon gets it; the reply as it sends it. */
static char *run_raw_as(struct pmd *d, uid_t uid, bool admin, const char *req)
{
	struct peer p = { .pid = 1, .uid = uid, .admin = admin };
	struct buf out;
	char *line = strdup(req);

	buf_init(&out);
	ctl_handle(d, &p, line, &out);
	free(line);
	return out.p;
}

static char *run_raw(struct pmd *d, bool admin, const char *req)
{
	return run_raw_as(d, admin ? 0 : 1000, admin, req);
}

/*
 * The tests below say requests and replies in a short form, "cmd k=v ..."
 * and "ok N\nk=v ...\n" or "error CODE MESSAGE" (values percent-encoded),
 * so that they read as what the commands do; this turns them into the
 * JSON of the protocol and back.
 */
static char *run_as(struct pmd *d, uid_t uid, bool admin, const char *req)
{
	struct buf args, line, text;
	char *copy = strdup(req), *save = NULL, *tok, *cmd, *reply, *l, *nl;
	char code[16], msg[512];
	long n;

	buf_init(&args);
	buf_init(&line);
	buf_init(&text);
	cmd = strtok_r(copy, " ", &save);
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		*eq = 0;
		assert_int_equal(pct_decode(eq + 1), 0);
		rec_str(&args, tok, eq + 1);
	}
	proto_request(&line, cmd, &args);
	line.p[line.len - 1] = 0;
	reply = run_raw_as(d, uid, admin, line.p);
	nl = strchr(reply, '\n');
	assert_non_null(nl);
	*nl = 0;
	switch (proto_parse_header(reply, &n, code, sizeof(code), msg, sizeof(msg))) {
	case 0:
		buf_addf(&text, "ok %ld\n", n);
		for (l = nl + 1; *l; l = nl + 1) {
			struct proto_kv kv[64];
			int k;

			nl = strchr(l, '\n');
			assert_non_null(nl);
			*nl = 0;
			k = proto_parse_record(l, kv, 64);
			assert_true(k >= 0);
			for (int i = 0; i < k; i++) {
				buf_addf(&text, "%s%s=", i ? " " : "", kv[i].key);
				pct_encode(&text, kv[i].val);
			}
			buf_add(&text, "\n", 1);
			n--;
		}
		assert_int_equal(n, 0);	/* as many records as the header says */
		break;
	case 1:
		assert_true(nl[1] == 0);	/* an error is one line */
		buf_addf(&text, "error %s %s", code, msg);
		break;
	default:
		fail_msg("malformed reply '%s'", reply);
	}
	free(reply);
	free(copy);
	buf_free(&args);
	buf_free(&line);
	if (!text.p)
		buf_addf(&text, "%s", "");
	return text.p;
}

static char *run(struct pmd *d, bool admin, const char *req)
{
	return run_as(d, admin ? 0 : 1000, admin, req);
}

#define EXPECT(d, admin, req, want)                                    \
	do {                                                           \
		char *got_ = run(d, admin, req);                       \
		if (strncmp(got_, want, strlen(want)))                 \
			fail_msg("'%s': got '%s', want '%s'", req, got_, want); \
		free(got_);                                            \
	} while (0)

#define EXPECT_RAW(d, req, want)                                      \
	do {                                                           \
		char *got_ = run_raw(d, true, req);                    \
		if (strncmp(got_, want, strlen(want)))                 \
			fail_msg("'%s': got '%s', want '%s'", req, got_, want); \
		free(got_);                                            \
	} while (0)

static void test_read_commands(void **state)
{
	struct pmd d;
	char *r;

	(void)state;
	fake_setup(&d);
	r = run(&d, false, "status");
	assert_non_null(strstr(r, "ok 1\nmode=fake "));
	assert_non_null(strstr(r, " default=allow "));
	free(r);
	EXPECT(&d, false, "list", "ok 0\n");
	EXPECT(&d, false, "pending", "ok 0\n");
	EXPECT(&d, true, "rule-list", "ok 0\n");
	EXPECT(&d, false, "version", "ok 1\nversion=");
	EXPECT(&d, false, "status extra=1", "error usage too many arguments");
	fake_teardown(&d);
}

static void test_rules_commands(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	EXPECT(&d, true, "rule-add action=block port=22 dst=10.0.0.0/8 scope=until-restart",
	       "ok 1\nid=1 action=block scope=until-restart dst=10.0.0.0/8 port=22 hits=0\n");
	/* connections are decided again in both namespaces */
	assert_int_equal(fake_resets, 2);
	EXPECT(&d, true, "rule-add action=allow exe=/usr/bin/my%20app scope=for for=90s",
	       "ok 1\nid=2 action=allow scope=for expires_in=90 exe=/usr/bin/my%20app");
	EXPECT(&d, true, "rule-add action=allow scope=once proto=icmp dir=in",
	       "ok 1\nid=3 action=allow scope=once proto=icmp dir=in");
	EXPECT(&d, true, "rule-list", "ok 3\nid=1 ");
	EXPECT(&d, true, "rule-add action=maybe", "error usage rule-add needs action=");
	EXPECT(&d, true, "rule-add action=allow scope=for", "error usage scope=for needs for=DURATION");
	EXPECT(&d, true, "rule-add action=allow for=10", "error usage for= only goes with scope=for");
	EXPECT(&d, true, "rule-add action=allow port=0", "error usage bad port '0'");
	EXPECT(&d, true, "rule-add action=allow color=red", "error usage unknown match 'color'");
	EXPECT(&d, true, "rule-add action=allow scope=sometimes", "error usage scope must be");
	EXPECT(&d, true, "rule-add action=allow port=", "error usage empty value for 'port'");
	EXPECT(&d, true, "rule-del id=2", "ok 0\n");
	EXPECT(&d, true, "rule-del id=2", "error noent no rule 2");
	EXPECT(&d, true, "rule-del id=x", "error usage rule-del needs id=");
	EXPECT(&d, true, "default action=ask", "ok 0\n");
	assert_int_equal(d.def, ACT_ASK);
	EXPECT(&d, true, "default action=never", "error usage default needs action=");
	EXPECT(&d, true, "verdict id=5 action=accept", "error noent no pending flow 5");
	EXPECT(&d, true, "verdict id=5 action=ask", "error usage verdict needs action=");
	EXPECT(&d, true, "verdict id=5 action=accept permanent=maybe", "error usage permanent must be");
	EXPECT(&d, true, "verdict id=5 action=accept bogus=1", "error usage verdict: unknown argument");
	fake_teardown(&d);
}

static void test_permission(void **state)
{
	static const char *const changes[] = {
		"rule-add action=allow", "rule-del id=1", "default action=block",
		"rule-move id=1 first=yes", "rule-list", "reload",
	};
	struct pmd d;

	(void)state;
	fake_setup(&d);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		EXPECT(&d, false, changes[i], "error perm permission denied");
	assert_int_equal(d.rules.n, 0);
	assert_int_equal(d.def, ACT_ALLOW);
	fake_teardown(&d);
}

static void test_malformed(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	EXPECT_RAW(&d, "", "{\"error\":\"usage\",\"message\":\"empty request\"}\n");
	EXPECT(&d, true, "frobnicate", "error usage unknown command 'frobnicate'");
	EXPECT_RAW(&d, "{\"cmd\":\"status\x01\"}",
		   "{\"error\":\"usage\",\"message\":\"request contains a control byte");
	EXPECT_RAW(&d, "status", "{\"error\":\"usage\",\"message\":\"request is not a JSON object");
	EXPECT_RAW(&d, "{\"cmd\":\"rule-add\",\"args\":{\"action\":[\"allow\"]}}",
		   "{\"error\":\"usage\",\"message\":\"an argument's value is not a string");
	EXPECT_RAW(&d, "{\"cmd\":\"version\"}", "{\"ok\":1}\n{\"version\":\"");
	fake_teardown(&d);
}

static uint64_t pending_flow(struct pmd *d, uint16_t rport, const char *exe, uint32_t uid)
{
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = IPPROTO_TCP;
	f.has_ports = true;
	f.ct_state_known = f.ct_new = true;
	f.ct_id = rport;
	f.key.laddr[0] = 10, f.key.laddr[3] = 1;
	f.key.raddr[0] = 10, f.key.raddr[3] = 2;
	f.key.lport = 40000;
	f.key.rport = rport;
	f.owner.exe = exe ? strdup(exe) : NULL;
	f.owner.have_uid = true;
	f.owner.uid = uid;
	engine_packet(d, d->ns[0], &f, true, 17040, rport, NULL, 0);
	return d->ft.head->id;
}

/* Answers with a scope become rules made of the flow's fields; without
 * one they decide that connection only. */
static void test_verdict_scopes(void **state)
{
	struct pmd d;
	char req[128];
	uint64_t a, b, c, e;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	a = pending_flow(&d, 443, "/usr/bin/curl", 1000);
	b = pending_flow(&d, 444, "/usr/bin/curl", 1000);
	c = pending_flow(&d, 445, "/usr/bin/wget", 1000);
	e = pending_flow(&d, 446, NULL, 1000);
	snprintf(req, sizeof(req), "verdict id=%llu action=allow match=exe", (unsigned long long)a);
	EXPECT(&d, true, req, "error usage match= needs a scope");
	snprintf(req, sizeof(req), "verdict id=%llu action=allow scope=always match=color",
		 (unsigned long long)a);
	EXPECT(&d, true, req, "error usage unknown match field 'color'");
	snprintf(req, sizeof(req), "verdict id=%llu action=allow scope=always", (unsigned long long)e);
	EXPECT(&d, true, req, "error usage the flow has no exe to match");
	assert_int_equal(d.rules.n, 0);
	assert_int_equal(d.ft.npending, 4);
	/* the default fields */
	snprintf(req, sizeof(req), "verdict id=%llu action=accept scope=until-restart",
		 (unsigned long long)a);
	EXPECT(&d, true, req, "ok 1\nid=1 action=allow scope=until-restart exe=/usr/bin/curl "
	       "dst=10.0.0.2 port=443 proto=tcp dir=out hits=0\n");
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_v[0].mark, PM_MARK_ACCEPT_ALWAYS);
	assert_int_equal(d.ft.npending, 3);	/* 444 is another port */
	/* exe only: the other curl flow is decided by it at once, first */
	snprintf(req, sizeof(req), "verdict id=%llu action=block scope=for for=1h match=exe,proto",
		 (unsigned long long)b);
	EXPECT(&d, true, req, "ok 1\nid=2 action=block scope=for expires_in=3600 exe=/usr/bin/curl proto=tcp");
	assert_int_equal(d.rules.v[0]->id, 2);
	assert_int_equal(d.ft.npending, 2);
	/* no scope: this connection, nothing else */
	snprintf(req, sizeof(req), "verdict id=%llu action=drop permanent=yes", (unsigned long long)c);
	EXPECT(&d, true, req, "ok 0\n");
	assert_int_equal(d.rules.n, 2);
	assert_int_equal(fake_v[fake_n - 1].mark, PM_MARK_DROP_ALWAYS);
	fake_teardown(&d);
}

/* Outside group portmaster: one's own flows only, and one's rules name
 * one's uid. */
static void test_own_flows(void **state)
{
	struct pmd d;
	char req[128], *r;
	uint64_t mine, theirs;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	mine = pending_flow(&d, 443, "/usr/bin/curl", 1000);
	theirs = pending_flow(&d, 444, "/usr/bin/curl", 1001);
	r = run_as(&d, 1000, false, "pending");
	assert_non_null(strstr(r, "ok 1\n"));
	assert_non_null(strstr(r, "uid=1000"));
	free(r);
	snprintf(req, sizeof(req), "verdict id=%llu action=allow", (unsigned long long)theirs);
	r = run_as(&d, 1000, false, req);
	assert_non_null(strstr(r, "error noent"));
	free(r);
	snprintf(req, sizeof(req), "verdict id=%llu action=allow scope=always match=exe",
		 (unsigned long long)mine);
	r = run_as(&d, 1000, false, req);
	assert_non_null(strstr(r, "ok 1\nid=1 action=allow scope=always exe=/usr/bin/curl uid=1000 "));
	free(r);
	/* the other user's curl is not decided by it */
	assert_int_equal(d.ft.npending, 1);
	fake_teardown(&d);
}

/* A once rule added while a flow waits is used up by it at once: the
 * reply still shows the rule (it was made before), nothing freed is read
 * (fuzz_control found that; ASan runs it there). */
static void test_once_rule_used_at_once(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	d.def = ACT_ASK;
	pending_flow(&d, 443, "/usr/bin/curl", 1000);
	EXPECT(&d, true, "rule-add action=allow scope=once port=443",
	       "ok 1\nid=1 action=allow scope=once port=443 hits=0\n");
	assert_int_equal(d.rules.n, 0);
	assert_int_equal(d.ft.npending, 0);
	fake_teardown(&d);
}

static void test_rule_positions(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	EXPECT(&d, true, "rule-add action=allow port=1 scope=until-restart", "ok 1\nid=1 ");
	EXPECT(&d, true, "rule-add action=allow port=2 scope=until-restart", "ok 1\nid=2 ");
	EXPECT(&d, true, "rule-add action=allow port=3 scope=until-restart first=yes", "ok 1\nid=3 ");
	EXPECT(&d, true, "rule-add action=allow port=4 scope=until-restart before=2", "ok 1\nid=4 ");
	EXPECT(&d, true, "rule-add action=allow port=5 before=99", "error noent no rule 99");
	EXPECT(&d, true, "rule-add action=allow port=5 before=1 first=yes", "error usage give only one");
	assert_int_equal(d.rules.n, 4);
	assert_int_equal(d.rules.v[0]->id, 3);
	assert_int_equal(d.rules.v[2]->id, 4);
	EXPECT(&d, true, "rule-move id=3 last=yes", "ok 0\n");
	EXPECT(&d, true, "rule-move id=2 before=1", "ok 0\n");
	assert_int_equal(d.rules.v[0]->id, 2);
	assert_int_equal(d.rules.v[1]->id, 1);
	assert_int_equal(d.rules.v[2]->id, 4);
	assert_int_equal(d.rules.v[3]->id, 3);
	EXPECT(&d, true, "rule-move id=2 before=2", "error usage a rule cannot go before itself");
	EXPECT(&d, true, "rule-move id=9 first=yes", "error noent no rule 9");
	EXPECT(&d, true, "rule-move id=2 before=9", "error noent no rule 9");
	EXPECT(&d, true, "rule-move id=2", "error usage rule-move needs one of");
	assert_int_equal(d.rules.v[0]->id, 2);
	assert_int_equal(d.rules.n, 4);
	fake_teardown(&d);
}

/* A rule that cannot be deleted (its file cannot be written) stays where
 * it was. */
static void test_failed_delete_keeps_place(void **state)
{
	struct pmd d;

	(void)state;
	fake_setup(&d);
	EXPECT(&d, true, "rule-add action=allow port=1 scope=always", "ok 1\nid=1 ");
	EXPECT(&d, true, "rule-add action=allow port=2 scope=always", "ok 1\nid=2 ");
	EXPECT(&d, true, "rule-add action=allow port=3 scope=always", "ok 1\nid=3 ");
	d.no_persist = false;
	snprintf(d.rules_path, sizeof(d.rules_path), "/nonexistent-dir/rules.conf");
	EXPECT(&d, true, "rule-del id=2", "error internal rule kept");
	assert_int_equal(d.rules.n, 3);
	assert_int_equal(d.rules.v[1]->id, 2);
	EXPECT(&d, true, "rule-move id=3 first=yes", "error internal rule not moved");
	assert_int_equal(d.rules.v[0]->id, 1);
	assert_int_equal(d.rules.v[2]->id, 3);
	fake_teardown(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_commands),
		cmocka_unit_test(test_rules_commands),
		cmocka_unit_test(test_permission),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_verdict_scopes),
		cmocka_unit_test(test_own_flows),
		cmocka_unit_test(test_once_rule_used_at_once),
		cmocka_unit_test(test_rule_positions),
		cmocka_unit_test(test_failed_delete_keeps_place),
	};

	return RUN("ctlcmd", tests);
}
