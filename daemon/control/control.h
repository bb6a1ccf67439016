/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd;

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

/*
 * For commands that answer later (a history query): the client's next
 * requests wait until control_complete() delivers the reply, which is
 * dropped when the client has gone meanwhile.  handle is peer->handle.
 */
void control_defer(struct pmd *d, uint64_t handle);
void control_complete(struct pmd *d, uint64_t handle, const char *reply, size_t len);
/* Makes the client a stream of the events in mask (after its reply):
 * it sends no more requests, and a stream that is not read loses events
 * (counted, and told with a "lost" record) rather than hold the daemon. */
int control_stream(struct pmd *d, uint64_t handle, uint32_t mask);
/* Does any stream want events of this mask? */
bool control_wants(struct pmd *d, uint32_t mask);
/* For the web UI (ui/): a connected client that is trusted as the UI. */
int control_adopt(struct pmd *d, int fd, bool ui);

#endif
