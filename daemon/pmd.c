// SPDX-License-Identifier: GPL-2.0
/* The daemon's shared state: fd watches for the event loop, and what
 * follows a change of the rules. */
#include <errno.h>
#include <sched.h>
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
	if (persist && !d->no_persist &&
	    ruleset_save(&d->rules, d->rules_path, err, errlen) < 0)
		return -1;
	/* Prompts that the rules now answer are answered at once ... */
	engine_rules_changed(d);
	/* ... and connections decided under the old rules are decided
	 * again: each one's next packet comes back to us, and the engine
	 * knows it by its conntrack id (no prompt for it). */
	d->st.resets++;
	for (int i = 0; d->be && d->be->reset && i < d->nns; i++) {
		int n;

		d->ns[i]->clear_gen++;
		n = d->be->reset(d, d->ns[i]);

		if (n > 0)
			d->st.reset_entries += (uint64_t)n;
	}
	pmd_flush(d);
	return 0;
}

int pmd_reload(struct pmd *d, char *err, size_t errlen)
{
	struct ruleset fresh;
	uint32_t scratch = 1;

	if (ruleset_load_dirs(&fresh, d->rules_path, d->rules_dir[0] ? d->rules_dir : NULL,
			      d->cfg.preset_list, &scratch, err, errlen) < 0)
		return -1;
	/* Lines the file still has keep their ids and places; rules that
	 * live only in memory (once, for, until-restart) stay where they
	 * are. */
	if (ruleset_merge_reload(&d->rules, &fresh, &d->next_rule_id) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->def = d->rules.have_default ? d->rules.def : d->cfg.def;
	crit_load_resolv_conf("/etc/resolv.conf");
	pm_info("reloaded %zu rules from %s and %s; default %s", d->rules.n, d->rules_path,
		d->rules_dir,
		action_name(d->def));
	if (dns_reload(d, err, errlen) < 0)
		pm_err("resolver: %s; keeping the blocklists loaded before", err);
	return pmd_rules_changed(d, false, err, errlen);
}

void pmd_flush(struct pmd *d)
{
	for (int i = 0; d->be && d->be->flush && i < d->nns; i++)
		d->be->flush(d, d->ns[i]);
}

int pmd_enter(struct pmd *d, struct pm_ns *ns)
{
	struct pm_ns *to = ns ? ns : d->ns[0];

	if (!to || to->fd < 0)
		return 0;
	return setns(to->fd, CLONE_NEWNET) < 0 ? -errno : 0;
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
