// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: what the resolver does with bytes from the network.  The
 * input is taken as a query (the client's side: read it, or say FORMERR
 * from its header alone; build every kind of reply to it, truncated too)
 * and as an upstream's answer to that query (copy its records, follow its
 * CNAME chain, collect its addresses and SVCB/HTTPS hints).  Its text is
 * also a domain pattern, a name, and a blocklist file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dns/blocklist.h"
#include "dns/internal.h"
#include "dns/names.h"

static void addr_cb(void *arg, uint8_t family, const uint8_t *addr, uint32_t ttl)
{
	size_t *n = arg;

	if ((family != AF_INET && family != AF_INET6) || !addr)
		abort();
	(void)ttl;
	(*n)++;
}

static void encode(ldns_pkt *p, size_t max)
{
	uint8_t *w = NULL;
	size_t len = 0;
	bool trunc;

	if (!p)
		return;
	if (wire_encode(p, max, &w, &len, &trunc) == 0 && len > max)
		abort();	/* a reply larger than the client can take */
	free(w);
	ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *req = NULL;
	char text[512], canon[DNS_NAME_MAX], err[256];

	if (ldns_wire2pkt(&req, data, size) != LDNS_STATUS_OK) {
		encode(wire_formerr_raw(data, size), 512);
	} else {
		char name[DNS_NAME_MAX], cnames[NAMECACHE_CNAMES_MAX];
		size_t naddr = 0;
		ldns_pkt *up;

		if (wire_qname(req, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "x");
		encode(wire_reply_for(req, LDNS_RCODE_SERVFAIL), 512);
		encode(wire_blocked(req, BLOCKED_NXDOMAIN), 512);
		encode(wire_blocked(req, BLOCKED_ZERO), 512);
		up = wire_from_upstream(req, data, size);
		if (up) {
			if (wire_chain(up, name, cnames, sizeof(cnames), addr_cb, &naddr) < 0)
				abort();
			if (strlen(cnames) >= sizeof(cnames))
				abort();
			encode(up, 512);
		}
		ldns_pkt_free(req);
	}
	if (size < sizeof(text)) {
		struct blocklist bl;

		memcpy(text, data, size);
		text[size] = 0;
		if (dns_pattern_canon(text, canon, sizeof(canon), err, sizeof(err)) == 0)
			(void)dns_pattern_match(canon, "www.example.com");
		if (dns_name_canon(text, canon, sizeof(canon)) == 0 && strlen(canon) > 253)
			abort();
		blocklist_init(&bl, 1);
		if (blocklist_add_text(&bl, (const char *)data, size) == 0 && blocklist_seal(&bl) == 0)
			(void)blocklist_match(&bl, "a.b.example");
		blocklist_free(&bl);
	}
	return 0;
}
