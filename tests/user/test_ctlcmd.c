// SPDX-License-Identifier: GPL-2.0
/* The control commands end to end, as the daemon runs them: replies,
 * errors, and the permission check for state changes. */
#include "test_common.h"
#include <unistd.h>
#include "control/ctlcmd.h"
#include "decide/engine.h"
#include "fake_backend.h"

/* One request line as the daemon gets it; the reply as it sends it. */
static char *run_raw(struct pmd *d, bool admin, const char *req)
{
	struct peer p = { .pid = 1, .uid = admin ? 0 : 1000, .admin = admin };
	struct buf out;
	char *line = strdup(req);

	buf_init(&out);
	ctl_handle(d, &p, line, &out);
	free(line);
	return out.p;
}

/*
 * The tests below say requests and replies in a short form, "cmd k=v ..."
 * and "ok N\nk=v ...\n" or "error CODE MESSAGE" (values percent-encoded),
 * so that they read as what the commands do; this turns them into the
 * JSON of the protocol and back.
 */
static char *run(struct pmd *d, bool admin, const char *req)
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
	reply = run_raw(d, admin, line.p);
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
	EXPECT(&d, false, "rule-list", "ok 0\n");
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
	assert_int_equal(fake_resets, 1);
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
		"verdict id=1 action=accept", "reload",
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

static void test_peer_admin(void **state)
{
	struct peer p = { .pid = getpid(), .uid = 0 };

	(void)state;
	peer_check_admin(&p, "/proc");
	assert_true(p.admin);
	p.uid = 12345;	/* not the uid that /proc shows for us */
	peer_check_admin(&p, "/proc");
	assert_false(p.admin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_commands),
		cmocka_unit_test(test_rules_commands),
		cmocka_unit_test(test_permission),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_peer_admin),
	};

	return RUN("ctlcmd", tests);
}
