// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream side: a libunbound context that forwards every name to the
 * configured nameservers (or the system's), over TLS when asked, and
 * caches.  Never to ourselves: our own listen addresses are left out of
 * resolv.conf's list, and when that names only systemd-resolved's stub,
 * whose upstream we may be, resolved's own list is read instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unbound.h>
#include "common/log.h"
#include "common/util.h"
#include "daemon.h"
#include "dns/dot.h"
#include "dns/internal.h"

#define RESOLVED_UPSTREAMS "/run/systemd/resolve/resolv.conf"

static bool is_self(const struct dns_config *c, const struct dns_addr *a)
{
	size_t alen = a->family == AF_INET6 ? 16 : 4;
	static const uint8_t any[16];

	if (!memcmp(a->addr, any, alen))
		return true;	/* 0.0.0.0 or ::, which would be us too */
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].family == a->family && c->listen[i].port == a->port &&
		    !memcmp(c->listen[i].addr, a->addr, alen))
			return true;
	return false;
}

static bool is_resolved_stub(const struct dns_addr *a)
{
	return a->family == AF_INET && a->addr[0] == 127 && a->addr[1] == 0 && a->addr[2] == 0 &&
	       (a->addr[3] == 53 || a->addr[3] == 54);
}

/* The nameserver lines of a resolv.conf, without ourselves. */
static int read_resolv(const struct dns_config *c, const char *path, struct dns_upstream *out,
		       int max, bool skip_stub)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *save = NULL, *k = strtok_r(line, " \t\r\n", &save);
		char *v = strtok_r(NULL, " \t\r\n", &save);
		struct dns_upstream u;

		if (!k || !v || strcmp(k, "nameserver"))
			continue;
		memset(&u, 0, sizeof(u));
		/* resolv.conf may carry a zone id (fe80::1%eth0): not for us */
		if (strchr(v, '%') || dns_parse_addr(v, 53, &u.a) < 0)
			continue;
		if (is_self(c, &u.a) || (skip_stub && is_resolved_stub(&u.a)))
			continue;
		out[n++] = u;
	}
	fclose(f);
	return n;
}

static int system_upstreams(const struct dns_config *c, struct dns_upstream *out, int max)
{
	int n = read_resolv(c, c->resolv_conf, out, max, false), stubs = 0;

	for (int i = 0; i < n; i++)
		stubs += is_resolved_stub(&out[i].a);
	if (n && stubs == n) {
		/* systemd-resolved's stub: use its upstreams directly, so that
		 * we never ask it when it asks us (see README) */
		struct dns_upstream r[DNS_MAX_UPSTREAMS];
		int m = read_resolv(c, RESOLVED_UPSTREAMS, r, DNS_MAX_UPSTREAMS, true);

		if (m > 0) {
			memcpy(out, r, sizeof(r[0]) * (size_t)(m < max ? m : max));
			n = m < max ? m : max;
		}
	}
	return n;
}

static void fwd_str(const struct dns_upstream *u, char *s, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(u->a.family, u->a.addr, a, sizeof(a));
	if (u->tls && u->tls_name[0])
		snprintf(s, len, "%s@%u#%s", a, u->a.port, u->tls_name);
	else
		snprintf(s, len, "%s@%u", a, u->a.port);
}

int upstream_setup(struct dns *n, char *err, size_t errlen)
{
	const struct dns_config *c = &n->d->cfg.dns;
	struct dns_upstream ups[DNS_MAX_UPSTREAMS];
	int nups = c->nupstream, fd, r;
	bool tls = false;
	FILE *f;
	char path[64], fwd[320];

	for (int i = 0; i < nups; i++) {
		if (is_self(c, &c->upstream[i].a)) {
			snprintf(err, errlen, "upstream %d is the resolver itself (a loop)", i + 1);
			return -1;
		}
	}
	if (nups)
		memcpy(ups, c->upstream, sizeof(ups[0]) * (size_t)nups);
	else
		nups = system_upstreams(c, ups, DNS_MAX_UPSTREAMS);
	if (!nups) {
		/* libunbound would recurse from the root by itself: rather
		 * say plainly that nothing can be resolved */
		pm_warn("resolver: no upstream nameserver (set upstream = ...); answering SERVFAIL");
		snprintf(n->upstreams, sizeof(n->upstreams), "none");
		n->ubfd = -1;
		return 0;
	}
	n->ub = ub_ctx_create();
	if (!n->ub) {
		snprintf(err, errlen, "libunbound: cannot create a context");
		return -1;
	}
	/* One configuration text, as unbound.conf(5) has it: forwarding with
	 * a TLS name is only expressible there (ub_ctx_set_fwd has no #NAME). */
	fd = memfd_create("portmasterd-unbound.conf", MFD_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "w+") : NULL;
	if (!f) {
		snprintf(err, errlen, "libunbound configuration: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "server:\n"
		"  verbosity: 0\n"
		/* upstreams on loopback (systemd-resolved, a local unbound) are
		 * fine: we have left ourselves out */
		"  do-not-query-localhost: no\n"
		/* no DNSSEC validation without a trust anchor the user chose;
		 * answers go to programs as the upstream gave them */
		"  module-config: \"iterator\"\n"
		"  prefetch: yes\n"
		/* A forwarder passes on what the network's own servers answer:
		 * names of the LAN (home.arpa, reverse zones of private ranges)
		 * and test names; onion and invalid stay refused. */
		"  unblock-lan-zones: yes\n"
		"  insecure-lan-zones: yes\n"
		"  local-zone: \"home.arpa.\" nodefault\n"
		"  local-zone: \"test.\" nodefault\n"
		"  edns-buffer-size: 1232\n");
	for (int i = 0; i < nups; i++)
		tls |= ups[i].tls;
	if (tls) {
		/* over TCP to our TLS bridge, which carries it to the upstreams */
		uint16_t port;

		n->dot = dot_start(ups, nups, c->tls_ca[0] ? c->tls_ca : NULL, &port, err, errlen);
		if (!n->dot) {
			fclose(f);
			return -1;
		}
		fprintf(f, "  tcp-upstream: yes\n");
		fprintf(f, "forward-zone:\n  name: \".\"\n  forward-addr: 127.0.0.1@%u\n", port);
	} else {
		fprintf(f, "forward-zone:\n  name: \".\"\n");
	}
	n->upstreams[0] = 0;
	for (int i = 0; i < nups; i++) {
		fwd_str(&ups[i], fwd, sizeof(fwd));
		if (!tls)
			fprintf(f, "  forward-addr: %s\n", fwd);
		if (strlen(n->upstreams) + strlen(fwd) + 8 < sizeof(n->upstreams))
			snprintf(n->upstreams + strlen(n->upstreams),
				 sizeof(n->upstreams) - strlen(n->upstreams), "%s%s%s",
				 i ? "," : "", ups[i].tls ? "tls:" : "", fwd);
	}
	fflush(f);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = ub_ctx_config(n->ub, path);
	fclose(f);
	if (r != 0) {
		snprintf(err, errlen, "libunbound configuration: %s", ub_strerror(r));
		return -1;
	}
	/* a thread, not a process: its sockets are ours (getpid()), which is
	 * how the engine knows our upstream traffic */
	r = ub_ctx_async(n->ub, 1);
	if (r != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
		return -1;
	}
	n->ubfd = ub_fd(n->ub);
	if (n->ubfd < 0) {
		snprintf(err, errlen, "libunbound: no file descriptor to wait on");
		return -1;
	}
	return 0;
}
