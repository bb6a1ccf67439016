// SPDX-License-Identifier: GPL-2.0
/* Module mode: placeholder until the netlink client lands. */
#include <errno.h>
#include <stdio.h>
#include "backend.h"
#include "daemon.h"

int kmod_available(void)
{
	return 0;
}

static int kmod_start(struct pmd *d, char *err, size_t errlen)
{
	(void)d;
	snprintf(err, errlen, "module mode is not built yet");
	return -1;
}

static void kmod_stop(struct pmd *d)
{
	(void)d;
}

static int kmod_verdict(struct pmd *d, uint16_t q, uint64_t id, uint32_t mark)
{
	(void)d; (void)q; (void)id; (void)mark;
	return -ENOSYS;
}

const struct backend_ops kmod_backend = {
	.name = "kmod",
	.start = kmod_start,
	.stop = kmod_stop,
	.verdict = kmod_verdict,
};
