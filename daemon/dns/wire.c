// SPDX-License-Identifier: GPL-2.0
/*
 * DNS messages, read and written by ldns: nothing here parses or builds
 * wire format by hand, except reading the id and QR bit of a message that
 * ldns refused, to say FORMERR to its sender.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "dns/internal.h"

#define EDNS_SIZE 1232	/* what we advertise: fits every path's MTU */

static ldns_rr_list *clone_list(const ldns_rr_list *l)
{
	return l ? ldns_rr_list_clone(l) : ldns_rr_list_new();
}

ldns_pkt *wire_reply_for(const ldns_pkt *req, ldns_pkt_rcode rcode)
{
	ldns_pkt *p = ldns_pkt_new();

	if (!p)
		return NULL;
	ldns_pkt_set_id(p, ldns_pkt_id(req));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, ldns_pkt_get_opcode(req));
	ldns_pkt_set_rd(p, ldns_pkt_rd(req));
	ldns_pkt_set_cd(p, ldns_pkt_cd(req));
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_rr_list_deep_free(ldns_pkt_question(p));
	ldns_pkt_set_question(p, clone_list(ldns_pkt_question(req)));
	ldns_pkt_set_qdcount(p, (uint16_t)ldns_rr_list_rr_count(ldns_pkt_question(p)));
	if (ldns_pkt_edns(req)) {
		ldns_pkt_set_edns_udp_size(p, EDNS_SIZE);
		ldns_pkt_set_edns_do(p, ldns_pkt_edns_do(req));
	}
	return p;
}

ldns_pkt *wire_formerr_raw(const uint8_t *buf, size_t len)
{
	ldns_pkt *p;

	if (len < 12 || (buf[2] & 0x80))
		return NULL;	/* no id, or a response: never answer those */
	p = ldns_pkt_new();
	if (!p)
		return NULL;
	ldns_pkt_set_id(p, (uint16_t)(buf[0] << 8 | buf[1]));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)((buf[2] >> 3) & 0xf));
	ldns_pkt_set_rcode(p, LDNS_RCODE_FORMERR);
	return p;
}

static bool push_clone(ldns_pkt *p, ldns_pkt_section s, const ldns_rr *rr)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (!c)
		return false;
	if (!ldns_pkt_push_rr(p, s, c)) {
		ldns_rr_free(c);
		return false;
	}
	return true;
}

ldns_pkt *wire_blocked(const ldns_pkt *req, enum blocked_answer how)
{
	ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(req), 0);
	ldns_rr_type t = q ? ldns_rr_get_type(q) : 0;
	ldns_pkt *p;
	ldns_rr *rr;
	char *owner;
	ldns_status s;

	if (how == BLOCKED_NXDOMAIN || !q || (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA))
		return wire_reply_for(req, how == BLOCKED_NXDOMAIN ? LDNS_RCODE_NXDOMAIN :
				      LDNS_RCODE_NOERROR);
	p = wire_reply_for(req, LDNS_RCODE_NOERROR);
	owner = ldns_rdf2str(ldns_rr_owner(q));
	if (!p || !owner) {
		free(owner);
		ldns_pkt_free(p);
		return NULL;
	}
	{
		/* a short TTL: the block follows rule changes soon */
		char text[DNS_NAME_MAX * 4 + 64];

		snprintf(text, sizeof(text), "%s 10 IN %s %s", owner,
			 t == LDNS_RR_TYPE_A ? "A" : "AAAA", t == LDNS_RR_TYPE_A ? "0.0.0.0" : "::");
		s = ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL);
	}
	free(owner);
	if (s != LDNS_STATUS_OK || !ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr)) {
		if (s == LDNS_STATUS_OK)
			ldns_rr_free(rr);
		ldns_pkt_free(p);
		return NULL;
	}
	return p;
}

