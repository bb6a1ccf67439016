/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_PACKET_H
#define PM_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include "decide/flow.h"

/*
 * Reads the IP and transport headers of a queued packet into f: the key
 * normalised to the local side (pkt_dir tells which side that is), and
 * f->dir set to the direction of the flow the packet most likely opens
 * (a SYN-ACK or an echo reply belongs to a flow of the other direction).
 * Returns 0, or -1 when the headers are truncated or malformed: the
 * caller must still give the packet a verdict.
 */
int packet_parse(const uint8_t *p, size_t len, uint8_t pkt_dir, struct flow_info *f);

#endif
