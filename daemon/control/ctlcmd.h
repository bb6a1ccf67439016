/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CTLCMD_H
#define PM_CTLCMD_H

#include <stdbool.h>
#include <sys/types.h>
#include "control/proto.h"

struct pmd;

/* Credentials as the kernel gave them when the client connected
 * (SO_PEERCRED, SO_PEERGROUPS); never looked up again later. */
struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool admin;	/* root or a member of group portmaster */
	bool ui;	/* the web UI's own connection (see ui/) */
	uint64_t handle;	/* the client, for control_defer()/control_stream() */
};

/* Handles one request line (without newline, modified in place) and
 * appends the whole reply to out.  Never fails: errors are replies. */
void ctl_handle(struct pmd *d, const struct peer *p, char *line, struct buf *out);

/* The commands for seeing (ctl_views.c): history, monitor, ui-login,
 * ui-redeem.  Returns false when req is none of them. */
bool ctl_views_handle(struct pmd *d, const struct peer *p, const struct proto_req *req,
		      struct buf *out);
/* The commands on rules files (ctl_rules.c): preset, rule-export,
 * rule-import, apps.  Returns false when req is none of them. */
bool ctl_rules_handle(struct pmd *d, const struct peer *p, const struct proto_req *req,
		      struct buf *out);
/* One "error CODE MESSAGE" reply line. */
void ctl_reply_err(struct buf *out, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
