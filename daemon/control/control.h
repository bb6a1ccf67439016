/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <stddef.h>

struct pmd;

/*
 * Creates the control socket: mode 0660, owner root, group "portmaster"
 * (0600 when that group does not exist).  Refuses when a live daemon
 * already answers on it.
 */
int control_open(struct pmd *d, const char *path, char *err, size_t errlen);
void control_close(struct pmd *d);

#endif
