/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An index over a ruleset, so that deciding a flow does not try every
 * rule: rules are bucketed by their cheapest exact field (a literal exe,
 * else a single destination port); the rest are tried in order.  The
 * first matching rule is the one with the lowest position among the
 * first matches of the flow's exe bucket, its port bucket and the rest,
 * which is what a scan of all rules in order would find.
 */
#ifndef PM_RINDEX_H
#define PM_RINDEX_H

#include <stdbool.h>
#include <stdint.h>
#include "decide/flow.h"

struct ruleset;
struct rule;
struct rindex;

/* NULL when out of memory (rindex_first then tries every rule). */
struct rindex *rindex_build(const struct ruleset *rs);
void rindex_free(struct rindex *x);
struct rule *rindex_first(const struct rindex *x, struct ruleset *rs, const struct flow_info *f,
			  uint64_t now, bool new_flow);

/* Does some rule ask what the module's remembered verdicts do not key on? */
bool rindex_beyond_key(const struct rindex *x, const struct ruleset *rs);

#endif
