// SPDX-License-Identifier: GPL-2.0
/* Defensive parsing of queued packets: every length is checked against
 * what the kernel copied, which may be less than the packet. */
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include "intercept/packet.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool icmp4_is_error(uint8_t t)
{
	return t == ICMP_DEST_UNREACH || t == ICMP_TIME_EXCEEDED ||
	       t == ICMP_PARAMETERPROB || t == ICMP_SOURCE_QUENCH || t == ICMP_REDIRECT;
}

static int parse_l4(const uint8_t *l4, size_t len, uint8_t proto, bool first_frag,
		    uint16_t *sport, uint16_t *dport, struct flow_info *f, int *flip)
{
	*flip = 0;
	if (!first_frag)
		return 0;
	switch (proto) {
	case IPPROTO_TCP:
		if (len < 20 || (l4[12] >> 4) < 5)
			return -1;
		*sport = get16(l4);
		*dport = get16(l4 + 2);
		f->has_ports = true;
		/* SYN-ACK: a reply to a flow opened from the other side */
		if ((l4[13] & 0x12) == 0x12)
			*flip = 1;
		f->tcp_syn = (l4[13] & 0x12) == 0x02;
		return 0;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		if (len < 8)
			return -1;
		*sport = get16(l4);
		*dport = get16(l4 + 2);
		f->has_ports = true;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		uint8_t t;

		if (len < 8)
			return -1;
		t = l4[0];
		f->icmp_type = t;
		f->icmp_code = l4[1];
		if (proto == IPPROTO_ICMP) {
			f->icmp_error = icmp4_is_error(t);
			if (t == ICMP_ECHO || t == ICMP_ECHOREPLY || t == ICMP_TIMESTAMP ||
			    t == ICMP_TIMESTAMPREPLY) {
				*sport = *dport = get16(l4 + 4);
				*flip = (t == ICMP_ECHOREPLY || t == ICMP_TIMESTAMPREPLY);
			}
		} else {
			f->icmp_error = t < 128;
			if (t == ICMP6_ECHO_REQUEST || t == ICMP6_ECHO_REPLY) {
				*sport = *dport = get16(l4 + 4);
				*flip = (t == ICMP6_ECHO_REPLY);
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

int packet_parse(const uint8_t *p, size_t len, uint8_t pkt_dir, struct flow_info *f)
{
	const uint8_t *src, *dst, *l4;
	uint16_t sport = 0, dport = 0;
	uint8_t proto, alen;
	bool first_frag = true;
	size_t off;
	int flip;

	memset(f, 0, sizeof(*f));
	if (len < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		size_t ihl, tot;

		if (len < 20)
			return -1;
		ihl = (size_t)(p[0] & 15) * 4;
		tot = get16(p + 2);
		if (ihl < 20 || len < ihl || tot < ihl)
			return -1;
		f->key.family = AF_INET;
		proto = p[9];
		if (get16(p + 6) & 0x1fff)
			first_frag = false;
		src = p + 12;
		dst = p + 16;
		alen = 4;
		off = ihl;
	} else if ((p[0] >> 4) == 6) {
		uint8_t nh;

		if (len < 40)
			return -1;
		f->key.family = AF_INET6;
		src = p + 8;
		dst = p + 24;
		alen = 16;
		nh = p[6];
		off = 40;
		/* Walk the extension headers; give up on anything truncated. */
		for (int i = 0; i < 8; i++) {
			if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
			    nh == IPPROTO_DSTOPTS) {
				if (len < off + 8)
					return -1;
				nh = p[off];
				off += ((size_t)p[off + 1] + 1) * 8;
			} else if (nh == IPPROTO_FRAGMENT) {
				if (len < off + 8)
					return -1;
				if (get16(p + off + 2) & 0xfff8)
					first_frag = false;
				nh = p[off];
				off += 8;
			} else if (nh == IPPROTO_AH) {
				if (len < off + 8)
					return -1;
				nh = p[off];
				off += ((size_t)p[off + 1] + 2) * 4;
			} else {
				break;
			}
		}
		if (off > len)
			return -1;
		proto = nh;
	} else {
		return -1;
	}
	f->key.proto = proto;
	l4 = p + off;
	if (parse_l4(l4, len - off, proto, first_frag, &sport, &dport, f, &flip) < 0)
		return -1;
	if (pkt_dir == 0) {
		memcpy(f->key.laddr, src, alen);
		memcpy(f->key.raddr, dst, alen);
		f->key.lport = sport;
		f->key.rport = dport;
	} else {
		memcpy(f->key.laddr, dst, alen);
		memcpy(f->key.raddr, src, alen);
		f->key.lport = dport;
		f->key.rport = sport;
	}
	f->dir = flip ? (uint8_t)!pkt_dir : pkt_dir;
	return 0;
}
