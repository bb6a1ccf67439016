// SPDX-License-Identifier: GPL-2.0
/* The seed's rules as a restore script, and finding our rules (only ours)
 * in iptables-save output. */
#include "test_common.h"
#include <sys/socket.h>
#include "intercept/iptables.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(s, 1, 65535, f) > 0);
	fclose(f);
	return s;
}

static void test_install_v4(void **state)
{
	struct config c;
	struct buf b;

	(void)state;
	config_defaults(&c);
	buf_init(&b);
	ipt_install_script(&b, AF_INET, &c, false);
	assert_non_null(strstr(b.p, "*mangle\n:C170 - [0:0]\n:C171 - [0:0]\n"));
	assert_non_null(strstr(b.p, "-A C170 -j CONNMARK --restore-mark\n"
				    "-A C170 -m mark --mark 0 -j NFQUEUE --queue-num 17040 --queue-bypass\n"));
	assert_non_null(strstr(b.p, "--queue-num 17140 --queue-bypass\n"));
	assert_non_null(strstr(b.p, "-A C17 -m mark --mark 1701 -j REJECT --reject-with icmp-host-prohibited\n"));
	assert_non_null(strstr(b.p, "-A C17 -j CONNMARK --save-mark\n"));
	assert_non_null(strstr(b.p, "-I OUTPUT 1 -j C17\n-I INPUT 1 -j C17\n"));
	assert_non_null(strstr(b.p, "-p udp --dport 53 -m mark --mark 1799 -j DNAT --to-destination 127.0.0.1:53\n"));
	/* no tunnel configured: no 1717 DNAT rules */
	assert_null(strstr(b.p, "--mark 1717 -p"));
	/* unset fail policy: the seed's, closed */
	assert_non_null(strstr(b.p, "-A C17 -m mark --mark 0 -j DROP\n"));
	buf_free(&b);
}

/* fail_policy = open: with the daemon gone, unmarked packets go on to the
 * rest of the filter table instead of being dropped. */
static void test_fail_open(void **state)
{
	struct config c;
	struct buf b;
	char err[128];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "t", "fail_policy = open\n", err, sizeof(err)), 0);
	buf_init(&b);
	ipt_install_script(&b, AF_INET, &c, false);
	assert_non_null(strstr(b.p, "-A C17 -m mark --mark 0 -j RETURN\n"));
	assert_null(strstr(b.p, "--mark 0 -j DROP"));
	buf_free(&b);
}

/* Module mode with a module that cannot reroute: the DNAT rules only. */
static void test_nat_only(void **state)
{
	struct config c;
	struct buf b;
	char err[128];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "t", "tunnel = 10.0.0.9:717\n", err, sizeof(err)), 0);
	buf_init(&b);
	ipt_install_script(&b, AF_INET, &c, true);
	assert_string_equal(b.p, "*nat\n"
		"-I OUTPUT 1 -m mark --mark 1717 -p tcp -j DNAT --to-destination 10.0.0.9:717\n"
		"-I OUTPUT 2 -m mark --mark 1717 -p udp -j DNAT --to-destination 10.0.0.9:717\n"
		"-I OUTPUT 3 -m mark --mark 1717 -j DNAT --to-destination 10.0.0.9\n"
		"COMMIT\n");
	buf_free(&b);
	/* nothing to reroute to (DNS is not rerouted): nothing at all */
	buf_init(&b);
	ipt_install_script(&b, AF_INET6, &c, true);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_int_equal(config_load_mem(&c, "t", "reroute_dns = yes\n", err, sizeof(err)), 0);
	buf_init(&b);
	ipt_install_script(&b, AF_INET6, &c, true);
	assert_string_equal(b.p, "*nat\n"
		"-I OUTPUT 1 -p udp --dport 53 -m mark --mark 1799 -j DNAT --to-destination [::1]:53\n"
		"-I OUTPUT 2 -p tcp --dport 53 -m mark --mark 1799 -j DNAT --to-destination [::1]:53\n"
		"COMMIT\n");
	buf_free(&b);
}

static void test_install_v6_tunnel(void **state)
{
	struct config c;
	struct buf b;
	char err[128];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "t", "tunnel6 = [fd00::9]:717\n", err, sizeof(err)), 0);
	buf_init(&b);
	ipt_install_script(&b, AF_INET6, &c, false);
	assert_non_null(strstr(b.p, "--queue-num 17060 --queue-bypass"));
	assert_non_null(strstr(b.p, "--queue-num 17160 --queue-bypass"));
	assert_non_null(strstr(b.p, "--reject-with icmp6-adm-prohibited"));
	assert_non_null(strstr(b.p, "--to-destination [::1]:53\n"));
	assert_non_null(strstr(b.p, "-m mark --mark 1717 -p tcp -j DNAT --to-destination [fd00::9]:717\n"));
	assert_non_null(strstr(b.p, "-m mark --mark 1717 -p udp -j DNAT --to-destination [fd00::9]:717\n"));
	assert_non_null(strstr(b.p, "-m mark --mark 1717 -j DNAT --to-destination fd00::9\n"));
	buf_free(&b);
}

static void test_cleanup_ours(void **state)
{
	char *save = slurp(FIXTURES "/iptables-save-ours.txt");
	struct buf b;

	(void)state;
	buf_init(&b);
	ipt_cleanup_script(&b, save);
	assert_string_equal(b.p,
		"*mangle\n-D INPUT -j C171\n-D OUTPUT -j C170\n-F C170\n-X C170\n-F C171\n-X C171\nCOMMIT\n"
		"*filter\n-D INPUT -j C17\n-D OUTPUT -j C17\n-F C17\n-X C17\nCOMMIT\n"
		"*nat\n-D OUTPUT -p udp -m udp --dport 53 -m mark --mark 0x707 -j DNAT --to-destination 127.0.0.1:53\nCOMMIT\n");
	buf_free(&b);
	free(save);
}

static void test_cleanup_leaves_others(void **state)
{
	char *save = slurp(FIXTURES "/iptables-save-mixed.txt");
	struct buf b;

	(void)state;
	buf_init(&b);
	ipt_cleanup_script(&b, save);
	/* partial leftovers found; the user's chains and rules untouched */
	assert_string_equal(b.p,
		"*mangle\n-D INPUT -j C171\n-D OUTPUT -j C170\n-F C170\n-X C170\nCOMMIT\n"
		"*filter\n-D OUTPUT -j C17\nCOMMIT\n"
		"*nat\n-D OUTPUT -p udp -m udp --dport 53 -m mark --mark 0x707 -j DNAT --to-destination 127.0.0.1:53\n"
		"-D OUTPUT -p tcp -m mark --mark 0x6b5 -j DNAT --to-destination 10.0.0.9:717\nCOMMIT\n");
	buf_free(&b);
	/* nothing of ours: nothing to do */
	buf_init(&b);
	ipt_cleanup_script(&b, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n");
	assert_int_equal(b.len, 0);
	ipt_cleanup_script(&b, "");
	ipt_cleanup_script(&b, NULL);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(save);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_v4),
		cmocka_unit_test(test_install_v6_tunnel),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_nat_only),
		cmocka_unit_test(test_cleanup_ours),
		cmocka_unit_test(test_cleanup_leaves_others),
	};

	return RUN("iptables", tests);
}
