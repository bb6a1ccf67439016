// SPDX-License-Identifier: GPL-2.0
/*
 * What the resolver decides: flows that are DNS (before the rules), names
 * asked for (domain rules, blocklists, bypass), CNAMEs (only to block),
 * and who asked.
 *
 * A query is matched against domain rules and lists only, as Portmaster
 * does: the rules that name a domain and nothing a query cannot know yet
 * (destination, port, protocol) decide it, with the asking program's
 * executable and user; every other rule waits for the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "common/util.h"
#include "daemon.h"
#include "dns/dns.h"
#include "intercept/backend.h"
#include "dns/internal.h"

#define CANARY "use-application-dns.net"

static size_t asker_slot(uint8_t family, const uint8_t *addr, uint16_t port, uint8_t proto)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t alen = family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	h = (h ^ port) * 0x100000001b3ull;
	h = (h ^ proto ^ ((uint64_t)family << 8)) * 0x100000001b3ull;
	return (size_t)((h ^ (h >> 29)) % ASKERS);
}

void asker_put(struct dns *n, const struct flow_info *fi)
{
	struct asker *a = &n->askers[asker_slot(fi->key.family, fi->key.laddr, fi->key.lport,
						fi->key.proto)];

	/* a newer flow takes the slot: the table only has to bridge the
	 * moment between a query's flow and the query itself */
	owner_release(&a->owner);
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->family = fi->key.family;
	a->proto = fi->key.proto;
	memcpy(a->addr, fi->key.laddr, 16);
	a->port = fi->key.lport;
	a->expires_ms = now_ms() + ASKER_TTL_MS;
	a->key = fi->key;
	if (owner_copy(&a->owner, &fi->owner) < 0)
		memset(&a->owner, 0, sizeof(a->owner));
}

const struct asker *asker_get(struct dns *n, uint8_t family, const uint8_t *addr,
			      uint16_t port, uint8_t proto)
{
	const struct asker *a = &n->askers[asker_slot(family, addr, port, proto)];
	size_t alen = family == AF_INET6 ? 16 : 4;

	if (!a->used || a->family != family || a->proto != proto || a->port != port ||
	    memcmp(a->addr, addr, alen) || a->expires_ms < now_ms())
		return NULL;
	return a;
}

void askers_free(struct dns *n)
{
	for (size_t i = 0; i < ASKERS; i++) {
		owner_release(&n->askers[i].owner);
		n->askers[i].used = false;
	}
}

static bool is_listen_addr(const struct dns_config *c, const struct flow_key *k)
{
	size_t alen = k->family == AF_INET6 ? 16 : 4;

	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].family == k->family && c->listen[i].port == k->rport &&
		    !memcmp(c->listen[i].addr, k->raddr, alen))
			return true;
	return false;
}

static bool is_doh_addr(const struct dns *n, const struct flow_key *k)
{
	size_t alen = k->family == AF_INET6 ? 16 : 4;

	for (int i = 0; i < n->ndoh_addrs; i++)
		if (n->doh_addrs[i].family == k->family && !memcmp(n->doh_addrs[i].addr, k->raddr, alen))
			return true;
	return false;
}

/* Does mark 1799 send a flow to the resolver here?  (By the backend's
 * name: this file is linked without the backends in the fuzzers.) */
static bool can_reroute(const struct pmd *d)
{
	return !d->be || strcmp(d->be->name, "kmod") || d->kmod_reroutes_dns;
}

