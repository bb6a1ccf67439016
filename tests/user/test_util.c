// SPDX-License-Identifier: GPL-2.0
/* The small helpers every part uses: addresses formatted and parsed. */
#include "test_common.h"
#include <arpa/inet.h>
#include "common/util.h"

/* The hand-made v4 formatter agrees with inet_ntop on every octet value
 * in every position, and on a spread of whole addresses. */
static void test_addr_str_v4_is_inet_ntop(void **state)
{
	uint8_t a[16] = { 0 };
	char got[64], want[INET_ADDRSTRLEN];

	(void)state;
	for (int pos = 0; pos < 4; pos++) {
		for (int v = 0; v < 256; v++) {
			memset(a, 0, sizeof(a));
			a[pos] = (uint8_t)v;
			a[(pos + 1) % 4] = (uint8_t)(255 - v);
			assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
			assert_string_equal(addr_str(AF_INET, a, got, sizeof(got)), want);
		}
	}
	srandom(7);
	for (int i = 0; i < 10000; i++) {
		uint32_t r = (uint32_t)random();

		memcpy(a, &r, 4);
		inet_ntop(AF_INET, a, want, sizeof(want));
		assert_string_equal(addr_str(AF_INET, a, got, sizeof(got)), want);
	}
	memset(a, 255, 4);
	assert_string_equal(addr_str(AF_INET, a, got, sizeof(got)), "255.255.255.255");
}

static void test_addr_str_v6_and_short_buffers(void **state)
{
	uint8_t a[16];
	char got[64], tiny[8];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "fd00::9", a), 1);
	assert_string_equal(addr_str(AF_INET6, a, got, sizeof(got)), "fd00::9");
	/* A buffer too small for the address never overflows: "?" instead. */
	assert_int_equal(inet_pton(AF_INET, "192.168.100.200", a), 1);
	assert_string_equal(addr_str(AF_INET, a, tiny, sizeof(tiny)), "?");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1234:5678", a), 1);
	assert_string_equal(addr_str(AF_INET6, a, tiny, sizeof(tiny)), "?");
}

static void test_addr_str_parses_back(void **state)
{
	uint8_t a[16] = { 10, 9, 0, 2 }, back[16] = { 0 }, fam, plen;
	char s[64];

	(void)state;
	assert_int_equal(parse_prefix(addr_str(AF_INET, a, s, sizeof(s)), &fam, back, &plen), 0);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(plen, 32);
	assert_memory_equal(a, back, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_str_v4_is_inet_ntop),
		cmocka_unit_test(test_addr_str_v6_and_short_buffers),
		cmocka_unit_test(test_addr_str_parses_back),
	};

	return RUN("util", tests);
}