ldns_pkt *wire_from_upstream(const ldns_pkt *req, const void *wire, size_t len)
{
	static const ldns_pkt_section secs[] = { LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
						 LDNS_SECTION_ADDITIONAL };
	ldns_pkt *up = NULL, *p;

	if (ldns_wire2pkt(&up, wire, len) != LDNS_STATUS_OK)
		return NULL;
	/* Our header, question and EDNS; the upstream's rcode and records. */
	p = wire_reply_for(req, ldns_pkt_get_rcode(up));
	for (size_t s = 0; p && s < sizeof(secs) / sizeof(secs[0]); s++) {
		ldns_rr_list *l = ldns_pkt_get_section_clone(up, secs[s]);

		for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
			if (!push_clone(p, secs[s], ldns_rr_list_rr(l, i))) {
				ldns_pkt_free(p);
				p = NULL;
				break;
			}
		ldns_rr_list_deep_free(l);
	}
	ldns_pkt_free(up);
	return p;
}

static void empty_section(ldns_pkt *p, ldns_pkt_section s)
{
	ldns_rr_list *l = s == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
			  s == LDNS_SECTION_AUTHORITY ? ldns_pkt_authority(p) :
			  ldns_pkt_additional(p);
	ldns_rr_list *e = ldns_rr_list_new();

	ldns_rr_list_deep_free(l);
	if (s == LDNS_SECTION_ANSWER)
		ldns_pkt_set_answer(p, e);
	else if (s == LDNS_SECTION_AUTHORITY)
		ldns_pkt_set_authority(p, e);
	else
		ldns_pkt_set_additional(p, e);
	ldns_pkt_set_section_count(p, s, 0);
}

int wire_encode(ldns_pkt *p, size_t max, uint8_t **out, size_t *len, bool *truncated)
{
	*truncated = false;
	if (ldns_pkt2wire(out, p, len) != LDNS_STATUS_OK)
		return -1;
	if (*len <= max)
		return 0;
	/* RFC 1035 4.2.1: too large for UDP, so TC, and the client asks again
	 * over TCP */
	free(*out);
	*out = NULL;
	empty_section(p, LDNS_SECTION_ANSWER);
	empty_section(p, LDNS_SECTION_AUTHORITY);
	empty_section(p, LDNS_SECTION_ADDITIONAL);
	ldns_pkt_set_tc(p, true);
	*truncated = true;
	if (ldns_pkt2wire(out, p, len) != LDNS_STATUS_OK || *len > max) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int rdf_name(const ldns_rdf *r, char *out, size_t len)
{
	char *s = ldns_rdf2str(r);
	int rc;

	if (!s)
		return -1;
	rc = dns_name_canon(s, out, len);
	if (rc < 0) {
		/* not a hostname (escaped bytes): lowercase it as printed, so
		 * that no pattern of hostname characters can match it by
		 * accident and the chain is still followed */
		size_t n = strlen(s);

		if (n && s[n - 1] == '.')
			n--;
		if (n < len) {
			for (size_t i = 0; i < n; i++)
				out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
			out[n] = 0;
			rc = 0;
		}
	}
	free(s);
	return rc;
}

int wire_qname(const ldns_pkt *req, char *out, size_t len)
{
	ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(req), 0);

	if (!q)
		return -1;
	return rdf_name(ldns_rr_owner(q), out, len);
}

static void svc_hints(const ldns_rr *rr, uint32_t ttl,
		      void (*cb)(void *, uint8_t, const uint8_t *, uint32_t), void *arg)
{
	/* SvcParams in presentation form: "alpn=h2 ipv4hint=192.0.2.1,192.0.2.2" */
	ldns_rdf *params = ldns_rr_rdf(rr, 2);
	char *s, *save = NULL;

	if (!params || ldns_rdf_get_type(params) != LDNS_RDF_TYPE_SVCPARAMS)
		return;
	s = ldns_rdf2str(params);
	if (!s)
		return;
	for (char *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		int fam = !strncmp(w, "ipv4hint=", 9) ? AF_INET :
			  !strncmp(w, "ipv6hint=", 9) ? AF_INET6 : 0;
		char *save2 = NULL;

		if (!fam)
			continue;
		for (char *a = strtok_r(w + 9, ",", &save2); a; a = strtok_r(NULL, ",", &save2)) {
			uint8_t addr[16];

			if (inet_pton(fam, a, addr) == 1)
				cb(arg, (uint8_t)fam, addr, ttl);
		}
	}
	free(s);
}

