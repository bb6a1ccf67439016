// SPDX-License-Identifier: GPL-2.0
/* Rules: the parser (valid and invalid input, with line numbers), matching,
 * formatting, and the atomically written file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "decide/rules.h"

static int load(struct ruleset *rs, const char *text, char *err)
{
	uint32_t id = 1;

	return ruleset_load_mem(rs, "rules.conf", text, strlen(text), &id, err, 512);
}

static void test_valid_file(void **state)
{
	struct ruleset rs;
	char err[512] = "";
	const char *text =
		"# comment\n"
		"\n"
		"default block\n"
		"allow exe=/usr/bin/curl port=443 proto=tcp dir=out\n"
		"  block\tdst=10.0.0.0/8   # trailing comment\n"
		"drop uid=1000 dst=fd00::/8 proto=udp\n"
		"ask exe=/opt/my%20app/bin\n"
		"allow proto=icmp dir=in";

	(void)state;
	assert_int_equal(load(&rs, text, err), 0);
	assert_true(rs.have_default);
	assert_int_equal(rs.def, ACT_BLOCK);
	assert_int_equal(rs.n, 5);
	assert_int_equal(rs.v[0]->action, ACT_ALLOW);
	assert_string_equal(rule_crit(rs.v[0], CRIT_EXE)->v.path, "/usr/bin/curl");
	assert_int_equal(rule_crit(rs.v[0], CRIT_PORT)->v.ports.r[0].lo, 443);
	assert_int_equal(rule_crit(rs.v[0], CRIT_PROTO)->v.proto, IPPROTO_TCP);
	assert_int_equal(rule_crit(rs.v[1], CRIT_DST)->v.net.plen, 8);
	assert_int_equal(rule_crit(rs.v[2], CRIT_UID)->v.id, 1000);
	assert_int_equal(rule_crit(rs.v[2], CRIT_DST)->v.net.family, AF_INET6);
	assert_string_equal(rule_crit(rs.v[3], CRIT_EXE)->v.path, "/opt/my app/bin");
	assert_int_equal(rule_crit(rs.v[4], CRIT_DIR)->v.dir, 1);
	/* a rule is its criteria: four here, none of the others */
	assert_int_equal(rs.v[0]->ncrit, 4);
	assert_null(rule_crit(rs.v[0], CRIT_UID));
	assert_int_equal(rs.v[0]->id, 1);
	assert_int_equal(rs.v[4]->id, 5);
	assert_int_equal(rs.v[0]->scope, SCOPE_ALWAYS);
	ruleset_clear(&rs);
}

struct bad {
	const char *text;
	const char *err;
};