bool dns_flow_verdict(struct pmd *d, const struct flow_info *fi, uint32_t *mark)
{
	const struct dns_config *c = &d->cfg.dns;
	struct dns *n = d->dns;
	uint16_t dport = fi->key.rport;

	if (!n || fi->dir != PM_DIR_OUT)
		return false;
	/* Our own upstream queries: never prompted, never sent back to us. */
	if (fi->owner.pid && fi->owner.pid == getpid()) {
		*mark = PM_MARK_ACCEPT_ALWAYS;
		return true;
	}
	if (!fi->has_ports || (fi->key.proto != IPPROTO_UDP && fi->key.proto != IPPROTO_TCP))
		return false;
	if (is_listen_addr(c, &fi->key)) {
		/* each name it asks for is decided on its own */
		asker_put(n, fi);
		*mark = PM_MARK_ACCEPT_ALWAYS;
		return true;
	}
	if (dport == 53) {
		if (d->cfg.reroute_dns && can_reroute(d)) {
			asker_put(n, fi);
			*mark = PM_MARK_REROUTE_DNS;
			return true;
		}
		/* DNS that cannot reach the resolver must not reach another */
		if (c->prevent_bypass) {
			n->st.bypass_blocked++;
			*mark = PM_MARK_BLOCK_ALWAYS;
			return true;
		}
		if (d->cfg.reroute_dns) {
			/* marked, for a NAT rule of the user's own */
			*mark = PM_MARK_REROUTE_DNS;
			return true;
		}
		return false;
	}
	if (!c->prevent_bypass)
		return false;
	/* DNS over TLS (and over QUIC) to anyone else, and known DoH servers */
	if (dport == 853 || (dport == 443 && is_doh_addr(n, &fi->key)) ||
	    (fi->domain && blocklist_match(&n->doh, fi->domain))) {
		n->st.bypass_blocked++;
		*mark = PM_MARK_BLOCK_ALWAYS;
		return true;
	}
	return false;
}

/* Could this rule decide a query, which has no destination yet? */
static bool query_rule(const struct rule *r, uint64_t now)
{
	const struct criterion *dir = rule_crit(r, CRIT_DIR);

	if (r->scope == SCOPE_FOR && now >= r->expires_ms)
		return false;
	if (!rule_crit(r, CRIT_DOMAIN) || rule_crit(r, CRIT_DST) || rule_crit(r, CRIT_PORT) ||
	    rule_crit(r, CRIT_PROTO))
		return false;
	return !dir || dir->v.dir == PM_DIR_OUT;
}

int dns_policy_name(struct dns *n, const struct owner *who, const char *name, bool is_cname,
		    uint32_t *rule_id)
{
	struct pmd *d = n->d;
	const struct dns_config *c = &d->cfg.dns;
	struct flow_info q;
	uint64_t now = now_ms();

	*rule_id = 0;
	if (c->prevent_bypass) {
		/* Firefox asks this before it turns DoH on by itself */
		if (!is_cname && !strcmp(name, CANARY)) {
			n->st.nxdomain_canary++;
			return -1;
		}
		if (blocklist_match(&n->doh, name))
			return -1;
	}
	memset(&q, 0, sizeof(q));
	q.dir = PM_DIR_OUT;
	q.owner = *who;
	q.domain = (char *)name;
	for (size_t i = 0; i < d->rules.n; i++) {
		struct rule *r = d->rules.v[i];

		if (!query_rule(r, now) || !rule_match(r, &q))
			continue;
		r->hits++;
		*rule_id = r->id;
		/* allow, ask and tunnel let the name be resolved */
		return r->action == ACT_BLOCK || r->action == ACT_DROP ? -1 : 1;
	}
	return blocklist_match(&n->bl, name) ? -1 : 0;
}

struct rule *dns_cname_rule(struct pmd *d, const struct flow_info *fi, struct rule *r,
			    uint64_t now)
{
	char chain[NAMECACHE_CNAMES_MAX], *save = NULL;
	struct flow_info t;

	if (!fi->cnames || !fi->cnames[0])
		return r;
	snprintf(chain, sizeof(chain), "%s", fi->cnames);
	t = *fi;
	for (char *cn = strtok_r(chain, ",", &save); cn; cn = strtok_r(NULL, ",", &save)) {
		t.domain = cn;
		for (size_t i = 0; i < d->rules.n; i++) {
			struct rule *x = d->rules.v[i];

			if (!rule_crit(x, CRIT_DOMAIN) || (x->scope == SCOPE_FOR && now >= x->expires_ms) ||
			    !rule_match(x, &t))
				continue;
			if (x->action == ACT_BLOCK || x->action == ACT_DROP)
				return x;
			break;	/* the first domain rule for this CNAME allows */
		}
	}
	return r;
}

