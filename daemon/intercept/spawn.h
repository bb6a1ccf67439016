/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_SPAWN_H
#define PM_SPAWN_H

#include "control/proto.h"

/*
 * Runs argv[0] (searched in PATH, then /usr/sbin and /sbin) with input on
 * its stdin, collecting stdout into out (may be NULL) and stderr into err.
 * Returns the exit status, or -1 when it could not run (err says why).
 */
int spawn_run(char *const argv[], const char *input, struct buf *out, struct buf *err);
/* Is the program found? */
int spawn_exists(const char *prog);

#endif
