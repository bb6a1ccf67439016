// SPDX-License-Identifier: GPL-2.0
/*
 * A flow's identity read from its first packet.  Conntrack has already
 * reassembled fragments by the time our hooks run, but the parser never
 * trusts that: every header is read with skb_header_pointer() and a
 * packet too short for its headers is refused.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <linux/portmaster.h>

#include "flow.h"
#include "pending.h"

/* The key of the flow a conntrack entry belongs to (see pending.h). */
void pm_flow_key_from_ct(const struct nf_conn *ct, struct pm_flow_key *key)
{
	const struct nf_conntrack_tuple *t =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;

	memset(key, 0, sizeof(*key));
	key->src = t->src.u3;
	key->dst = t->dst.u3;
	key->sport = t->src.u.all;
	key->dport = t->dst.u.all;
	key->zone = nf_ct_zone_id(nf_ct_zone(ct), IP_CT_DIR_ORIGINAL);
	key->l3num = t->src.l3num;
	key->protonum = t->dst.protonum;
}

bool pm_proto_has_ports(u8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	default:
		return false;
	}
}

bool pm_is_icmp_error(u8 family, u8 protocol, u8 type)
{
	if (family == AF_INET && protocol == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
		       type == ICMP_REDIRECT || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	if (family == AF_INET6 && protocol == IPPROTO_ICMPV6)
		return type < 128;	/* RFC 4443: errors are 0-127 */
	return false;
}

/* Ports or ICMP type/code from the L4 header at @off. */
static int pm_flow_parse_l4(const struct sk_buff *skb, unsigned int off,
			    struct pm_flow_info *info)
{
	if (pm_proto_has_ports(info->protocol)) {
		__be16 _ports[2];
		const __be16 *ports;

		ports = skb_header_pointer(skb, off, sizeof(_ports), _ports);
		if (!ports)
			return -EINVAL;
		info->sport = ntohs(ports[0]);
		info->dport = ntohs(ports[1]);
		info->flags |= PM_FLOW_PORTS;
	} else if (info->protocol == IPPROTO_ICMP ||
		   info->protocol == IPPROTO_ICMPV6) {
		u8 _tc[2];
		const u8 *tc;

		tc = skb_header_pointer(skb, off, sizeof(_tc), _tc);
		if (!tc)
			return -EINVAL;
		info->icmp_type = tc[0];
		info->icmp_code = tc[1];
		info->flags |= PM_FLOW_ICMP;
	}
	return 0;
}

static int pm_flow_parse_ipv4(const struct sk_buff *skb,
			      struct pm_flow_info *info)
{
	unsigned int off = skb_network_offset(skb);
	struct iphdr _iph;
	const struct iphdr *iph;
	unsigned int ihl;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4)
		return -EINVAL;
	ihl = iph->ihl * 4;
	/* tot_len is 0 in a BIG TCP super-packet; the stack checked it */
	if (ihl < sizeof(*iph) || off + ihl > skb->len ||
	    (iph->tot_len && ntohs(iph->tot_len) < ihl))
		return -EINVAL;

	info->family = AF_INET;
	info->protocol = iph->protocol;
	info->saddr.ip = iph->saddr;
	info->daddr.ip = iph->daddr;

	if (iph->frag_off & htons(IP_OFFSET)) {
		info->flags |= PM_FLOW_FRAGMENT;
		return 0;
	}
	return pm_flow_parse_l4(skb, off + ihl, info);
}

static int pm_flow_parse_ipv6(const struct sk_buff *skb,
			      struct pm_flow_info *info)
{
	unsigned int off = skb_network_offset(skb);
	struct ipv6hdr _ip6h;
	const struct ipv6hdr *ip6h;
	__be16 frag_off = 0;
	u8 nexthdr;
	int l4off;

	ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
	if (!ip6h || ip6h->version != 6)
		return -EINVAL;

	info->family = AF_INET6;
	info->saddr.in6 = ip6h->saddr;
	info->daddr.in6 = ip6h->daddr;

	nexthdr = ip6h->nexthdr;
	l4off = ipv6_skip_exthdr(skb, off + sizeof(*ip6h), &nexthdr, &frag_off);
	if (l4off < 0)
		return -EINVAL;
	info->protocol = nexthdr;

	if (frag_off & htons(IP6_OFFSET)) {
		struct frag_hdr _fh;
		const struct frag_hdr *fh;

		/* the walk stops at the fragment header: its next is ours */
		fh = skb_header_pointer(skb, l4off, sizeof(_fh), &_fh);
		if (!fh)
			return -EINVAL;
		info->protocol = fh->nexthdr;
		info->flags |= PM_FLOW_FRAGMENT;
		return 0;
	}
	return pm_flow_parse_l4(skb, l4off, info);
}

/**
 * pm_flow_parse - the identity of the flow a packet belongs to
 * @skb: the packet, its network header set
 * @nfproto: NFPROTO_IPV4 or NFPROTO_IPV6
 * @info: filled with family, protocol, addresses and ports or ICMP
 *	type/code, as the packet carries them (source = sender)
 *
 * Return: 0, or -EINVAL for a packet too short or malformed to say.
 */
int pm_flow_parse(const struct sk_buff *skb, u8 nfproto,
		  struct pm_flow_info *info)
{
	memset(info, 0, sizeof(*info));
	switch (nfproto) {
	case NFPROTO_IPV4:
		return pm_flow_parse_ipv4(skb, info);
	case NFPROTO_IPV6:
		return pm_flow_parse_ipv6(skb, info);
	default:
		return -EAFNOSUPPORT;
	}
}

/* A reply travels the other way: the flow's source is its destination. */
void pm_flow_reverse(struct pm_flow_info *info)
{
	swap(info->saddr, info->daddr);
	if (info->flags & PM_FLOW_PORTS)
		swap(info->sport, info->dport);
}