bool dns_names_decide(const struct pmd *d)
{
	for (size_t i = 0; i < d->rules.n; i++)
		if (rule_crit(d->rules.v[i], CRIT_DOMAIN))
			return true;
	return false;
}

void dns_name_flow(struct pmd *d, struct flow_info *fi)
{
	struct dns *n = d->dns;
	const char *name, *cnames;

	if (!n || fi->dir != PM_DIR_OUT || fi->domain)
		return;
	if (namecache_get(n->names, namecache_scope(fi->owner.exe), fi->key.family, fi->key.raddr,
			  now_ms(), &name, &cnames) < 0)
		return;
	fi->domain = strdup(name);
	fi->cnames = cnames[0] ? strdup(cnames) : NULL;
	n->st.cache_named++;
}

/* One DoH list line: a domain (blocked at DNS, and connections named so),
 * or an address (connections to its port 443 blocked). */
static int doh_line(struct dns *n, struct blocklist *doh, struct doh_addr *addrs, int *naddrs,
		    char *line)
{
	char *hash = strchr(line, '#'), *save = NULL, *w;
	char canon[DNS_NAME_MAX];
	uint8_t a[16];

	if (hash)
		*hash = 0;
	w = strtok_r(line, " \t\r\n", &save);
	if (!w)
		return 0;
	if (inet_pton(AF_INET, w, a) == 1 || inet_pton(AF_INET6, w, a) == 1) {
		if (*naddrs >= DOH_MAX_ADDRS)
			return -1;
		addrs[*naddrs].family = strchr(w, ':') ? AF_INET6 : AF_INET;
		memset(addrs[*naddrs].addr, 0, 16);
		memcpy(addrs[*naddrs].addr, a, strchr(w, ':') ? 16 : 4);
		(*naddrs)++;
		return 0;
	}
	(void)n;
	if (dns_name_canon(w, canon, sizeof(canon)) < 0)
		return -1;
	return blocklist_add_name(doh, canon) < 0 ? -2 : 0;
}

static int load_doh(struct dns *n, const char *path, bool must, struct blocklist *doh,
		    struct doh_addr *addrs, int *naddrs, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[512];
	unsigned int lineno = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		int r;

		lineno++;
		r = doh_line(n, doh, addrs, naddrs, line);
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno,
				 r == -2 ? "out of memory" : "not a domain or an address (or too many)");
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int dns_load_lists(struct dns *n, char *err, size_t errlen)
{
	const struct dns_config *c = &n->d->cfg.dns;
	struct blocklist bl, doh;
	struct doh_addr *addrs = calloc(DOH_MAX_ADDRS, sizeof(*addrs));
	int naddrs = 0;
	char path[PATH_MAX];

	if (!addrs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	blocklist_init(&bl, n->seed);
	blocklist_init(&doh, n->seed);
	for (int i = 0; i < c->nblocklist; i++)
		if (blocklist_add_file(&bl, c->blocklist[i], err, errlen) < 0)
			goto fail;
	if (c->doh_list[0])
		snprintf(path, sizeof(path), "%s", c->doh_list);
	else if (xsnprintf(path, sizeof(path), "%s/doh-endpoints.txt", n->d->cfg.dir) < 0)
		path[0] = 0;
	if (path[0] && load_doh(n, path, c->doh_list[0] != 0, &doh, addrs, &naddrs, err, errlen) < 0)
		goto fail;
	if (blocklist_seal(&bl) < 0 || blocklist_seal(&doh) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	blocklist_free(&n->bl);
	blocklist_free(&n->doh);
	n->bl = bl;
	n->doh = doh;
	memcpy(n->doh_addrs, addrs, sizeof(*addrs) * (size_t)naddrs);
	n->ndoh_addrs = naddrs;
	n->blocklist_lines_skipped = bl.lines_skipped;
	free(addrs);
	return 0;
fail:
	blocklist_free(&bl);
	blocklist_free(&doh);
	free(addrs);
	return -1;
}
