/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DNS over TLS to the upstreams.  Debian builds libunbound with nettle,
 * without TLS, so it cannot speak DoT itself: it forwards over TCP to this
 * bridge on loopback instead, which carries each TCP connection over TLS
 * (GnuTLS, the certificate checked against tls_ca or the system's CAs and
 * the upstream's name) to the first upstream that answers.  The bridge
 * only moves bytes: DNS's TCP framing is the same inside TLS (RFC 7858),
 * so nothing here reads a DNS message, and libunbound still caches.
 */
#ifndef PM_DNS_DOT_H
#define PM_DNS_DOT_H

#include <stdint.h>
#include "dns/dnsconf.h"

struct dot;

/* Listens on 127.0.0.1 (a port the kernel picks: *port) and serves every
 * connection in a thread of its own, at most DOT_MAX_CONNS at once. */
struct dot *dot_start(const struct dns_upstream *ups, int n, const char *ca_file,
		      uint16_t *port, char *err, size_t errlen);
void dot_stop(struct dot *t);

#define DOT_MAX_CONNS 16

#endif
