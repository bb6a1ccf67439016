/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_DAEMON_H
#define PM_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include "intercept/backend.h"
#include "config.h"
#include "decide/engine.h"
#include "decide/rules.h"

struct attrib;
struct control;
struct events;
struct history;
struct ctacct;
struct ui;
struct dns;
struct watch;

struct stats {
	uint64_t packets;		/* queued packets or kernel events */
	uint64_t verdicts[100];		/* by mark - 1700 */
	uint64_t prompts, timeouts, unparsable, icmp_errors;
	uint64_t remembered;	/* flows the module decided by itself */
	uint64_t held_overflow, pending_full;
	uint64_t attrib_ok, attrib_fail, attrib_ns;
	uint64_t overruns, resets, reset_entries;
	uint64_t ctl_errors;
};

struct pmd {
	struct config cfg;
	char rules_path[PATH_MAX];
	struct ruleset rules;
	uint32_t next_rule_id;
	enum action def;
	const struct backend_ops *be;
	void *be_priv;
	struct flowtab ft;
	struct stats st;
	struct attrib *attrib;
	struct control *ctl;	/* the control socket, while open */
	struct events *events;	/* the event bus; NULL: nobody listens */
	struct history *hist;	/* NULL: history off or failed to start */
	struct ctacct *ctacct;	/* conntrack totals for the history */
	struct ui *ui;		/* the web UI's process, while it runs */
	struct dns *dns;	/* the resolver, while on (dns/dns.h) */
	/* module mode: the module took the resolver's address and DNATs
	 * 1799 itself (PM_CONFIG_A_REROUTE_DNS); the fallback's NAT rule
	 * always does */
	bool kmod_reroutes_dns;
	uint64_t started_ms;
	int epfd;
	struct watch *watches;	/* indexed by fd; see pmd_watch() */
	int nwatches;
	bool quit;
	bool no_persist;	/* fuzzing and tests: never write files */
};

/* Event loop registration: cb(d, fd, events, arg) when fd is ready. */
typedef void (*watch_cb)(struct pmd *d, int fd, uint32_t events, void *arg);
int pmd_watch(struct pmd *d, int fd, uint32_t events, watch_cb cb, void *arg);
void pmd_unwatch(struct pmd *d, int fd);
/* Runs the callback registered for fd. */
void pmd_dispatch(struct pmd *d, int fd, uint32_t events);
void pmd_watch_free(struct pmd *d);

/* After any change of rules or default: persist and reset connections. */
int pmd_rules_changed(struct pmd *d, bool persist, char *err, size_t errlen);
/* SIGHUP: reread the rules file; keep the current rules on error. */
int pmd_reload(struct pmd *d, char *err, size_t errlen);

#endif
