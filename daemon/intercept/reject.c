// SPDX-License-Identifier: GPL-2.0
/* ICMP "administratively prohibited" errors for blocked flows (fallback). */
#include <errno.h>
#include <linux/portmaster.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "intercept/reject.h"

/* What a router quotes at most (RFC 1812 4.3.2.3: 576 bytes in all). */
#define QUOTE_MAX 512

struct rejecter {
	int fd4, fd6;
};

static int raw_socket(int family, int proto)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	unsigned int mark = PM_MARK_ACCEPT;

	if (fd < 0)
		return -1;
	/* C170/C171 restore no mark for it (no conntrack entry), so 1700
	 * stays and C17 accepts it. */
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		close(fd);
		return -1;
	}
	if (family == AF_INET6) {
		/* A raw ICMPv6 socket only sends; never let it queue input. */
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	shutdown(fd, SHUT_RD);
	return fd;
}

struct rejecter *reject_open(void)
{
	struct rejecter *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd4 = raw_socket(AF_INET, IPPROTO_ICMP);
	r->fd6 = raw_socket(AF_INET6, IPPROTO_ICMPV6);
	return r;
}

void reject_close(struct rejecter *r)
{
	if (!r)
		return;
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	free(r);
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int reject_build(const uint8_t *pkt, size_t len, uint8_t *out, size_t outlen,
		 int *family, uint8_t dst[16])
{
	size_t quote;

	if (len < 20 || outlen < 8 + QUOTE_MAX)
		return -EINVAL;
	quote = len < QUOTE_MAX ? len : QUOTE_MAX;
	memset(out, 0, 8);
	memcpy(out + 8, pkt, quote);
	if ((pkt[0] >> 4) == 4) {
		uint16_t c;

		/* Never answer an ICMP error with another (RFC 1122 3.2.2). */
		if (pkt[9] == IPPROTO_ICMP && len >= (size_t)(pkt[0] & 15) * 4 + 1) {
			uint8_t t = pkt[(pkt[0] & 15) * 4];

			if (t != ICMP_ECHO && t != ICMP_TIMESTAMP)
				return -EINVAL;
		}
		*family = AF_INET;
		memset(dst, 0, 16);
		memcpy(dst, pkt + 12, 4);
		out[0] = ICMP_DEST_UNREACH;
		out[1] = ICMP_HOST_ANO;	/* iptables' icmp-host-prohibited */
		c = csum(out, 8 + quote);
		out[2] = (uint8_t)(c >> 8);
		out[3] = (uint8_t)c;
	} else if ((pkt[0] >> 4) == 6) {
		if (len < 40)
			return -EINVAL;
		if (pkt[6] == IPPROTO_ICMPV6 && len > 40 && pkt[40] < 128)
			return -EINVAL;
		*family = AF_INET6;
		memcpy(dst, pkt + 8, 16);
		out[0] = ICMP6_DST_UNREACH;
		out[1] = ICMP6_DST_UNREACH_ADMIN;	/* icmp6-adm-prohibited */
		/* the kernel computes the ICMPv6 checksum */
	} else {
		return -EINVAL;
	}
	return (int)(8 + quote);
}

int reject_send(struct rejecter *r, const uint8_t *pkt, size_t len, uint32_t ifindex)
{
	uint8_t msg[8 + QUOTE_MAX], dst[16];
	int family, n = reject_build(pkt, len, msg, sizeof(msg), &family, dst);
	ssize_t s;

	if (n < 0)
		return n;
	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		if (r->fd4 < 0)
			return -EBADF;
		memcpy(&sin.sin_addr, dst, 4);
		s = sendto(r->fd4, msg, (size_t)n, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		if (r->fd6 < 0)
			return -EBADF;
		memcpy(&sin6.sin6_addr, dst, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&sin6.sin6_addr))
			sin6.sin6_scope_id = ifindex;
		s = sendto(r->fd6, msg, (size_t)n, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	return s < 0 ? -errno : 0;
}
