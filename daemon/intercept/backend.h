/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a mode (fallback NFQUEUE, or the kernel module) provides to the
 * shared engine: rules, prompts, attribution and the control socket are
 * the same for both.
 */
#ifndef PM_BACKEND_H
#define PM_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "control/proto.h"

struct pmd;
struct flow_entry;
struct pm_ns;

struct backend_ops {
	const char *name;	/* "nfqueue" or "kmod" */
	/*
	 * Give "block" to a packet that creates its conntrack entry as 1701,
	 * not 1711: REJECT drops that packet before conntrack confirms the
	 * entry, so the mark could not stay anyway, and with 1711 saved the
	 * ICMP error that REJECT sends back is related to the entry, gets
	 * 1711 restored and is rejected itself: the socket would wait for
	 * a timeout instead of failing at once.
	 */
	bool block_new_once;
	/* Sets up interception in ns (the thread runs inside it); registers
	 * its fds with pmd_watch(). */
	int (*start)(struct pmd *d, struct pm_ns *ns, char *err, size_t errlen);
	/* Undoes start: removes every rule it installed in ns. */
	void (*stop)(struct pmd *d, struct pm_ns *ns);
	/* Gives one held packet (or kernel flow) its verdict mark; queued
	 * until flush. */
	int (*verdict)(struct pmd *d, struct pm_ns *ns, uint16_t queue, uint64_t id,
		       uint32_t mark);
	/*
	 * The same, and asks that new flows like it (same program, user,
	 * direction, protocol, peer and port) get the same permanent mark
	 * without asking, for ms milliseconds; may be NULL.
	 */
	int (*verdict_remember)(struct pmd *d, struct pm_ns *ns, uint64_t id, uint32_t mark,
				uint32_t ms);
	/* Tells the sender of a blocked packet (headers first) that it was
	 * refused, when the mode must do that itself; may be NULL. */
	void (*reject)(struct pmd *d, struct pm_ns *ns, const uint8_t *pkt, size_t len,
		       uint32_t ifindex);
	/* Sends the verdicts queued in ns. */
	void (*flush)(struct pmd *d, struct pm_ns *ns);
	/* Makes every decided connection in ns be decided again, without
	 * stalling the loop; returns how many entries it cleared (or will). */
	int (*reset)(struct pmd *d, struct pm_ns *ns);
	/* Called every tick of the event loop; may be NULL. */
	void (*tick)(struct pmd *d, struct pm_ns *ns, uint64_t now_ms);
	/* Adds mode-specific counters to a status record. */
	void (*stats)(struct pmd *d, struct pm_ns *ns, struct buf *rec);
};

extern const struct backend_ops nfq_backend;
extern const struct backend_ops kmod_backend;

/* Does the generic netlink family resolve (which loads the module)? */
int kmod_available(void);

#endif
