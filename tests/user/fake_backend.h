/* SPDX-License-Identifier: GPL-2.0 */
/* A backend that records the verdicts the engine gives, for the tests. */
#ifndef PM_FAKE_BACKEND_H
#define PM_FAKE_BACKEND_H

#include "daemon.h"

struct fake_verdict {
	uint16_t q;
	uint64_t id;
	uint32_t mark;
};

static struct fake_verdict fake_v[256];
static int fake_n, fake_resets, fake_rejects;

static int fake_verdict_fn(struct pmd *d, uint16_t q, uint64_t id, uint32_t mark)
{
	(void)d;
	if (fake_n < 256)
		fake_v[fake_n++] = (struct fake_verdict){ q, id, mark };
	return 0;
}

static int fake_reset_fn(struct pmd *d)
{
	(void)d;
	fake_resets++;
	return 3;
}

static void fake_reject_fn(struct pmd *d, const uint8_t *pkt, size_t len, uint32_t ifindex)
{
	(void)d; (void)pkt; (void)len; (void)ifindex;
	fake_rejects++;
}

static const struct backend_ops fake_backend = {
	.name = "fake",
	.block_new_once = true,
	.verdict = fake_verdict_fn,
	.reset = fake_reset_fn,
	.reject = fake_reject_fn,
};

static void fake_setup(struct pmd *d)
{
	memset(d, 0, sizeof(*d));
	config_defaults(&d->cfg);
	flowtab_init(&d->ft);
	d->be = &fake_backend;
	d->next_rule_id = 1;
	d->def = ACT_ALLOW;
	d->no_persist = true;
	fake_n = fake_resets = fake_rejects = 0;
}

static void fake_teardown(struct pmd *d)
{
	flowtab_free(&d->ft);
	ruleset_clear(&d->rules);
}

#endif
