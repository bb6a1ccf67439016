/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fallback's answer to a rule change: clear the kept verdict marks
 * (1710 ... 1799) of every conntrack entry of a namespace, so that each
 * connection's next packet is queued and decided again (the engine knows
 * it by its conntrack id and asks nobody).  Done in the event loop but in
 * pieces: one receive of the dump at a time, the updates sent in batches,
 * their errors read apart, so verdicts keep flowing meanwhile.
 */
#ifndef PM_CT_H
#define PM_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pmd;
struct ct_reset;
struct mnl_socket;

/* Asks for a dump of conntrack's table in the socket's namespace (both
 * the reset and the history's live traffic read one); -errno on error. */
int ct_dump_request(struct mnl_socket *nl, uint32_t seq);

/* Opens the sockets in the calling thread's namespace and watches them. */
struct ct_reset *ct_reset_open(struct pmd *d, char *err, size_t errlen);
void ct_reset_close(struct pmd *d, struct ct_reset *c);
/* Starts a pass; one running already is followed by another. */
int ct_reset_start(struct ct_reset *c);
bool ct_reset_busy(const struct ct_reset *c);
/* Entries cleared and passes completed so far. */
uint64_t ct_reset_cleared(const struct ct_reset *c);
uint64_t ct_reset_passes(const struct ct_reset *c);
/* How long the last pass took, in milliseconds. */
uint64_t ct_reset_last_ms(const struct ct_reset *c);

#endif
