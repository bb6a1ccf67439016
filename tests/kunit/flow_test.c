// SPDX-License-Identifier: GPL-2.0
/* KUnit: a flow's identity from its packet, including bad packets. */
#include <kunit/test.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "../../kmod/flow.c"

#define V4(a, b, c, d) htonl(((a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* An skb with the given bytes as its network header onwards. */
static struct sk_buff *pkt(struct kunit *test, const void *data, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len + 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 32);
	skb_reset_network_header(skb);
	skb_put_data(skb, data, len);
	return skb;
}

struct v4pkt {
	struct iphdr ip;
	u8 l4[20];
} __packed;

static void v4_fill(struct v4pkt *p, u8 proto, unsigned int l4len)
{
	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = proto;
	p->ip.saddr = V4(10, 0, 0, 1);
	p->ip.daddr = V4(10, 0, 0, 2);
	p->ip.tot_len = htons(sizeof(p->ip) + l4len);
}

static void flow_v4_tcp(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v4pkt p;
	struct tcphdr *th = (struct tcphdr *)p.l4;

	v4_fill(&p, IPPROTO_TCP, sizeof(*th));
	th->source = htons(40000);
	th->dest = htons(443);
	th->doff = 5;
	skb = pkt(test, &p, sizeof(p));
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), 0);
	KUNIT_EXPECT_EQ(test, info.family, (u8)AF_INET);
	KUNIT_EXPECT_EQ(test, info.protocol, (u8)IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, info.saddr.ip, V4(10, 0, 0, 1));
	KUNIT_EXPECT_EQ(test, info.daddr.ip, V4(10, 0, 0, 2));
	KUNIT_EXPECT_EQ(test, info.sport, 40000);
	KUNIT_EXPECT_EQ(test, info.dport, 443);
	KUNIT_EXPECT_TRUE(test, info.flags & PM_FLOW_PORTS);
	KUNIT_EXPECT_FALSE(test, info.flags & (PM_FLOW_ICMP | PM_FLOW_FRAGMENT));

	pm_flow_reverse(&info);
	KUNIT_EXPECT_EQ(test, info.saddr.ip, V4(10, 0, 0, 2));
	KUNIT_EXPECT_EQ(test, info.sport, 443);
	KUNIT_EXPECT_EQ(test, info.dport, 40000);
	kfree_skb(skb);
}

static void flow_v4_udp_and_icmp(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v4pkt p;
	struct udphdr *uh = (struct udphdr *)p.l4;

	v4_fill(&p, IPPROTO_UDP, sizeof(*uh));
	uh->source = htons(5353);
	uh->dest = htons(53);
	skb = pkt(test, &p, sizeof(p.ip) + sizeof(*uh));
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), 0);
	KUNIT_EXPECT_EQ(test, info.protocol, (u8)IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, info.dport, 53);
	kfree_skb(skb);

	v4_fill(&p, IPPROTO_ICMP, 8);
	p.l4[0] = ICMP_ECHO;
	p.l4[1] = 0;
	skb = pkt(test, &p, sizeof(p.ip) + 8);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.flags & PM_FLOW_ICMP);
	KUNIT_EXPECT_FALSE(test, info.flags & PM_FLOW_PORTS);
	KUNIT_EXPECT_EQ(test, info.icmp_type, (u8)ICMP_ECHO);
	KUNIT_EXPECT_FALSE(test, pm_is_icmp_error(AF_INET, IPPROTO_ICMP, info.icmp_type));
	KUNIT_EXPECT_TRUE(test, pm_is_icmp_error(AF_INET, IPPROTO_ICMP, ICMP_DEST_UNREACH));
	kfree_skb(skb);
}

static void flow_v4_fragment(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v4pkt p;

	/* A later fragment: its first bytes are payload, not ports. */
	v4_fill(&p, IPPROTO_UDP, 8);
	p.ip.frag_off = htons(185);	/* offset 1480 */
	memset(p.l4, 0xab, 8);
	skb = pkt(test, &p, sizeof(p.ip) + 8);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.flags & PM_FLOW_FRAGMENT);
	KUNIT_EXPECT_FALSE(test, info.flags & PM_FLOW_PORTS);
	KUNIT_EXPECT_EQ(test, info.sport, 0);
	kfree_skb(skb);

	/* The first fragment (MF set, offset 0) has its ports. */
	v4_fill(&p, IPPROTO_UDP, 8);
	p.ip.frag_off = htons(IP_MF);
	((struct udphdr *)p.l4)->dest = htons(9999);
	skb = pkt(test, &p, sizeof(p.ip) + 8);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), 0);
	KUNIT_EXPECT_FALSE(test, info.flags & PM_FLOW_FRAGMENT);
	KUNIT_EXPECT_EQ(test, info.dport, 9999);
	kfree_skb(skb);
}

static void flow_v4_truncated(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v4pkt p;

	v4_fill(&p, IPPROTO_TCP, 20);
	skb = pkt(test, &p, 12);	/* half an IP header */
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), -EINVAL);
	kfree_skb(skb);

	skb = pkt(test, &p, sizeof(p.ip) + 2);	/* half the ports */
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), -EINVAL);
	kfree_skb(skb);

	v4_fill(&p, IPPROTO_TCP, 20);
	p.ip.ihl = 4;	/* shorter than the header itself */
	skb = pkt(test, &p, sizeof(p));
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), -EINVAL);
	kfree_skb(skb);

	v4_fill(&p, IPPROTO_TCP, 20);
	p.ip.ihl = 15;	/* options past the end of the packet */
	skb = pkt(test, &p, sizeof(p));
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), -EINVAL);
	kfree_skb(skb);

	v4_fill(&p, IPPROTO_TCP, 20);
	p.ip.version = 6;
	skb = pkt(test, &p, sizeof(p));
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV4, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_ARP, &info), -EAFNOSUPPORT);
	kfree_skb(skb);
}

