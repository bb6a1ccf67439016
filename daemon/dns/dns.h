/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portmasterd's own resolver: the one interface between it and the rest
 * of the daemon.
 *
 *   intercept ─▶ attribute ─▶ name ─▶ decide
 *                              │        │
 *                 dns_name_flow()   dns_flow_verdict() before the rules,
 *                                   dns_cname_rule() after them
 *
 * The resolver answers DNS on UDP and TCP at the configured addresses
 * (127.0.0.17:53 and [::1]:53), resolves through libunbound (forwarding
 * to the configured or the system's nameservers, over TLS if asked), and
 * keeps what it answered per program, so that the first packet of a
 * connection carries the name its program resolved for the address.
 * Queries are decided by domain rules and blocklists (see policy.c).
 */
#ifndef PM_DNS_H
#define PM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd;
struct flow_info;
struct rule;
struct buf;

/* Opens the listeners and the upstream context when the resolver is on;
 * d->dns stays NULL when it is off. */
int dns_start(struct pmd *d, char *err, size_t errlen);
void dns_stop(struct pmd *d);
/* SIGHUP: reads the blocklists and the DoH list again; keeps the old
 * ones when a file cannot be read. */
int dns_reload(struct pmd *d, char *err, size_t errlen);
void dns_tick(struct pmd *d, uint64_t now_ms);
void dns_stats(struct pmd *d, struct buf *rec);

/*
 * Flows the resolver decides before any rule: portmasterd's own (its
 * upstream queries: accepted, never rerouted or prompted), queries to the
 * resolver (accepted: their names are decided query by query), stray DNS
 * (1799 with reroute_dns) and, with prevent_bypass, DNS over TLS, known
 * DoH endpoints and direct DNS that was not rerouted (blocked).  Returns
 * true with the mark in *mark, or false to let the rules decide.
 */
bool dns_flow_verdict(struct pmd *d, const struct flow_info *fi, uint32_t *mark);
/* Gives the flow the name (and CNAME chain) its program resolved for its
 * destination, most recent first, its own scope before the global one. */
void dns_name_flow(struct pmd *d, struct flow_info *fi);
/* A CNAME can only block: the first domain rule that matches one of the
 * flow's CNAMEs, when it blocks or drops, wins over r (the rule that
 * matched the flow's name, or NULL).  Returns the rule that decides. */
struct rule *dns_cname_rule(struct pmd *d, const struct flow_info *fi, struct rule *r,
			    uint64_t now);
/*
 * Can a flow's name change its verdict?  Then no verdict may be carried
 * to "flows like it" by address (module mode's remembered verdicts): the
 * same program reaches one address under many names (CDNs), and a flow
 * decided before its program resolved anything has no name at all.
 */
bool dns_names_decide(const struct pmd *d);

#endif
