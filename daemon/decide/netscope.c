// SPDX-License-Identifier: GPL-2.0
/*
 * Address scopes as Portmaster defines them (netutils.GetIPScope), so that
 * "remote=lan" means here what "LAN" means in a Portmaster endpoint list:
 * localhost is host-local; LAN is link-local, site-local (RFC 1918,
 * RFC 6598, fc00::/7) and local multicast (224/8, 239/8, the broadcast
 * address, ff00::-ff05::); internet is global unicast and global
 * multicast.  Invalid addresses (0/8, TEST-NETs, 240/4) are in no scope.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include "decide/criteria.h"

static enum ip_scope scope4(const uint8_t *a)
{
	if (!a[0] && !a[1] && !a[2] && !a[3])
		return IPS_LOCAL_MCAST;	/* source of L2-based protocols (DHCP) */
	if (a[0] == 0)
		return IPS_INVALID;
	if (a[0] == 10)
		return IPS_SITE;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return IPS_SITE;
	if (a[0] == 127)
		return IPS_HOST;
	if (a[0] == 169 && a[1] == 254)
		return IPS_LINK;
	if (a[0] == 172 && (a[1] & 0xf0) == 16)
		return IPS_SITE;
	if (a[0] == 192 && a[1] == 0 && a[2] == 2)
		return IPS_INVALID;
	if (a[0] == 192 && a[1] == 168)
		return IPS_SITE;
	if (a[0] == 198 && a[1] == 51 && a[2] == 100)
		return IPS_INVALID;
	if (a[0] == 203 && a[1] == 0 && a[2] == 113)
		return IPS_INVALID;
	if (a[0] == 224)
		return IPS_LOCAL_MCAST;
	if (a[0] == 233 && a[1] == 252 && a[2] == 0)
		return IPS_INVALID;
	if (a[0] >= 225 && a[0] <= 238)
		return IPS_GLOBAL_MCAST;
	if (a[0] == 239)
		return IPS_LOCAL_MCAST;
	if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		return IPS_LOCAL_MCAST;
	if (a[0] >= 240)
		return IPS_INVALID;
	return IPS_GLOBAL;
}

static enum ip_scope scope6(const uint8_t *a)
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, zero, 16))
		return IPS_INVALID;
	if (!memcmp(a, loop, 16))
		return IPS_HOST;
	if (!memcmp(a, mapped, 12))
		return scope4(a + 12);
	if ((a[0] & 0xfe) == 0xfc)
		return IPS_SITE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return IPS_LINK;
	if (a[0] == 0xff && a[1] <= 0x05)
		return IPS_LOCAL_MCAST;
	if (a[0] == 0xff)
		return IPS_GLOBAL_MCAST;
	return IPS_GLOBAL;
}

enum ip_scope ip_scope(uint8_t family, const uint8_t *addr)
{
	if (family == AF_INET)
		return scope4(addr);
	if (family == AF_INET6)
		return scope6(addr);
	return IPS_INVALID;
}

static struct {
	uint8_t family;
	uint8_t addr[16];
} resolvers[8];
static int nresolvers;

void crit_set_resolvers(const uint8_t (*addr)[16], const uint8_t *family, int n)
{
	nresolvers = 0;
	for (int i = 0; i < n && i < 8; i++) {
		resolvers[i].family = family[i];
		memcpy(resolvers[i].addr, addr[i], 16);
		nresolvers++;
	}
}

int crit_load_resolv_conf(const char *path)
{
	uint8_t addr[8][16], fam[8];
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (n < 8 && fgets(line, sizeof(line), f)) {
		char a[128], *pct;

		if (sscanf(line, " nameserver %127s", a) != 1)
			continue;
		pct = strchr(a, '%');	/* fe80::1%eth0: the address alone */
		if (pct)
			*pct = 0;
		memset(addr[n], 0, 16);
		if (inet_pton(AF_INET, a, addr[n]) == 1)
			fam[n++] = AF_INET;
		else if (inet_pton(AF_INET6, a, addr[n]) == 1)
			fam[n++] = AF_INET6;
	}
	fclose(f);
	crit_set_resolvers((const uint8_t (*)[16])addr, fam, n);
	return n;
}

bool net_scope_match(enum net_scope s, uint8_t family, const uint8_t *addr)
{
	enum ip_scope x = ip_scope(family, addr);

	switch (s) {
	case NET_LOCALHOST:
		return x == IPS_HOST;
	case NET_LAN:
		return x == IPS_LINK || x == IPS_SITE || x == IPS_LOCAL_MCAST;
	case NET_INTERNET:
		return x == IPS_GLOBAL || x == IPS_GLOBAL_MCAST;
	case NET_MULTICAST:
		return x == IPS_LOCAL_MCAST || x == IPS_GLOBAL_MCAST;
	case NET_RESOLVER:
		for (int i = 0; i < nresolvers; i++)
			if (resolvers[i].family == family &&
			    !memcmp(resolvers[i].addr, addr, family == AF_INET ? 4 : 16))
				return true;
		return false;
	case NET_PREFIX:
		break;
	}
	return false;
}