int wire_chain(const ldns_pkt *ans, const char *name, char *cnames, size_t cnlen,
	       void (*cb)(void *arg, uint8_t family, const uint8_t *addr, uint32_t ttl),
	       void *arg)
{
	ldns_rr_list *l = ldns_pkt_answer(ans);
	size_t n = l ? ldns_rr_list_rr_count(l) : 0;
	char chain[CNAME_CHAIN_MAX + 1][DNS_NAME_MAX];
	char owner[DNS_NAME_MAX];
	uint32_t ttl = UINT32_MAX;
	int depth = 0;

	cnames[0] = 0;
	snprintf(chain[0], sizeof(chain[0]), "%s", name);
	/* follow CNAMEs from the name asked for, as far as the answer goes */
	for (bool more = true; more && depth < CNAME_CHAIN_MAX;) {
		more = false;
		for (size_t i = 0; i < n; i++) {
			ldns_rr *rr = ldns_rr_list_rr(l, i);

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    rdf_name(ldns_rr_owner(rr), owner, sizeof(owner)) < 0 ||
			    strcmp(owner, chain[depth]) || !ldns_rr_rdf(rr, 0) ||
			    rdf_name(ldns_rr_rdf(rr, 0), chain[depth + 1], sizeof(chain[0])) < 0)
				continue;
			if (ldns_rr_ttl(rr) < ttl)
				ttl = ldns_rr_ttl(rr);
			depth++;
			if (strlen(cnames) + strlen(chain[depth]) + 2 < cnlen) {
				if (cnames[0])
					strcat(cnames, ",");
				strcat(cnames, chain[depth]);
			}
			more = true;
			break;
		}
	}
	/* the addresses of the chain's end (and of any name on it, for
	 * answers that list them out of order) */
	for (size_t i = 0; i < n && cb; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		bool on_chain = false;
		uint32_t rttl;

		if (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA && t != LDNS_RR_TYPE_SVCB &&
		    t != LDNS_RR_TYPE_HTTPS)
			continue;
		if (rdf_name(ldns_rr_owner(rr), owner, sizeof(owner)) < 0)
			continue;
		for (int k = 0; k <= depth && !on_chain; k++)
			on_chain = !strcmp(owner, chain[k]);
		if (!on_chain)
			continue;
		rttl = ldns_rr_ttl(rr) < ttl ? ldns_rr_ttl(rr) : ttl;
		if (t == LDNS_RR_TYPE_A && rd && ldns_rdf_size(rd) == 4)
			cb(arg, AF_INET, ldns_rdf_data(rd), rttl);
		else if (t == LDNS_RR_TYPE_AAAA && rd && ldns_rdf_size(rd) == 16)
			cb(arg, AF_INET6, ldns_rdf_data(rd), rttl);
		else if (t == LDNS_RR_TYPE_SVCB || t == LDNS_RR_TYPE_HTTPS)
			svc_hints(rr, rttl, cb, arg);
	}
	return depth;
}

uint32_t wire_min_ttl(const ldns_pkt *p)
{
	const ldns_rr_list *secs[] = { ldns_pkt_answer(p), ldns_pkt_authority(p),
				       ldns_pkt_additional(p) };
	uint32_t ttl = UINT32_MAX;

	for (size_t s = 0; s < 3; s++)
		for (size_t i = 0; secs[s] && i < ldns_rr_list_rr_count(secs[s]); i++) {
			uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(secs[s], i));

			if (t < ttl)
				ttl = t;
		}
	return ttl == UINT32_MAX ? 0 : ttl;
}
