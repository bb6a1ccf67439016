/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_REJECT_H
#define PM_REJECT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Why the fallback sends its own ICMP rejects: the seed's REJECT rule does
 * send "host prohibited" for a blocked new connection, but that ICMP error
 * is attached to the connection's conntrack entry, which is not confirmed
 * yet; the kernel refuses to queue a packet of an unconfirmed entry that
 * another packet still holds (nfnetlink_queue), so the error meets the
 * NFQUEUE rule of C170, is freed, and the blocked socket waits for its
 * timeout.  We send the same error from a raw socket marked 1700 (accept
 * this packet): it carries no conntrack entry and passes C17.
 */
struct rejecter;

struct rejecter *reject_open(void);
void reject_close(struct rejecter *r);
/* Builds the error for the packet (IPv4 or IPv6 header first) and sends
 * it to the packet's source (ifindex: the interface, for link-local
 * addresses).  Returns 0 or a negative errno. */
int reject_send(struct rejecter *r, const uint8_t *pkt, size_t len, uint32_t ifindex);
/* Exposed for the tests: the ICMP message (header and quote) for pkt. */
int reject_build(const uint8_t *pkt, size_t len, uint8_t *out, size_t outlen,
		 int *family, uint8_t dst[16]);

#endif