struct v6pkt {
	struct ipv6hdr ip;
	u8 rest[40];
} __packed;

static void v6_fill(struct v6pkt *p, u8 nexthdr, unsigned int paylen)
{
	memset(p, 0, sizeof(*p));
	p->ip.version = 6;
	p->ip.nexthdr = nexthdr;
	p->ip.hop_limit = 64;
	p->ip.payload_len = htons(paylen);
	p->ip.saddr.s6_addr[0] = 0xfd;
	p->ip.saddr.s6_addr[15] = 1;
	p->ip.daddr.s6_addr[0] = 0xfd;
	p->ip.daddr.s6_addr[15] = 2;
}

static void flow_v6_tcp_udp_icmp(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v6pkt p;

	v6_fill(&p, IPPROTO_TCP, 20);
	((struct tcphdr *)p.rest)->source = htons(1234);
	((struct tcphdr *)p.rest)->dest = htons(80);
	skb = pkt(test, &p, sizeof(p.ip) + 20);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), 0);
	KUNIT_EXPECT_EQ(test, info.family, (u8)AF_INET6);
	KUNIT_EXPECT_EQ(test, info.protocol, (u8)IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, info.sport, 1234);
	KUNIT_EXPECT_EQ(test, info.dport, 80);
	KUNIT_EXPECT_EQ(test, info.daddr.in6.s6_addr[15], 2);
	kfree_skb(skb);

	/* UDP behind a hop-by-hop options header */
	v6_fill(&p, NEXTHDR_HOP, 16);
	p.rest[0] = IPPROTO_UDP;	/* next header */
	p.rest[1] = 0;			/* 8 bytes of options */
	p.rest[2] = 1;			/* PadN */
	p.rest[3] = 4;
	((struct udphdr *)(p.rest + 8))->dest = htons(53);
	skb = pkt(test, &p, sizeof(p.ip) + 16);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), 0);
	KUNIT_EXPECT_EQ(test, info.protocol, (u8)IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, info.dport, 53);
	kfree_skb(skb);

	v6_fill(&p, IPPROTO_ICMPV6, 8);
	p.rest[0] = ICMPV6_ECHO_REQUEST;
	skb = pkt(test, &p, sizeof(p.ip) + 8);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.flags & PM_FLOW_ICMP);
	KUNIT_EXPECT_EQ(test, info.icmp_type, (u8)ICMPV6_ECHO_REQUEST);
	KUNIT_EXPECT_FALSE(test, pm_is_icmp_error(AF_INET6, IPPROTO_ICMPV6, info.icmp_type));
	KUNIT_EXPECT_TRUE(test, pm_is_icmp_error(AF_INET6, IPPROTO_ICMPV6, ICMPV6_DEST_UNREACH));
	kfree_skb(skb);
}

static void flow_v6_fragment_and_truncated(struct kunit *test)
{
	struct pm_flow_info info;
	struct sk_buff *skb;
	struct v6pkt p;
	struct frag_hdr *fh = (struct frag_hdr *)p.rest;

	/* A later fragment: no ports to read */
	v6_fill(&p, NEXTHDR_FRAGMENT, 16);
	fh->nexthdr = IPPROTO_UDP;
	fh->frag_off = htons(1480);
	skb = pkt(test, &p, sizeof(p.ip) + 16);
	KUNIT_ASSERT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.flags & PM_FLOW_FRAGMENT);
	KUNIT_EXPECT_FALSE(test, info.flags & PM_FLOW_PORTS);
	KUNIT_EXPECT_EQ(test, info.protocol, (u8)IPPROTO_UDP);
	kfree_skb(skb);

	v6_fill(&p, IPPROTO_TCP, 20);
	skb = pkt(test, &p, 30);	/* part of the IPv6 header */
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), -EINVAL);
	kfree_skb(skb);

	skb = pkt(test, &p, sizeof(p.ip) + 3);	/* part of the ports */
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), -EINVAL);
	kfree_skb(skb);

	v6_fill(&p, NEXTHDR_HOP, 16);	/* an extension header cut short */
	p.rest[0] = IPPROTO_UDP;
	p.rest[1] = 4;			/* claims 40 bytes */
	skb = pkt(test, &p, sizeof(p.ip) + 16);
	KUNIT_EXPECT_EQ(test, pm_flow_parse(skb, NFPROTO_IPV6, &info), -EINVAL);
	kfree_skb(skb);
}

static struct kunit_case flow_test_cases[] = {
	KUNIT_CASE(flow_v4_tcp),
	KUNIT_CASE(flow_v4_udp_and_icmp),
	KUNIT_CASE(flow_v4_fragment),
	KUNIT_CASE(flow_v4_truncated),
	KUNIT_CASE(flow_v6_tcp_udp_icmp),
	KUNIT_CASE(flow_v6_fragment_and_truncated),
	{}
};

static struct kunit_suite flow_test_suite = {
	.name = "portmaster_flow",
	.test_cases = flow_test_cases,
};

kunit_test_suite(flow_test_suite);
