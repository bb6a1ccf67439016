/* SPDX-License-Identifier: GPL-2.0 */
/* The resolver's configuration keys (portmasterd.conf; portmasterd(8)). */
#ifndef PM_DNS_DNSCONF_H
#define PM_DNS_DNSCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/limits.h>

#define DNS_MAX_LISTEN 4
#define DNS_MAX_UPSTREAMS 8
#define DNS_MAX_BLOCKLISTS 16

struct dns_addr {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

struct dns_upstream {
	struct dns_addr a;
	bool tls;
	char tls_name[256];	/* tls://ADDR#NAME: the name its certificate has */
};

enum blocked_answer { BLOCKED_NXDOMAIN, BLOCKED_ZERO };

struct dns_config {
	bool enabled;			/* resolver = none turns it off */
	int nlisten;
	struct dns_addr listen[DNS_MAX_LISTEN];
	int nupstream;			/* 0: the system's, from resolv.conf */
	struct dns_upstream upstream[DNS_MAX_UPSTREAMS];
	char resolv_conf[PATH_MAX];
	char tls_ca[PATH_MAX];		/* "": the system's CA bundle */
	bool prevent_bypass;
	bool prevent_bypass_set;
	enum blocked_answer blocked_answer;
	int nblocklist;
	char blocklist[DNS_MAX_BLOCKLISTS][PATH_MAX];
	char doh_list[PATH_MAX];	/* "": CONFIG-DIR/doh-endpoints.txt */
	uint32_t cache_entries;		/* the per-program name cache */
	uint32_t max_queries;		/* in flight at once */
};

void dns_config_defaults(struct dns_config *c);
/* 1: the key is the resolver's and was set; 0: not a resolver key;
 * -1: a bad value, with the message in msg. */
int dns_config_key(struct dns_config *c, const char *key, const char *val,
		   char *msg, size_t msglen);
/* ADDR[:PORT] or [ADDR6][:PORT], port 53 when absent. */
int dns_parse_addr(const char *s, uint16_t defport, struct dns_addr *a);

#endif
