/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Programs as a view (pmctl apps): per program, the connections allowed
 * and blocked, when it was last seen, and the rules that name it.  A
 * program is its systemd service where it runs as one (the unit says
 * more than /usr/bin/python3), else its executable.  Bounded: the least
 * recently seen program makes room for a new one.
 */
#ifndef PM_APPS_H
#define PM_APPS_H

#include <stdint.h>
#include "decide/flow.h"

struct pmd;
struct apps;
struct proto_req;
struct buf;

#define APPS_MAX 1024

struct apps *apps_new(void);
void apps_free(struct apps *a);
/* A flow was decided with this mark (allowed, or blocked and dropped). */
void apps_note(struct apps *a, const struct flow_info *f, uint32_t mark);
/* "apps" [name=EXE|UNIT]: the list, or one program and its rules. */
void apps_reply(struct pmd *d, const struct proto_req *req, struct buf *out);

#endif