static void test_invalid_lines(void **state)
{
	static const struct bad bad[] = {
		{ "allow\nfrobnicate port=1\n", "rules.conf:2: unknown action 'frobnicate'" },
		{ "allow port=0\n", "rules.conf:1: bad port '0'" },
		{ "allow port=65536\n", "rules.conf:1: bad port '65536'" },
		{ "allow port=no-such-service\n", "rules.conf:1: bad port 'no-such-service'" },
		{ "allow port=80,,443\n", "rules.conf:1: bad port" },
		{ "allow port=90-80\n", "rules.conf:1: bad port" },
		{ "allow port=1-65536\n", "rules.conf:1: bad port" },
		{ "allow port=80,\n", "rules.conf:1: bad port" },
		{ "allow remote=everywhere\n", "rules.conf:1: bad address or prefix 'everywhere'" },
		{ "allow dst=lan\n", "rules.conf:1: bad address or prefix 'lan'" },
		{ "allow proto=256\n", "rules.conf:1: bad protocol" },
		{ "allow icmp-type=pong\n", "rules.conf:1: bad icmp-type 'pong'" },
		{ "allow proto=tcp icmp-type=echo-request\n", "rules.conf:1: icmp-type needs proto icmp" },
		{ "allow proto=icmpv6 port=5\n", "rules.conf:1: port cannot be combined with proto icmp" },
		{ "allow exe=/opt/[abc\n", "rules.conf:1: exe '/opt/[abc' has an unclosed '['" },
		{ "allow parent=bash\n", "rules.conf:1: parent must be an absolute path" },
		{ "allow unit=system.slice/x.service\n", "rules.conf:1: unit 'system.slice/x.service' is a unit name" },
		{ "allow user=no-such-user-here\n", "rules.conf:1: bad user 'no-such-user-here'" },
		{ "allow group=no-such-group-here\n", "rules.conf:1: bad group 'no-such-group-here'" },
		{ "allow uid=0 user=root\n", "rules.conf:1: 'uid' given twice" },
		{ "allow note=a note=b\n", "rules.conf:1: 'note' given twice" },
		{ "allow cmdline=x\\\n", "rules.conf:1: cmdline 'x\\' ends in a backslash" },
		{ "\n\nallow dst=10.0.0.1/8\n", "rules.conf:3: bad address or prefix" },
		{ "allow dst=10.0.0.0/33\n", "rules.conf:1: bad address or prefix" },
		{ "allow dst=300.1.1.1\n", "rules.conf:1: bad address or prefix" },
		{ "allow exe=relative/path\n", "rules.conf:1: exe must be an absolute path" },
		{ "allow proto=sctp\n", "rules.conf:1: bad protocol 'sctp'" },
		{ "allow dir=sideways\n", "rules.conf:1: bad direction" },
		{ "allow uid=-1\n", "rules.conf:1: bad user" },
		{ "allow uid=99999999999\n", "rules.conf:1: bad user" },
		{ "allow port=1 port=2\n", "rules.conf:1: 'port' given twice" },
		{ "allow color=red\n", "rules.conf:1: unknown match 'color'" },
		{ "allow port\n", "rules.conf:1: expected KEY=VALUE" },
		{ "allow port=\n", "rules.conf:1: bad or empty value for 'port'" },
		{ "allow exe=/a%zz\n", "rules.conf:1: bad or empty value for 'exe'" },
		{ "allow exe=/a%00b\n", "rules.conf:1: bad or empty value for 'exe'" },
		{ "default\n", "rules.conf:1: 'default' needs an action" },
		{ "default allow\ndefault block\n", "rules.conf:2: a second 'default' line" },
		{ "default allow port=1\n", "rules.conf:1: 'default' takes only an action" },
		{ "allow proto=icmp port=1\n", "rules.conf:1: port cannot be combined with proto icmp" },
		{ "allow exe=/bin/\xc3\xa9\n", "rules.conf:1: control or non-ASCII byte" },
		{ "allow domain=*0..\n", "rules.conf:1: domain pattern '*0..' is not a name" },
		{ "allow domain=a domain=b\n", "rules.conf:1: 'domain' given twice" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ruleset rs;
		char err[512] = "";

		assert_int_equal(load(&rs, bad[i].text, err), -1);
		if (strncmp(err, bad[i].err, strlen(bad[i].err)))
			fail_msg("input %zu: got '%s', want prefix '%s'", i, err, bad[i].err);
		assert_int_equal(rs.n, 0);
	}
}

/* "sshd" is read as "sshd.service": a name that fits only without the
 * suffix is refused, not accepted and then written back as a rule that
 * no longer reads (found by fuzz_rules). */
static void test_unit_suffix_fits(void **state)
{
	char line[512], err[512];
	struct ruleset rs;

	(void)state;
	snprintf(line, sizeof(line), "allow unit=%.195s\n",
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu");
	assert_int_equal(load(&rs, line, err), -1);
	assert_non_null(strstr(err, "unit must be 1 to 199 bytes"));
	/* with its suffix written out, the same length is a name that fits */
	snprintf(line, sizeof(line), "allow unit=%.187s.service\n",
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
		 "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu");
	assert_int_equal(load(&rs, line, err), 0);
	assert_int_equal(rs.n, 1);
	ruleset_clear(&rs);
}

static void test_long_line_and_nul(void **state)
{
	struct ruleset rs;
	char err[512];
	char *big = malloc(10000);

	(void)state;
	memset(big, 'a', 9999);
	memcpy(big, "allow exe=/", 11);
	big[9999] = 0;
	assert_int_equal(load(&rs, big, err), -1);
	assert_non_null(strstr(err, "rules.conf:1: line too long"));
	free(big);
	{
		uint32_t id = 1;
		static const char nul[] = "allow\nallow port=1\0\n";

		assert_int_equal(ruleset_load_mem(&rs, "f", nul, sizeof(nul) - 1, &id, err, sizeof(err)), -1);
		assert_string_equal(err, "f:2: NUL byte");
	}
}

static struct flow_info flow4(const char *dst, uint16_t dport, uint8_t proto, uint8_t dir)
{
	struct flow_info f;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.proto = proto;
	f.dir = dir;
	f.has_ports = proto != IPPROTO_ICMP;
	inet_pton(AF_INET, "192.168.1.5", dir ? f.key.raddr : f.key.laddr);
	inet_pton(AF_INET, dst, dir ? f.key.laddr : f.key.raddr);
	if (dir) {
		f.key.lport = dport;
		f.key.rport = 40000;
	} else {
		f.key.rport = dport;
		f.key.lport = 40000;
	}
	return f;
}

static void test_matching(void **state)
{
	struct ruleset rs;
	char err[512];
	struct flow_info f;
	struct rule *r;
	const char *text =
		"block dst=10.0.0.0/8 port=22\n"
		"drop exe=/usr/bin/nc\n"
		"allow uid=1000 proto=udp\n"
		"ask dir=in port=8080\n"
		"allow dst=2001:db8::/32\n"
		"block proto=icmp\n";

	(void)state;
	assert_int_equal(load(&rs, text, err), 0);

	f = flow4("10.1.2.3", 22, IPPROTO_TCP, 0);
	r = ruleset_match(&rs, &f, 0);
	assert_non_null(r);
	assert_int_equal(r->id, 1);

	f = flow4("11.1.2.3", 22, IPPROTO_TCP, 0);
	assert_null(ruleset_match(&rs, &f, 0));

	/* exe needs the owner's executable; unknown never matches */
	f.owner.exe = strdup("/usr/bin/nc");
	assert_int_equal(ruleset_match(&rs, &f, 0)->id, 2);
	free(f.owner.exe);

	f = flow4("8.8.8.8", 53, IPPROTO_UDP, 0);
	assert_null(ruleset_match(&rs, &f, 0));
	f.owner.have_uid = true;
	f.owner.uid = 1000;
	assert_int_equal(ruleset_match(&rs, &f, 0)->id, 3);
	f.key.proto = IPPROTO_TCP;
	assert_null(ruleset_match(&rs, &f, 0));

	/* inbound: the destination port is the local one */
	f = flow4("192.168.1.9", 8080, IPPROTO_TCP, 1);
	assert_int_equal(ruleset_match(&rs, &f, 0)->id, 4);
	f = flow4("192.168.1.9", 8080, IPPROTO_TCP, 0);
	assert_null(ruleset_match(&rs, &f, 0));

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET6;
	f.key.proto = IPPROTO_TCP;
	inet_pton(AF_INET6, "2001:db8::1", f.key.raddr);
	assert_int_equal(ruleset_match(&rs, &f, 0)->id, 5);
	inet_pton(AF_INET6, "2001:db9::1", f.key.raddr);
	assert_null(ruleset_match(&rs, &f, 0));
	/* an IPv4 prefix never matches IPv6 */
	memcpy(f.key.raddr, "\x0a\x00\x00\x01", 4);
	assert_null(ruleset_match(&rs, &f, 0));

	f.key.proto = IPPROTO_ICMPV6;
	assert_int_equal(ruleset_match(&rs, &f, 0)->id, 6);
	/* an ICMP echo carries its identifier as "ports": no port rule
	 * matches it */
	{
		struct ruleset p;
		struct flow_info echo = flow4("10.1.2.3", 22, IPPROTO_ICMP, 0);

		assert_int_equal(load(&p, "block port=22\n", err), 0);
		echo.has_ports = true;
		assert_null(ruleset_match(&p, &echo, 0));
		ruleset_clear(&p);
	}
	assert_true(ruleset_needs_owner(&rs));
	ruleset_clear(&rs);
}

static void test_expiry(void **state)
{
	struct ruleset rs;
	struct rule *r = calloc(1, sizeof(*r));
	struct flow_info f = flow4("1.2.3.4", 80, IPPROTO_TCP, 0);

	(void)state;
	ruleset_init(&rs);
	r->id = 7;
	r->action = ACT_ALLOW;
	r->scope = SCOPE_FOR;
	r->expires_ms = 1000;
	assert_int_equal(ruleset_add(&rs, r), 0);
	assert_non_null(ruleset_match(&rs, &f, 999));
	assert_null(ruleset_match(&rs, &f, 1000));
	assert_int_equal(ruleset_expire(&rs, 999), 0);
	assert_int_equal(ruleset_expire(&rs, 1000), 1);
	assert_int_equal(rs.n, 0);
	assert_int_equal(ruleset_del(&rs, 7), -ENOENT);
	ruleset_clear(&rs);
}

static void test_format_roundtrip(void **state)
{
	struct rule r;
	enum action def;
	char err[256], *s;

	(void)state;
	assert_int_equal(rule_parse_line("drop exe=/a%20b uid=5 dst=fd00::/8 port=9 proto=udp dir=in",
					 &r, &def, err, sizeof(err)), 0);
	s = rule_format(&r);
	assert_string_equal(s, "drop exe=/a%20b uid=5 dst=fd00::/8 port=9 proto=udp dir=in");
	free(s);
	rule_release(&r);
	/* criteria in any order: one canonical form */
	assert_int_equal(rule_parse_line("block dir=out port=22 exe=/x", &r, &def, err, sizeof(err)), 0);
	s = rule_format(&r);
	assert_string_equal(s, "block exe=/x port=22 dir=out");
	free(s);
	rule_release(&r);
	/* a domain is a criterion like the others, in its canonical form */
	assert_int_equal(rule_parse_line("allow domain=.Example.COM. exe=/x", &r, &def, err,
					 sizeof(err)), 0);
	s = rule_format(&r);
	assert_string_equal(s, "allow exe=/x domain=.example.com");
	free(s);
	rule_release(&r);
	assert_int_equal(rule_parse_line("allow dst=1.2.3.4", &r, &def, err, sizeof(err)), 0);
	s = rule_format(&r);
	assert_string_equal(s, "allow dst=1.2.3.4");
	free(s);
	assert_int_equal(rule_parse_line("   # just a comment", &r, &def, err, sizeof(err)), 2);
	assert_int_equal(rule_parse_line("default ask", &r, &def, err, sizeof(err)), 1);
	assert_int_equal(def, ACT_ASK);
}

static void test_save_atomic(void **state)
{
	char dir[] = "/tmp/pmrules.XXXXXX", path[64], err[256];
	struct ruleset rs, back;
	uint32_t id = 1;
	struct stat st;
	struct rule *tmp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rules.conf", dir);
	assert_int_equal(load(&rs, "default drop\nallow port=1\nblock exe=/x%20y\n", err), 0);
	tmp = calloc(1, sizeof(*tmp));
	tmp->scope = SCOPE_RESTART;
	tmp->action = ACT_ALLOW;
	ruleset_add(&rs, tmp);
	assert_int_equal(ruleset_save(&rs, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(ruleset_load(&back, path, &id, err, sizeof(err)), 0);
	/* only the always rules are written */
	assert_int_equal(back.n, 2);
	assert_int_equal(back.def, ACT_DROP);
	assert_string_equal(rule_crit(back.v[1], CRIT_EXE)->v.path, "/x y");
	ruleset_clear(&back);
	/* a missing file is an empty ruleset; an unwritable dir an error */
	unlink(path);
	assert_int_equal(ruleset_load(&back, path, &id, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(ruleset_save(&rs, "/nonexistent-dir/rules.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	ruleset_clear(&rs);
	rmdir(dir);
}

static struct rule *mkrule(uint32_t id, const char *line, enum scope s)
{
	struct rule r, *p;
	enum action def;
	char err[256];

	assert_int_equal(rule_parse_line(line, &r, &def, err, sizeof(err)), 0);
	p = rule_dup(&r);
	rule_release(&r);
	p->id = id;
	p->scope = s;
	return p;
}

static void ids_are(const struct ruleset *rs, const char *want)
{
	char got[256] = "";

	for (size_t i = 0; i < rs->n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", i ? " " : "",
			 rs->v[i]->id);
	assert_string_equal(got, want);
}

/* Rules go where they are put: first, before another, back where they
 * were after a failed delete. */
static void test_positions(void **state)
{
	struct ruleset rs;
	struct rule *r;
	size_t pos;

	(void)state;
	ruleset_init(&rs);
	ruleset_add(&rs, mkrule(1, "allow port=1", SCOPE_ALWAYS));
	ruleset_add(&rs, mkrule(2, "allow port=2", SCOPE_ALWAYS));
	ruleset_insert(&rs, mkrule(3, "allow port=3", SCOPE_ALWAYS), 0);
	ids_are(&rs, "3 1 2");
	ruleset_insert(&rs, mkrule(4, "allow port=4", SCOPE_ALWAYS), (size_t)ruleset_index(&rs, 2));
	ids_are(&rs, "3 1 4 2");
	r = ruleset_take(&rs, 1, &pos);
	assert_int_equal(pos, 1);
	ids_are(&rs, "3 4 2");
	ruleset_insert(&rs, r, pos);
	ids_are(&rs, "3 1 4 2");
	assert_int_equal(ruleset_index(&rs, 99), -1);
	assert_null(ruleset_take(&rs, 99, &pos));
	ruleset_clear(&rs);
}

/* SIGHUP: lines the file still has keep their ids, hits and places;
 * rules that live in memory keep theirs; the file orders its own. */
static void test_merge_reload(void **state)
{
	struct ruleset cur, fresh;
	char err[512];
	uint32_t next = 100, scratch = 1;

	(void)state;
	ruleset_init(&cur);
	ruleset_add(&cur, mkrule(1, "allow port=1", SCOPE_ALWAYS));
	ruleset_add(&cur, mkrule(2, "block port=2", SCOPE_RESTART));
	ruleset_add(&cur, mkrule(3, "allow port=3", SCOPE_ALWAYS));
	ruleset_add(&cur, mkrule(4, "drop port=4", SCOPE_FOR));
	ruleset_add(&cur, mkrule(5, "allow port=5", SCOPE_ALWAYS));
	cur.v[2]->hits = 7;
	/* the same file again: nothing moves */
	assert_int_equal(ruleset_load_mem(&fresh, "f", "allow port=1\nallow port=3\nallow port=5\n",
					  39, &scratch, err, sizeof(err)), 0);
	assert_int_equal(ruleset_merge_reload(&cur, &fresh, &next), 0);
	ids_are(&cur, "1 2 3 4 5");
	assert_int_equal(cur.v[2]->hits, 7);
	assert_int_equal(next, 100);
	/* a line removed, one added, two swapped */
	assert_int_equal(ruleset_load_mem(&fresh, "f", "allow port=5\nallow port=9\nallow port=1\n",
					  39, &scratch, err, sizeof(err)), 0);
	assert_int_equal(ruleset_merge_reload(&cur, &fresh, &next), 0);
	ids_are(&cur, "5 100 1 2 4");
	assert_int_equal(next, 101);
	ruleset_clear(&cur);
}

/* A prompt's answer as a rule: the flow's own fields, exactly. */
static void test_from_flow(void **state)
{
	struct flow_info f = flow4("10.1.2.3", 443, IPPROTO_TCP, 0);
	struct rule r = { .action = ACT_BLOCK };
	char *s;

	(void)state;
	assert_int_equal(rule_add_from_flow(&r, CRIT_EXE, &f), -1);	/* no exe known */
	f.owner.exe = strdup("/usr/bin/curl");
	f.owner.have_uid = true;
	f.owner.uid = 1000;
	assert_int_equal(rule_add_from_flow(&r, CRIT_DIR, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_EXE, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_PORT, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_DST, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_PROTO, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_UID, &f), 0);
	assert_int_equal(rule_add_from_flow(&r, CRIT_UID, &f), -1);	/* once each */
	s = rule_format(&r);
	assert_string_equal(s, "block exe=/usr/bin/curl uid=1000 dst=10.1.2.3 port=443 proto=tcp dir=out");
	free(s);
	assert_true(rule_match(&r, &f));
	f.owner.uid = 1001;
	assert_false(rule_match(&r, &f));
	free(f.owner.exe);
	rule_release(&r);
}


/* A flow from 192.168.1.5 (ours) to dst, with an owner. */
static struct flow_info owned_flow(const char *dst, uint16_t dport, uint8_t proto, uint8_t dir,
				   const char *exe, const char *cmdline, const char *cgroup,
				   const char *ancestors, size_t alen)
{
	struct flow_info f = flow4(dst, dport, proto, dir);

	f.owner.exe = exe ? strdup(exe) : NULL;
	f.owner.cmdline = cmdline ? strdup(cmdline) : NULL;
	f.owner.cgroup = cgroup ? strdup(cgroup) : NULL;
	if (ancestors) {
		f.owner.ancestors = malloc(alen);
		memcpy(f.owner.ancestors, ancestors, alen);
	}
	f.owner.have_uid = f.owner.have_gid = true;
	f.owner.uid = 1000;
	f.owner.gid = 100;
	return f;
}

/* Which rule (by id) decides, or 0. */
static uint32_t decides(const char *text, const struct flow_info *f)
{
	struct ruleset rs;
	char err[512] = "";
	struct rule *r;
	uint32_t id;

	if (load(&rs, text, err) < 0)
		fail_msg("%s", err);
	r = ruleset_match(&rs, f, 0);
	id = r ? r->id : 0;
	ruleset_clear(&rs);
	return id;
}

static void test_programs(void **state)
{
	static const char anc[] = "/usr/bin/bash\0/usr/sbin/sshd\0/sbin/init\0";
	struct flow_info f = owned_flow("1.1.1.1", 443, IPPROTO_TCP, 0,
					"/nix/store/abc123-firefox-120.0/bin/firefox",
					"python3 /srv/app.py --port 8080",
					"/system.slice/demo.service", anc, sizeof(anc));
	struct flow_info g = owned_flow("1.1.1.1", 443, IPPROTO_TCP, 0, "/usr/bin/python3",
					"python3 /home/u/other.py",
					"/user.slice/user-1000.slice/user@1000.service/app.slice/sync.service",
					NULL, 0);

	(void)state;
	/* globs: a star stays inside one path component */
	assert_int_equal(decides("block exe=/nix/store/*-firefox-*/bin/firefox\n", &f), 1);
	assert_int_equal(decides("block exe=/nix/*/bin/firefox\n", &f), 0);
	assert_int_equal(decides("block exe=/nix/store/*/bin/firefox\n", &f), 1);
	assert_int_equal(decides("block exe=/usr/bin/python[23]\n", &g), 1);
	/* cmdline: the whole command line, a star crossing anything */
	assert_int_equal(decides("allow cmdline=python3*/srv/app.py*\n", &f), 1);
	assert_int_equal(decides("allow cmdline=python3*/srv/app.py*\n", &g), 0);
	assert_int_equal(decides("allow cmdline=python3\n", &f), 0);
	/* parent: any ancestor */
	assert_int_equal(decides("allow parent=/usr/sbin/sshd\n", &f), 1);
	assert_int_equal(decides("allow parent=/sbin/init\n", &f), 1);
	assert_int_equal(decides("allow parent=/usr/sbin/cron\n", &f), 0);
	assert_int_equal(decides("allow parent=/sbin/init\n", &g), 0);
	/* unit: from the cgroup; the deepest unit; "demo" means demo.service */
	assert_int_equal(decides("allow unit=demo\n", &f), 1);
	assert_int_equal(decides("allow unit=demo.service\n", &f), 1);
	assert_int_equal(decides("allow unit=demo.service\n", &g), 0);
	assert_int_equal(decides("allow unit=sync.service\n", &g), 1);
	assert_int_equal(decides("allow unit=user@1000.service\n", &g), 0);
	/* cgroup: a glob on the path; the leading slash may be left out */
	assert_int_equal(decides("allow cgroup=system.slice/demo.service\n", &f), 1);
	assert_int_equal(decides("allow cgroup=/system.slice/*\n", &f), 1);
	assert_int_equal(decides("allow cgroup=/user.slice/*\n", &f), 0);
	assert_int_equal(decides("allow cgroup=*/app.slice/*\n", &g), 1);
	/* user and group, by number or name */
	assert_int_equal(decides("allow user=1000\n", &f), 1);
	assert_int_equal(decides("allow user=root\n", &f), 0);
	assert_int_equal(decides("allow group=100\n", &f), 1);
	assert_int_equal(decides("allow group=root\n", &f), 0);
	f.owner.uid = 0;
	assert_int_equal(decides("allow user=root\n", &f), 1);
	/* a command line or parent chain cut off at its bound: a block rule
	 * that asks about it holds, an allow rule does not */
	f.owner.cmdline_cut = f.owner.ancestors_cut = true;
	assert_int_equal(decides("block cmdline=*evil*\n", &f), 1);
	assert_int_equal(decides("drop parent=/usr/bin/evil\n", &f), 1);
	assert_int_equal(decides("allow cmdline=*evil*\nallow parent=/usr/bin/evil\n", &f), 0);
	assert_int_equal(decides("block cmdline=*evil* port=1\n", &f), 0);	/* the rest must hold */
	f.owner.cmdline_cut = f.owner.ancestors_cut = false;
	assert_int_equal(decides("block cmdline=*evil*\n", &f), 0);
	/* an answer naming the script, the parent, the unit or the cgroup
	 * matches exactly that, even where it looks like a glob */
	{
		static const char a2[] = "/opt/[x]/launch*\0";
		struct flow_info h = owned_flow("1.1.1.1", 443, IPPROTO_TCP, 0, "/usr/bin/python3",
						"python3 /srv/a*b.py", "/system.slice/x?.service",
						a2, sizeof(a2));
		struct flow_info o2 = owned_flow("1.1.1.1", 443, IPPROTO_TCP, 0, "/usr/bin/python3",
						 "python3 /srv/aXb.py", "/system.slice/xy.service",
						 "/opt/x/launch\0", sizeof("/opt/x/launch\0"));
		struct rule r;

		for (enum crit_kind k = CRIT_CMDLINE; k <= CRIT_CGROUP; k++) {
			memset(&r, 0, sizeof(r));
			r.action = ACT_ALLOW;
			assert_int_equal(rule_add_from_flow(&r, k, &h), 0);
			assert_true(rule_match(&r, &h));
			if (rule_match(&r, &o2))
				fail_msg("%s from a flow matches another flow", crit_name(k));
			rule_release(&r);
		}
		h.owner.cmdline_cut = true;
		assert_int_equal(rule_add_from_flow(&r, CRIT_CMDLINE, &h), -1);
		/* nor one that, escaped and encoded, is longer than a line */
		h.owner.cmdline_cut = false;
		free(h.owner.cmdline);
		h.owner.cmdline = malloc(3000);
		memset(h.owner.cmdline, '*', 2999);
		h.owner.cmdline[2999] = 0;
		memset(&r, 0, sizeof(r));
		assert_int_equal(rule_add_from_flow(&r, CRIT_EXE, &h), 0);
		assert_int_equal(rule_add_from_flow(&r, CRIT_CMDLINE, &h), -1);
		assert_int_equal(r.ncrit, 1);
		rule_release(&r);
		owner_release(&h.owner);
		owner_release(&o2.owner);
	}
	/* a flow without an owner matches no owner criterion */
	owner_release(&f.owner);
	memset(&f.owner, 0, sizeof(f.owner));
	assert_int_equal(decides("allow cmdline=*\nallow parent=/*\nallow unit=*\nallow cgroup=*\n"
				 "allow exe=/*\nallow user=0\nallow group=0\n", &f), 0);
	owner_release(&g.owner);
}

static void test_scopes_and_ports(void **state)
{
	static const struct {
		const char *addr;
		const char *scope;	/* which of localhost, lan, internet, multicast */
	} cases[] = {
		{ "127.0.0.1", "localhost" }, { "10.1.2.3", "lan" }, { "172.16.0.1", "lan" },
		{ "172.32.0.1", "internet" }, { "192.168.1.1", "lan" }, { "169.254.1.1", "lan" },
		{ "100.64.0.1", "lan" }, { "224.0.0.251", "lan multicast" },
		{ "239.255.255.250", "lan multicast" }, { "255.255.255.255", "lan multicast" },
		{ "230.1.1.1", "internet multicast" }, { "8.8.8.8", "internet" },
		{ "192.0.2.1", "" }, { "240.0.0.1", "" },
		{ "::1", "localhost" }, { "fe80::1", "lan" }, { "fd00::1", "lan" },
		{ "ff02::fb", "lan multicast" }, { "ff05::2", "lan multicast" },
		{ "ff0e::1", "internet multicast" }, { "2001:4860:4860::8888", "internet" },
		{ "::ffff:10.0.0.1", "lan" },
	};
	static const char *const scopes[] = { "localhost", "lan", "internet", "multicast" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16] = { 0 };
		uint8_t fam = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;

		assert_int_equal(inet_pton(fam, cases[i].addr, a), 1);
		for (int s = 0; s < 4; s++) {
			bool want = strstr(cases[i].scope, scopes[s]) != NULL;

			if (net_scope_match((enum net_scope)(NET_LOCALHOST + s), fam, a) != want)
				fail_msg("%s: %s should be %s", cases[i].addr, scopes[s],
					 want ? "true" : "false");
		}
	}
	{
		/* remote is the other side in either direction; dst keeps
		 * its meaning (the local side of an inbound flow) */
		struct flow_info in = flow4("192.168.1.5", 22, IPPROTO_TCP, 1);
		struct flow_info out = flow4("8.8.8.8", 22, IPPROTO_TCP, 0);

		inet_pton(AF_INET, "10.9.9.9", in.key.raddr);
		assert_int_equal(decides("allow dir=in port=ssh remote=lan\n", &in), 1);
		assert_int_equal(decides("allow dir=in port=ssh remote=internet\n", &in), 0);
		assert_int_equal(decides("allow remote=10.0.0.0/8\n", &in), 1);
		assert_int_equal(decides("allow dst=10.0.0.0/8\n", &in), 0);
		assert_int_equal(decides("allow local=192.168.1.5\n", &in), 1);
		assert_int_equal(decides("allow local=lan\n", &out), 1);
		assert_int_equal(decides("allow remote=internet\n", &out), 1);
		assert_int_equal(decides("allow remote=lan\n", &out), 0);
	}
	{
		struct flow_info f = flow4("8.8.8.8", 8050, IPPROTO_TCP, 0);
		struct flow_info h = flow4("8.8.8.8", 443, IPPROTO_UDP, 0);
		struct flow_info e = flow4("8.8.8.8", 0, IPPROTO_ICMP, 0);

		assert_int_equal(decides("allow port=80,443,8000-8100\n", &f), 1);
		assert_int_equal(decides("allow port=80,443,8000-8049\n", &f), 0);
		assert_int_equal(decides("allow port=https\n", &h), 1);
		assert_int_equal(decides("allow port=https proto=tcp\n", &h), 0);
		assert_int_equal(decides("allow proto=17\n", &h), 1);
		e.icmp_type = 8;
		assert_int_equal(decides("allow icmp-type=echo-request\n", &e), 1);
		assert_int_equal(decides("allow proto=icmpv6 icmp-type=echo-request\n", &e), 0);
		assert_int_equal(decides("allow proto=icmp icmp-type=echo-reply\n", &e), 0);
		assert_int_equal(decides("allow proto=icmp icmp-type=8\n", &e), 1);
		e.key.proto = IPPROTO_ICMPV6;
		e.key.family = AF_INET6;
		e.icmp_type = 128;
		assert_int_equal(decides("allow icmp-type=echo-request\n", &e), 1);
		assert_int_equal(decides("allow proto=icmpv6 icmp-type=echo-request\n", &e), 1);
	}
	{
		/* the resolver: the nameservers of a resolv.conf */
		char path[] = "/tmp/pm-resolv-XXXXXX";
		int fd = mkstemp(path);
		struct flow_info f = flow4("192.0.2.53", 53, IPPROTO_UDP, 0);
		static const char text[] = "search example\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n";

		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
		close(fd);
		assert_int_equal(crit_load_resolv_conf(path), 2);
		assert_int_equal(decides("allow port=53 remote=resolver\n", &f), 1);
		inet_pton(AF_INET, "192.0.2.54", f.key.raddr);
		assert_int_equal(decides("allow port=53 remote=resolver\n", &f), 0);
		unlink(path);
		crit_set_resolvers(NULL, NULL, 0);
	}
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* rules.conf, then rules.d in lexical order; presets off until enabled;
 * file:line errors; pmctl's file keeps its comments; rules.d untouched. */
static void test_rules_d(void **state)
{
	char dir[] = "/tmp/pm-rulesd-XXXXXX", conf[256], rd[256], p[300], err[512] = "", src[400];
	struct ruleset rs;
	uint32_t id = 1;
	const char *conf_text = "# mine: keep this\nallow port=1\n\n# and this, about port 2\n"
				"block port=2 note=two%20words\n# the end\n";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/rules.conf", dir);
	snprintf(rd, sizeof(rd), "%s/rules.d", dir);
	assert_int_equal(mkdir(rd, 0755), 0);
	write_text(conf, conf_text);
	snprintf(p, sizeof(p), "%s/20-b.conf", rd);
	write_text(p, "allow port=20\n");
	snprintf(p, sizeof(p), "%s/10-a.conf", rd);
	write_text(p, "# admin's\nallow port=10\n");
	snprintf(p, sizeof(p), "%s/05-sys.conf", rd);
	write_text(p, "# a preset\npreset sys\nallow port=5\n");
	snprintf(p, sizeof(p), "%s/README", rd);
	write_text(p, "not rules at all\n");
	assert_int_equal(ruleset_load_all(&rs, conf, rd, &id, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 4);	/* the preset is off */
	assert_int_equal(rule_crit(rs.v[2], CRIT_PORT)->v.ports.r[0].lo, 10);
	assert_int_equal(rule_crit(rs.v[3], CRIT_PORT)->v.ports.r[0].lo, 20);
	assert_string_equal(rs.v[1]->note, "two words");
	rule_source(&rs, rs.v[2], src, sizeof(src));
	snprintf(p, sizeof(p), "%s/10-a.conf:2", rd);
	assert_string_equal(src, p);
	assert_int_equal(rs.npresets, 1);
	assert_int_equal(ruleset_owned_end(&rs), 2);
	/* enabling it: rules.conf gets the line, the preset applies */
	assert_int_equal(ruleset_preset_set(&rs, "sys", true), 0);
	assert_int_equal(ruleset_save(&rs, conf, err, sizeof(err)), 0);
	ruleset_clear(&rs);
	id = 1;
	assert_int_equal(ruleset_load_all(&rs, conf, rd, &id, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 5);
	assert_int_equal(rule_crit(rs.v[2], CRIT_PORT)->v.ports.r[0].lo, 5);
	/* pmctl's changes keep the comments; rules.d is never written */
	{
		struct rule *r = ruleset_take(&rs, rs.v[0]->id, NULL);

		ruleset_keep_comments(&rs, r, 0);
		rule_free(r);
	}
	assert_int_equal(ruleset_save(&rs, conf, err, sizeof(err)), 0);
	assert_string_equal(slurp(conf), "enable sys\n# mine: keep this\n\n# and this, about port 2\n"
			    "block port=2 note=two%20words\n# the end\n");
	snprintf(p, sizeof(p), "%s/10-a.conf", rd);
	assert_string_equal(slurp(p), "# admin's\nallow port=10\n");
	ruleset_clear(&rs);
	/* errors name the file and line; nothing is loaded */
	snprintf(p, sizeof(p), "%s/30-bad.conf", rd);
	write_text(p, "allow port=1\n\nallow port=nope\n");
	id = 1;
	assert_int_equal(ruleset_load_all(&rs, conf, rd, &id, err, sizeof(err)), -1);
	snprintf(src, sizeof(src), "%s:3: bad port 'nope'", p);
	assert_memory_equal(err, src, strlen(src));
	assert_int_equal(rs.n, 0);
	write_text(p, "default allow\n");
	assert_int_equal(ruleset_load_all(&rs, conf, rd, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "30-bad.conf:1: 'default' belongs in rules.conf"));
	write_text(p, "allow port=3\npreset late\n");
	assert_int_equal(ruleset_load_all(&rs, conf, rd, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "30-bad.conf:2: 'preset' must be the first line"));
	unlink(p);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

/* The shipped files parse; the preset is off until enabled, and then
 * lets a DHCP request, the time daemon's NTP and loopback through. */
static void test_shipped_files(void **state)
{
	char conf[512], dir[512], err[512] = "";
	struct ruleset rs;
	uint32_t id = 1;
	struct flow_info dhcp = flow4("255.255.255.255", 67, IPPROTO_UDP, 0);
	struct flow_info ntp = flow4("192.0.2.1", 123, IPPROTO_UDP, 0);
	struct flow_info lo = flow4("127.0.0.1", 8080, IPPROTO_TCP, 0);
	struct flow_info web = flow4("192.0.2.1", 443, IPPROTO_TCP, 0);

	(void)state;
	snprintf(conf, sizeof(conf), "%s/../../../config/rules.conf", FIXTURES);
	snprintf(dir, sizeof(dir), "%s/../../../config/rules.d", FIXTURES);
	assert_int_equal(ruleset_load_all(&rs, conf, dir, &id, err, sizeof(err)), 0);
	assert_int_equal(rs.n, 0);
	assert_int_equal(rs.npresets, 1);
	assert_string_equal(rs.presets[0], "system");
	ruleset_clear(&rs);
	{
		/* portmasterd.conf's "presets = system" turns it on as well */
		const char *const on[] = { "system", NULL };

		id = 1;
		assert_int_equal(ruleset_load_dirs(&rs, conf, dir, on, &id, err, sizeof(err)), 0);
		assert_true(rs.n > 10);
		assert_true(ruleset_preset_by_config(&rs, "system"));
		/* and rules.conf is not told */
		{
			char *text = ruleset_text(&rs, true);

			assert_non_null(text);
			assert_null(strstr(text, "enable system"));
			free(text);
		}
		ruleset_clear(&rs);
		id = 1;
		assert_int_equal(ruleset_load_all(&rs, conf, dir, &id, err, sizeof(err)), 0);
	}
	assert_int_equal(ruleset_preset_set(&rs, "system", true), 0);
	{
		/* as after "pmctl preset enable system": rules.conf says so */
		char tmp[] = "/tmp/pm-conf-XXXXXX", path[64];
		struct ruleset back;

		assert_non_null(mkdtemp(tmp));
		snprintf(path, sizeof(path), "%s/rules.conf", tmp);
		assert_int_equal(ruleset_save(&rs, path, err, sizeof(err)), 0);
		id = 1;
		assert_int_equal(ruleset_load_all(&back, path, dir, &id, err, sizeof(err)), 0);
		assert_true(back.n > 10);
		ntp.owner.exe = (char *)"/usr/sbin/chronyd";
		assert_non_null(ruleset_match(&back, &dhcp, 0));
		assert_non_null(ruleset_match(&back, &ntp, 0));
		assert_non_null(ruleset_match(&back, &lo, 0));
		assert_null(ruleset_match(&back, &web, 0));
		ntp.owner.exe = (char *)"/usr/bin/python3";
		assert_null(ruleset_match(&back, &ntp, 0));
		ntp.owner.exe = (char *)"/usr/bin/busybox";
		ntp.owner.cmdline = (char *)"busybox ntpd -n -q -p 192.0.2.1";
		assert_non_null(ruleset_match(&back, &ntp, 0));
		ntp.owner.cmdline = (char *)"busybox sh -c ntpd";
		assert_null(ruleset_match(&back, &ntp, 0));
		ruleset_clear(&back);
		unlink(path);
		rmdir(tmp);
	}
	ruleset_clear(&rs);
}

/* The index finds what a scan in order finds, whatever the mix. */
static void test_index_is_a_scan(void **state)
{
	static const char *const crit[] = {
		"exe=/usr/bin/a", "exe=/usr/bin/b", "exe=/usr/bin/*", "port=80", "port=443",
		"port=80,443", "port=1-1000", "proto=udp", "dir=in", "remote=lan", "",
	};
	struct ruleset rs;
	unsigned int seed = 7;

	(void)state;
	for (int round = 0; round < 50; round++) {
		char text[8192] = "";
		char err[512];

		for (int i = 0; i < 40; i++) {
			const char *a = crit[rand_r(&seed) % 11], *b = crit[rand_r(&seed) % 11];

			if (!strncmp(a, b, 3))
				b = "";
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s %s %s\n",
				 rand_r(&seed) % 2 ? "allow" : "block", a, b);
		}
		if (load(&rs, text, err) < 0)
			fail_msg("%s", err);
		for (int k = 0; k < 200; k++) {
			static const char *const exes[] = { "/usr/bin/a", "/usr/bin/b", "/usr/bin/c", NULL };
			static const uint16_t ports[] = { 80, 443, 22, 5000 };
			struct flow_info f = flow4(rand_r(&seed) % 2 ? "10.0.0.1" : "8.8.8.8",
						   ports[rand_r(&seed) % 4],
						   rand_r(&seed) % 2 ? IPPROTO_TCP : IPPROTO_UDP,
						   (uint8_t)(rand_r(&seed) % 2));
			struct rule *want = NULL, *got;

			f.owner.exe = (char *)exes[rand_r(&seed) % 4];
			for (size_t i = 0; i < rs.n && !want; i++)
				if (rule_match(rs.v[i], &f))
					want = rs.v[i];
			got = ruleset_match(&rs, &f, 0);
			if (got != want)
				fail_msg("round %d: index found %u, scan %u", round, got ? got->id : 0,
					 want ? want->id : 0);
		}
		/* and again after a change in the middle */
		ruleset_del(&rs, rs.v[rs.n / 2]->id);
		{
			struct flow_info f = flow4("10.0.0.1", 80, IPPROTO_TCP, 0);
			struct rule *want = NULL;

			f.owner.exe = (char *)"/usr/bin/a";
			for (size_t i = 0; i < rs.n && !want; i++)
				if (rule_match(rs.v[i], &f))
					want = rs.v[i];
			assert_ptr_equal(ruleset_match(&rs, &f, 0), want);
		}
		ruleset_clear(&rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_invalid_lines),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_save_atomic),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_merge_reload),
		cmocka_unit_test(test_from_flow),
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_scopes_and_ports),
		cmocka_unit_test(test_unit_suffix_fits),
		cmocka_unit_test(test_rules_d),
		cmocka_unit_test(test_index_is_a_scan),
		cmocka_unit_test(test_shipped_files),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
