// SPDX-License-Identifier: GPL-2.0
/* The daemon's shared state: fd watches for the event loop, and what
 * follows a change of the rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "daemon.h"
#include "common/log.h"
#include "dns/dns.h"

struct watch {
	watch_cb cb;
	void *arg;
	uint32_t events;
	bool used;
};

int pmd_watch(struct pmd *d, int fd, uint32_t events, watch_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	bool mod;

	if (fd < 0)
		return -EBADF;
	if (fd >= d->nwatches) {
		int n = fd + 64;
		struct watch *w = realloc(d->watches, (size_t)n * sizeof(*w));

		if (!w)
			return -ENOMEM;
		memset(w + d->nwatches, 0, (size_t)(n - d->nwatches) * sizeof(*w));
		d->watches = w;
		d->nwatches = n;
	}
	mod = d->watches[fd].used;
	if (epoll_ctl(d->epfd, mod ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	d->watches[fd] = (struct watch){ .cb = cb, .arg = arg, .events = events, .used = true };
	return 0;
}

void pmd_unwatch(struct pmd *d, int fd)
{
	if (fd < 0 || fd >= d->nwatches || !d->watches[fd].used)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	d->watches[fd].used = false;
}

int pmd_rules_changed(struct pmd *d, bool persist, char *err, size_t errlen)
{
	int n;

	if (persist && !d->no_persist &&
	    ruleset_save(&d->rules, d->rules_path, err, errlen) < 0)
		return -1;
	/* Connections decided under the old rules are decided again. */
	if (d->be && d->be->reset) {
		n = d->be->reset(d);
		d->st.resets++;
		if (n > 0)
			d->st.reset_entries += (uint64_t)n;
	}
	return 0;
}

int pmd_reload(struct pmd *d, char *err, size_t errlen)
{
	struct ruleset fresh;
	uint32_t id = d->next_rule_id;

	if (ruleset_load(&fresh, d->rules_path, &id, err, errlen) < 0)
		return -1;
	/* Rules that live only in memory (once, for, until-restart) stay. */
	for (size_t i = 0; i < d->rules.n;) {
		struct rule *r = d->rules.v[i];

		if (r->scope == SCOPE_ALWAYS) {
			i++;
			continue;
		}
		if (ruleset_add(&fresh, r) < 0) {
			ruleset_clear(&fresh);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memmove(&d->rules.v[i], &d->rules.v[i + 1], (d->rules.n - i - 1) * sizeof(r));
		d->rules.n--;
	}
	ruleset_clear(&d->rules);
	d->rules = fresh;
	d->next_rule_id = id;
	d->def = fresh.have_default ? fresh.def : d->cfg.def;
	pm_info("reloaded %zu rules from %s; default %s", d->rules.n, d->rules_path,
		action_name(d->def));
	if (dns_reload(d, err, errlen) < 0)
		pm_err("resolver: %s; keeping the blocklists loaded before", err);
	return pmd_rules_changed(d, false, err, errlen);
}

void pmd_dispatch(struct pmd *d, int fd, uint32_t events)
{
	if (fd >= 0 && fd < d->nwatches && d->watches[fd].used)
		d->watches[fd].cb(d, fd, events, d->watches[fd].arg);
}

void pmd_watch_free(struct pmd *d)
{
	free(d->watches);
	d->watches = NULL;
	d->nwatches = 0;
}
