// SPDX-License-Identifier: GPL-2.0
/* The resolver's keys in portmasterd.conf. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "common/util.h"
#include "dns/dnsconf.h"

void dns_config_defaults(struct dns_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	/* 127.0.0.17 as Portmaster; ::1 as the seed's IPv6 NAT rule */
	dns_parse_addr("127.0.0.17:53", 53, &c->listen[0]);
	dns_parse_addr("[::1]:53", 53, &c->listen[1]);
	c->nlisten = 2;
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "/etc/resolv.conf");
	c->prevent_bypass = true;
	c->blocked_answer = BLOCKED_NXDOMAIN;
	c->cache_entries = 65536;
	c->max_queries = 1024;
}

int dns_parse_addr(const char *s, uint16_t defport, struct dns_addr *a)
{
	uint8_t fam;
	uint16_t port;

	memset(a, 0, sizeof(*a));
	if (parse_hostport(s, &fam, a->addr, &port) < 0)
		return -1;
	a->family = fam;
	a->port = port ? port : defport;
	return 0;
}

/* Splits a space-separated list in place; returns the number of words or
 * -1 when there are more than max. */
static int words(char *v, char **out, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -1;
		out[n++] = w;
	}
	return n;
}

static int parse_upstream(char *w, struct dns_upstream *u)
{
	char *hash;

	memset(u, 0, sizeof(*u));
	if (!strncmp(w, "tls://", 6)) {
		u->tls = true;
		w += 6;
		hash = strchr(w, '#');
		if (hash) {
			*hash = 0;
			if (!hash[1] || xsnprintf(u->tls_name, sizeof(u->tls_name), "%s", hash + 1) < 0)
				return -1;
		}
	} else if (strchr(w, '#') || strstr(w, "://")) {
		return -1;
	}
	return dns_parse_addr(w, u->tls ? 853 : 53, &u->a);
}

int dns_config_key(struct dns_config *c, const char *key, const char *val,
		   char *msg, size_t msglen)
{
	char copy[4096], *w[DNS_MAX_BLOCKLISTS + 1];
	int n;

	if (strlen(val) >= sizeof(copy))
		goto bad;
	snprintf(copy, sizeof(copy), "%s", val);
	if (!strcmp(key, "resolver")) {
		struct dns_addr a[DNS_MAX_LISTEN];

		n = words(copy, w, DNS_MAX_LISTEN);
		if (n == 1 && (!strcmp(w[0], "none") || !strcmp(w[0], "off"))) {
			c->enabled = false;
			c->nlisten = 0;
			return 1;
		}
		if (n <= 0)
			goto bad;
		for (int i = 0; i < n; i++)
			if (dns_parse_addr(w[i], 53, &a[i]) < 0)
				goto bad;
		memcpy(c->listen, a, sizeof(a[0]) * (size_t)n);
		c->nlisten = n;
		c->enabled = true;
	} else if (!strcmp(key, "upstream")) {
		struct dns_upstream u[DNS_MAX_UPSTREAMS];
		char *uw[DNS_MAX_UPSTREAMS];
		int tls = 0;

		n = words(copy, uw, DNS_MAX_UPSTREAMS);
		if (n < 0) {
			snprintf(msg, msglen, "at most %d upstreams", DNS_MAX_UPSTREAMS);
			return -1;
		}
		if (n == 1 && !strcmp(uw[0], "system"))
			n = 0;
		for (int i = 0; i < n; i++) {
			if (parse_upstream(uw[i], &u[i]) < 0)
				goto bad;
			tls += u[i].tls;
		}
		if (tls && tls != n) {
			/* libunbound forwards to one set, with or without TLS */
			snprintf(msg, msglen, "upstream: all tls:// or none");
			return -1;
		}
		memcpy(c->upstream, u, sizeof(u[0]) * (size_t)n);
		c->nupstream = n;
	} else if (!strcmp(key, "resolv_conf")) {
		if (val[0] != '/' || xsnprintf(c->resolv_conf, sizeof(c->resolv_conf), "%s", val) < 0)
			goto bad;
	} else if (!strcmp(key, "tls_ca")) {
		if ((val[0] && val[0] != '/') ||
		    xsnprintf(c->tls_ca, sizeof(c->tls_ca), "%s", val) < 0)
			goto bad;
	} else if (!strcmp(key, "prevent_bypass")) {
		if (!strcmp(val, "yes"))
			c->prevent_bypass = true;
		else if (!strcmp(val, "no"))
			c->prevent_bypass = false;
		else
			goto bad;
		c->prevent_bypass_set = true;
	} else if (!strcmp(key, "blocked_answer")) {
		if (!strcmp(val, "nxdomain"))
			c->blocked_answer = BLOCKED_NXDOMAIN;
		else if (!strcmp(val, "zero"))
			c->blocked_answer = BLOCKED_ZERO;
		else
			goto bad;
	} else if (!strcmp(key, "blocklist")) {
		n = words(copy, w, DNS_MAX_BLOCKLISTS);
		if (n < 0) {
			snprintf(msg, msglen, "at most %d blocklists", DNS_MAX_BLOCKLISTS);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (w[i][0] != '/' || strlen(w[i]) >= PATH_MAX)
				goto bad;
		for (int i = 0; i < n; i++)
			snprintf(c->blocklist[i], PATH_MAX, "%s", w[i]);
		c->nblocklist = n;
	} else if (!strcmp(key, "doh_list")) {
		if ((val[0] && val[0] != '/') ||
		    xsnprintf(c->doh_list, sizeof(c->doh_list), "%s", val) < 0)
			goto bad;
	} else if (!strcmp(key, "dns_cache_entries")) {
		if (parse_u32(val, 1u << 22, &c->cache_entries) < 0 || c->cache_entries < 16)
			goto bad;
	} else if (!strcmp(key, "dns_max_queries")) {
		if (parse_u32(val, 65536, &c->max_queries) < 0 || !c->max_queries)
			goto bad;
	} else {
		return 0;
	}
	return 1;
bad:
	snprintf(msg, msglen, "bad value '%s' for '%s'", val, key);
	return -1;
}
