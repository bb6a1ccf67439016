/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <stddef.h>

struct pmd;

#include <stdint.h>

/*
 * Creates the control socket: mode 0666, owner root, group "portmaster".
 * Anyone may connect; what a client may do is decided from the
 * credentials it connected with (see portmasterd(8), PERMISSIONS).
 * Refuses when a live daemon already answers on it.
 */
int control_open(struct pmd *d, const char *path, char *err, size_t errlen);
void control_close(struct pmd *d);
/* Closes clients idle for longer than client_timeout. */
void control_tick(struct pmd *d, uint64_t now);

#endif
