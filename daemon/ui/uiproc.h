/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The web UI from the daemon's side.  The UI is a process of its own
 * (portmaster-ui) that the daemon starts and restarts: the daemon binds
 * its loopback port (817 needs a privilege the UI does not keep), gives
 * it two control connections (requests, and an event stream), and starts
 * it as nobody with no capabilities, in the daemon's network namespace.
 * HTTP from any local process and any web page reaches that process
 * only; what it can do is what the control protocol lets it.
 *
 * Logins: "pmctl ui" asks for a one-time URL (ui-login), the UI redeems
 * its token once (ui-redeem) and gives the browser a session cookie.
 */
#ifndef PM_UIPROC_H
#define PM_UIPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd;

/* Starts the UI when the configuration has one; errors are logged. */
void ui_start(struct pmd *d);
void ui_stop(struct pmd *d);
/* Timer: restarts a UI process that died. */
void ui_tick(struct pmd *d, uint64_t now_ms);

/* A one-time login URL, valid for a short while; -1 when the UI is off. */
int ui_login_url(struct pmd *d, bool admin, char *url, size_t len);
/* Consumes a token: 0 with *admin, or -1 (unknown, used or expired). */
int ui_redeem(struct pmd *d, const char *token, bool *admin);

#endif
