/* SPDX-License-Identifier: GPL-2.0 */
/* A backend that records the verdicts the engine gives, for the tests. */
#ifndef PM_FAKE_BACKEND_H
#define PM_FAKE_BACKEND_H

#include "daemon.h"

struct fake_verdict {
	struct pm_ns *ns;
	uint16_t q;
	uint64_t id;
	uint32_t mark;
};

static struct fake_verdict fake_v[256];
static int fake_n, fake_resets, fake_rejects;
/* Two namespaces: ours (fake_ns[0]) and another one. */
static struct pm_ns fake_ns[2];

static int fake_verdict_fn(struct pmd *d, struct pm_ns *ns, uint16_t q, uint64_t id,
			   uint32_t mark)
{
	(void)d;
	if (fake_n < 256)
		fake_v[fake_n++] = (struct fake_verdict){ ns, q, id, mark };
	return 0;
}

static int fake_reset_fn(struct pmd *d, struct pm_ns *ns)
{
	(void)d;
	(void)ns;
	fake_resets++;
	return 3;
}

static void fake_reject_fn(struct pmd *d, struct pm_ns *ns, const uint8_t *pkt, size_t len,
			   uint32_t ifindex)
{
	(void)d; (void)ns; (void)pkt; (void)len; (void)ifindex;
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
	memset(fake_ns, 0, sizeof(fake_ns));
	fake_ns[0] = (struct pm_ns){ .id = 4026531840u, .fd = -1, .diag_fd = -1 };
	fake_ns[1] = (struct pm_ns){ .id = 4026532999u, .name = "other", .fd = -1, .diag_fd = -1 };
	d->ns[0] = &fake_ns[0];
	d->ns[1] = &fake_ns[1];
	d->nns = 2;
	fake_n = fake_resets = fake_rejects = 0;
}

static void fake_teardown(struct pmd *d)
{
	flowtab_free(&d->ft);
	ruleset_clear(&d->rules);
}

#endif
