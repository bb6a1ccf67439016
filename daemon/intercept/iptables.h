/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_IPTABLES_H
#define PM_IPTABLES_H

#include <stdbool.h>
#include "config.h"
#include "control/proto.h"

/* auto: whichever backend the "iptables" command is (iptables -V). */
int ipt_resolve_backend(enum ipt_backend want, enum ipt_backend *out, char *err, size_t errlen);
const char *ipt_backend_name(enum ipt_backend b);

/* The seed's rules as an iptables-restore --noflush script; nat_only:
 * only the DNAT rules of the reroutes (empty when none is set). */
void ipt_install_script(struct buf *b, int family, const struct config *c, bool nat_only);
/*
 * From iptables-save output, the script that removes every Portmaster rule
 * and chain in it: jumps to C170/C171/C17, the 1799/1717 DNAT rules in nat
 * OUTPUT, and the chains.  Empty when there is nothing to remove.
 */
void ipt_cleanup_script(struct buf *b, const char *save_output);

/* Removes stale rules (both backends), then installs for v4 and, when the
 * host has IPv6, v6 (nat_only as for ipt_install_script). */
int ipt_install(enum ipt_backend be, const struct config *c, bool nat_only, bool *have_v6,
		char *err, size_t errlen);
/* Removes what a crashed run of either backend left behind. */
void ipt_remove_stale(bool have_v6);
bool ipt_have_ipv6(void);
/* Removes every Portmaster rule of the backend; returns -1 if one remains. */
int ipt_remove(enum ipt_backend be, char *err, size_t errlen);

#endif
