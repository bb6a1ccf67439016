// SPDX-License-Identifier: GPL-2.0
/* portmasterd.conf parsing. */
#include "test_common.h"
#include <sys/socket.h>
#include "config.h"

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.def, ACT_ALLOW);
	assert_int_equal(c.mode, MODE_AUTO);
	assert_string_equal(c.socket_path, "/run/portmaster/control.sock");
	assert_true(c.nameserver.set);
	assert_int_equal(c.nameserver.port, 53);
	assert_false(c.tunnel.set);
	assert_int_equal(c.fail_policy, FAIL_UNSET);
	assert_int_equal(c.nnetns, 0);
}

static void test_valid(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "f",
		"# comment\n mode = nfqueue \niptables=legacy\ndefault = ask\n"
		"prompt_timeout = 2m\nprompt_fallback = drop\nmax_pending = 10\n"
		"tunnel = 10.0.0.9:717\ntunnel6 = [fd00::9]:717\nnameserver = none\n"
		"socket = /tmp/x.sock\nreroute_dns = yes\n", err, sizeof(err)), 0);
	assert_int_equal(c.mode, MODE_NFQUEUE);
	assert_int_equal(c.iptables, IPT_LEGACY);
	assert_int_equal(c.def, ACT_ASK);
	assert_int_equal(c.prompt_timeout_s, 120);
	assert_int_equal(c.prompt_fallback, ACT_DROP);
	assert_int_equal(c.max_pending, 10);
	assert_true(c.tunnel.set);
	assert_int_equal(c.tunnel.port, 717);
	assert_int_equal(c.tunnel6.family, AF_INET6);
	assert_false(c.nameserver.set);
	assert_string_equal(c.socket_path, "/tmp/x.sock");
	assert_true(c.reroute_dns);
}

/* A comment may follow a value; a '#' inside a value stays. */
static void test_trailing_comments(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "f",
		"prompt_timeout = 45s   # long enough to read a prompt\n"
		"default = block\t# the careful choice\n"
		"socket = /run/a#b.sock # a hash in the path\n"
		"fail_policy = closed#no space: part of the value\n", err, sizeof(err)), -1);
	assert_string_equal(err, "f:4: bad value 'closed#no space: part of the value' for 'fail_policy'");
	config_defaults(&c);
	assert_int_equal(config_load_mem(&c, "f",
		"prompt_timeout = 45s   # long enough to read a prompt\n"
		"default = block\t# the careful choice\n"
		"socket = /run/a#b.sock # a hash in the path\n"
		"fail_policy = open # with no daemon, let traffic pass\n"
		"netns = blue /run/netns/green   # two more\n"
		"client_timeout = 5s\nevent_buffer = 65536\nremember = 0\n", err, sizeof(err)), 0);
	assert_int_equal(c.remember_s, 0);
	assert_int_equal(c.prompt_timeout_s, 45);
	assert_int_equal(c.def, ACT_BLOCK);
	assert_string_equal(c.socket_path, "/run/a#b.sock");
	assert_int_equal(c.fail_policy, FAIL_OPEN);
	assert_int_equal(c.nnetns, 2);
	assert_string_equal(c.netns[0], "blue");
	assert_string_equal(c.netns[1], "/run/netns/green");
	assert_int_equal(c.client_timeout_s, 5);
	assert_int_equal(c.event_buffer, 65536);
}

static void test_invalid(void **state)
{
	static const char *const bad[][2] = {
		{ "mode = fast\n", "f:1: bad value 'fast' for 'mode'" },
		{ "\nfoo = 1\n", "f:2: unknown key 'foo'" },
		{ "default\n", "f:1: expected KEY = VALUE" },
		{ "prompt_fallback = ask\n", "f:1: bad value 'ask' for 'prompt_fallback'" },
		{ "tunnel = [fd00::1]:5\n", "f:1: bad value '[fd00::1]:5' for 'tunnel'" },
		{ "tunnel6 = 1.2.3.4\n", "f:1: bad value '1.2.3.4' for 'tunnel6'" },
		{ "socket = relative\n", "f:1: bad value 'relative' for 'socket'" },
		{ "prompt_timeout = 0\n", "f:1: bad value '0' for 'prompt_timeout'" },
		{ "max_pending = 0\n", "f:1: bad value '0' for 'max_pending'" },
		{ "fail_policy = maybe\n", "f:1: bad value 'maybe' for 'fail_policy'" },
		{ "netns = ../x\n", "f:1: bad value '../x' for 'netns'" },
		{ "netns = a/b\n", "f:1: bad value 'a/b' for 'netns'" },
		{ "event_buffer = 100\n", "f:1: bad value '100' for 'event_buffer'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		char err[256] = "";

		config_defaults(&c);
		assert_int_equal(config_load_mem(&c, "f", bad[i][0], err, sizeof(err)), -1);
		assert_string_equal(err, bad[i][1]);
	}
}

static void test_history_and_ui(void **state)
{
	static const char *const bad[][2] = {
		{ "ui = 10.0.0.1:817\n", "f:1: bad value '10.0.0.1:817' for 'ui': a loopback ADDR:PORT (127.0.0.1:817, [::1]:817) or off" },
		{ "ui = 0.0.0.0:817\n", "f:1: bad value '0.0.0.0:817' for 'ui': a loopback ADDR:PORT (127.0.0.1:817, [::1]:817) or off" },
		{ "ui = [::]:817\n", "f:1: bad value '[::]:817' for 'ui': a loopback ADDR:PORT (127.0.0.1:817, [::1]:817) or off" },
		{ "ui = 127.0.0.1\n", "f:1: bad value '127.0.0.1' for 'ui': a loopback ADDR:PORT (127.0.0.1:817, [::1]:817) or off" },
		{ "history = relative.db\n", "f:1: bad value 'relative.db' for 'history'" },
		{ "history_days = 0\n", "f:1: bad value '0' for 'history_days'" },
		{ "history_max_size = 5T\n", "f:1: bad value '5T' for 'history_max_size'" },
	};
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.history_path, "/var/lib/portmaster/history.db");
	assert_int_equal(c.history_days, 30);
	assert_true(c.ui.set);
	assert_int_equal(c.ui.port, 817);
	assert_int_equal(config_load_mem(&c, "f", "history = off\nui = off\nhistory_max_size = 512M\n"
					 "history_days = 7\n", err, sizeof(err)), 0);
	assert_string_equal(c.history_path, "");
	assert_false(c.ui.set);
	assert_int_equal(c.history_max_bytes, 512ull << 20);
	assert_int_equal(c.history_days, 7);
	assert_int_equal(config_load_mem(&c, "f", "ui = [::1]:8817\n", err, sizeof(err)), 0);
	assert_true(c.ui.set);
	assert_int_equal(c.ui.family, AF_INET6);
	assert_int_equal(c.ui.port, 8817);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		assert_int_equal(config_load_mem(&c, "f", bad[i][0], err, sizeof(err)), -1);
		assert_string_equal(err, bad[i][1]);
	}
}

static void test_missing_file(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/portmasterd.conf", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_trailing_comments),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_history_and_ui),
	};

	return RUN("config", tests);
}
