// SPDX-License-Identifier: GPL-2.0
/* Parsing queued packets (valid, truncated, odd) and building rejects. */
#include "test_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "intercept/packet.h"
#include "intercept/reject.h"

static size_t ipv4_tcp(uint8_t *p, uint8_t flags)
{
	memset(p, 0, 60);
	p[0] = 0x45;
	p[3] = 40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.0.0.1", p + 12);
	inet_pton(AF_INET, "10.0.0.2", p + 16);
	p[20] = 0x9c; p[21] = 0x40;	/* 40000 */
	p[22] = 0x00; p[23] = 0x50;	/* 80 */
	p[32] = 0x50;
	p[33] = flags;
	return 40;
}

static size_t ipv6_udp(uint8_t *p, uint8_t nh_first)
{
	memset(p, 0, 80);
	p[0] = 0x60;
	p[6] = nh_first;
	inet_pton(AF_INET6, "fd00::1", p + 8);
	inet_pton(AF_INET6, "fd00::2", p + 24);
	if (nh_first == IPPROTO_HOPOPTS) {
		p[40] = IPPROTO_UDP;
		p[41] = 0;	/* 8 bytes */
		p[48] = 0x13; p[49] = 0x88;	/* 5000 */
		p[50] = 0x00; p[51] = 0x35;	/* 53 */
		return 56;
	}
	p[40] = 0x13; p[41] = 0x88;
	p[42] = 0x00; p[43] = 0x35;
	return 48;
}

static void test_ipv4_tcp(void **state)
{
	uint8_t p[60];
	struct flow_info f;
	size_t n = ipv4_tcp(p, 0x02);

	(void)state;
	assert_int_equal(packet_parse(p, n, 0, &f), 0);
	assert_int_equal(f.key.family, AF_INET);
	assert_int_equal(f.key.proto, IPPROTO_TCP);
	assert_int_equal(f.key.lport, 40000);
	assert_int_equal(f.key.rport, 80);
	assert_int_equal(f.dir, 0);
	assert_memory_equal(f.key.laddr, p + 12, 4);
	/* the same packet seen inbound: local is the destination */
	assert_int_equal(packet_parse(p, n, 1, &f), 0);
	assert_int_equal(f.key.lport, 80);
	assert_int_equal(f.dir, 1);
	/* a SYN-ACK belongs to a flow of the other direction */
	n = ipv4_tcp(p, 0x12);
	assert_int_equal(packet_parse(p, n, 1, &f), 0);
	assert_int_equal(f.dir, 0);
}

static void test_ipv6_ext_headers(void **state)
{
	uint8_t p[80];
	struct flow_info f;
	size_t n = ipv6_udp(p, IPPROTO_HOPOPTS);

	(void)state;
	assert_int_equal(packet_parse(p, n, 0, &f), 0);
	assert_int_equal(f.key.family, AF_INET6);
	assert_int_equal(f.key.proto, IPPROTO_UDP);
	assert_int_equal(f.key.lport, 5000);
	assert_int_equal(f.key.rport, 53);
	n = ipv6_udp(p, IPPROTO_UDP);
	assert_int_equal(packet_parse(p, n, 0, &f), 0);
	assert_int_equal(f.key.rport, 53);
}

static void test_truncated(void **state)
{
	uint8_t p[80];
	struct flow_info f;
	size_t n = ipv4_tcp(p, 0x02);

	(void)state;
	for (size_t len = 0; len < n; len++)
		assert_int_equal(packet_parse(p, len, 0, &f), -1);
	p[0] = 0x4f;	/* IHL 60 bytes but only 40 copied */
	assert_int_equal(packet_parse(p, n, 0, &f), -1);
	p[0] = 0x44;	/* IHL below 20 */
	assert_int_equal(packet_parse(p, n, 0, &f), -1);
	p[0] = 0x55;	/* version 5 */
	assert_int_equal(packet_parse(p, n, 0, &f), -1);
	n = ipv6_udp(p, IPPROTO_HOPOPTS);
	for (size_t len = 0; len < n; len++)
		assert_int_equal(packet_parse(p, len, 0, &f), -1);
	p[41] = 200;	/* extension header longer than the packet */
	assert_int_equal(packet_parse(p, n, 0, &f), -1);
}

static void test_icmp(void **state)
{
	uint8_t p[60];
	struct flow_info f;

	(void)state;
	ipv4_tcp(p, 0);
	p[9] = IPPROTO_ICMP;
	p[20] = 8;	/* echo request */
	p[24] = 0x12; p[25] = 0x34;
	assert_int_equal(packet_parse(p, 28, 0, &f), 0);
	assert_false(f.icmp_error);
	assert_int_equal(f.key.lport, 0x1234);
	assert_int_equal(f.key.rport, 0x1234);
	p[20] = 3;	/* destination unreachable */
	assert_int_equal(packet_parse(p, 28, 0, &f), 0);
	assert_true(f.icmp_error);
	/* a non-first fragment has no ports, and still parses */
	ipv4_tcp(p, 0);
	p[6] = 0x00; p[7] = 0x10;
	assert_int_equal(packet_parse(p, 20, 0, &f), 0);
	assert_false(f.has_ports);
}

static void test_reject_build(void **state)
{
	uint8_t p[60], out[600], dst[16];
	int family, n;

	(void)state;
	ipv4_tcp(p, 0x02);
	n = reject_build(p, 40, out, sizeof(out), &family, dst);
	assert_int_equal(n, 48);
	assert_int_equal(family, AF_INET);
	assert_int_equal(out[0], 3);
	assert_int_equal(out[1], 10);
	assert_memory_equal(dst, p + 12, 4);
	assert_memory_equal(out + 8, p, 40);
	{
		/* the checksum makes the message sum to zero */
		uint32_t s = 0;

		for (int i = 0; i < n; i += 2)
			s += (uint32_t)(out[i] << 8 | out[i + 1]);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		assert_int_equal(s, 0xffff);
	}
	/* never an error about an error */
	p[9] = IPPROTO_ICMP;
	p[20] = 3;
	assert_int_equal(reject_build(p, 40, out, sizeof(out), &family, dst), -EINVAL);
	assert_int_equal(reject_build(p, 10, out, sizeof(out), &family, dst), -EINVAL);
	{
		uint8_t q[80];
		size_t len = ipv6_udp(q, IPPROTO_UDP);

		n = reject_build(q, len, out, sizeof(out), &family, dst);
		assert_int_equal(family, AF_INET6);
		assert_int_equal(out[0], 1);
		assert_int_equal(out[1], 1);
		assert_memory_equal(dst, q + 8, 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_reject_build),
	};

	return RUN("packet", tests);
}
