/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conntrack's accounting: turns on nf_conntrack_acct in every network
 * namespace the daemon watches and listens there for conntrack's destroy
 * events (each one's ends carry its inode number), which
 * carry the totals (bytes and packets each way) of every connection as it
 * is forgotten (the history's end of a flow); while someone watches live
 * traffic (pmctl top, the web UI), dumps the counters each second.  The
 * same in both modes.
 */
#ifndef PM_CTACCT_H
#define PM_CTACCT_H

#include <stddef.h>
#include <stdint.h>
#include "control/proto.h"

struct pmd;
struct ctacct;

/* After the namespaces are opened: one that fails is reported and
 * skipped; NULL (and err) when none can be listened to. */
struct ctacct *ctacct_start(struct pmd *d, const char *proc_root, char *err, size_t errlen);
void ctacct_stop(struct pmd *d, struct ctacct *c);
void ctacct_stats(struct ctacct *c, struct buf *rec);
/* Timer: a dump of conntrack's counters each second while a monitor
 * stream asks for traffic events. */
void ctacct_tick(struct pmd *d, struct ctacct *c, uint64_t now);

/* One destroy event, parsed (for the tests). */
struct ct_end;
int ctacct_parse(const void *nlmsg, size_t len, struct ct_end *e);

#endif
