// SPDX-License-Identifier: GPL-2.0
/*
 * The fallback's iptables rules, exactly as Portmaster's seed describes
 * them, installed and removed atomically per table with
 * ip(6)tables-restore --noflush.  Removal works from what iptables-save
 * shows, so a crashed run's leftovers are found even if they are partial.
 */
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "intercept/iptables.h"
#include "common/log.h"
#include "intercept/spawn.h"
#include "common/util.h"

const char *ipt_backend_name(enum ipt_backend b)
{
	return b == IPT_LEGACY ? "legacy" : b == IPT_NFT ? "nft" : "auto";
}

int ipt_resolve_backend(enum ipt_backend want, enum ipt_backend *out, char *err, size_t errlen)
{
	char *argv[] = { "iptables", "-V", NULL };
	struct buf o, e;
	int r;

	if (want != IPT_AUTO) {
		*out = want;
		return 0;
	}
	buf_init(&o);
	buf_init(&e);
	r = spawn_run(argv, NULL, &o, &e);
	if (r != 0) {
		snprintf(err, errlen, "iptables -V: %s", e.p ? e.p : "failed");
		buf_free(&o);
		buf_free(&e);
		return -1;
	}
	*out = (o.p && strstr(o.p, "legacy")) ? IPT_LEGACY : IPT_NFT;
	buf_free(&o);
	buf_free(&e);
	return 0;
}

static void tool(char *dst, size_t len, enum ipt_backend be, int family, const char *what)
{
	const char *base = family == AF_INET6 ? "ip6tables" : "iptables";

	snprintf(dst, len, "%s-%s-%s", base, be == IPT_LEGACY ? "legacy" : "nft", what);
	if (!spawn_exists(dst))
		snprintf(dst, len, "%s-%s", base, what);
}

static void endpoint_str(const struct endpoint *e, bool with_port, char *buf, size_t len)
{
	char a[64];

	addr_str(e->family, e->addr, a, sizeof(a));
	if (!with_port || !e->port)
		snprintf(buf, len, "%s", a);
	else if (e->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
}

/* The 1799 and 1717 DNAT rules in nat OUTPUT, when their targets are set. */
static void nat_script(struct buf *b, int family, const struct config *c, bool nat_only)
{
	const struct endpoint *ns = family == AF_INET6 ? &c->nameserver6 : &c->nameserver;
	const struct endpoint *tun = family == AF_INET6 ? &c->tunnel6 : &c->tunnel;
	char ep[80];
	int pos = 1;

	/* The seed always has the 1799 rule; alone (module mode) it is
	 * there only when DNS is rerouted. */
	if (nat_only && !c->reroute_dns)
		ns = NULL;
	if (!(ns && ns->set) && !tun->set)
		return;
	buf_addf(b, "*nat\n");
	if (ns && ns->set) {
		endpoint_str(ns, true, ep, sizeof(ep));
		buf_addf(b, "-I OUTPUT %d -p udp --dport 53 -m mark --mark %d -j DNAT --to-destination %s\n",
			 pos++, PM_MARK_REROUTE_DNS, ep);
		/* The seed reroutes UDP only; a query over TCP (a long answer,
		 * or a client that prefers it) must not slip past either. */
		buf_addf(b, "-I OUTPUT %d -p tcp --dport 53 -m mark --mark %d -j DNAT --to-destination %s\n",
			 pos++, PM_MARK_REROUTE_DNS, ep);
	}
	if (tun->set) {
		endpoint_str(tun, true, ep, sizeof(ep));
		buf_addf(b, "-I OUTPUT %d -m mark --mark %d -p tcp -j DNAT --to-destination %s\n",
			 pos++, PM_MARK_REROUTE_TUNNEL, ep);
		buf_addf(b, "-I OUTPUT %d -m mark --mark %d -p udp -j DNAT --to-destination %s\n",
			 pos++, PM_MARK_REROUTE_TUNNEL, ep);
		endpoint_str(tun, false, ep, sizeof(ep));
		buf_addf(b, "-I OUTPUT %d -m mark --mark %d -j DNAT --to-destination %s\n",
			 pos++, PM_MARK_REROUTE_TUNNEL, ep);
	}
	buf_addf(b, "COMMIT\n");
}

void ipt_install_script(struct buf *b, int family, const struct config *c, bool nat_only)
{
	const char *rej = family == AF_INET6 ? "icmp6-adm-prohibited" : "icmp-host-prohibited";
	unsigned int qout = family == AF_INET6 ? PM_QUEUE_OUT_V6 : PM_QUEUE_OUT_V4;
	unsigned int qin = family == AF_INET6 ? PM_QUEUE_IN_V6 : PM_QUEUE_IN_V4;

	if (nat_only) {
		nat_script(b, family, c, true);
		return;
	}
	buf_addf(b, "*mangle\n:%s - [0:0]\n:%s - [0:0]\n", PM_CHAIN_MANGLE_OUT, PM_CHAIN_MANGLE_IN);
	buf_addf(b, "-A %s -j CONNMARK --restore-mark\n", PM_CHAIN_MANGLE_OUT);
	buf_addf(b, "-A %s -m mark --mark 0 -j NFQUEUE --queue-num %u --queue-bypass\n",
		 PM_CHAIN_MANGLE_OUT, qout);
	buf_addf(b, "-A %s -j CONNMARK --restore-mark\n", PM_CHAIN_MANGLE_IN);
	buf_addf(b, "-A %s -m mark --mark 0 -j NFQUEUE --queue-num %u --queue-bypass\n",
		 PM_CHAIN_MANGLE_IN, qin);
	buf_addf(b, "-I OUTPUT 1 -j %s\n-I INPUT 1 -j %s\nCOMMIT\n",
		 PM_CHAIN_MANGLE_OUT, PM_CHAIN_MANGLE_IN);

	buf_addf(b, "*filter\n:%s - [0:0]\n", PM_CHAIN_FILTER);
	/* Unmarked here means nobody read the queue (--queue-bypass): the
	 * daemon is gone.  The seed drops (fail closed); fail_policy = open
	 * lets such packets on to the rest of the filter table instead. */
	buf_addf(b, "-A %s -m mark --mark %d -j %s\n", PM_CHAIN_FILTER, PM_MARK_UNDECIDED,
		 c->fail_policy == FAIL_OPEN ? "RETURN" : "DROP");
	buf_addf(b, "-A %s -m mark --mark %d -j ACCEPT\n", PM_CHAIN_FILTER, PM_MARK_ACCEPT);
	buf_addf(b, "-A %s -m mark --mark %d -j REJECT --reject-with %s\n", PM_CHAIN_FILTER,
		 PM_MARK_BLOCK, rej);
	buf_addf(b, "-A %s -m mark --mark %d -j DROP\n", PM_CHAIN_FILTER, PM_MARK_DROP);
	buf_addf(b, "-A %s -j CONNMARK --save-mark\n", PM_CHAIN_FILTER);
	buf_addf(b, "-A %s -m mark --mark %d -j ACCEPT\n", PM_CHAIN_FILTER, PM_MARK_ACCEPT_ALWAYS);
	buf_addf(b, "-A %s -m mark --mark %d -j REJECT --reject-with %s\n", PM_CHAIN_FILTER,
		 PM_MARK_BLOCK_ALWAYS, rej);
	buf_addf(b, "-A %s -m mark --mark %d -j DROP\n", PM_CHAIN_FILTER, PM_MARK_DROP_ALWAYS);
	buf_addf(b, "-A %s -m mark --mark %d -j ACCEPT\n", PM_CHAIN_FILTER, PM_MARK_REROUTE_TUNNEL);
	buf_addf(b, "-I OUTPUT 1 -j %s\n-I INPUT 1 -j %s\nCOMMIT\n",
		 PM_CHAIN_FILTER, PM_CHAIN_FILTER);

	nat_script(b, family, c, false);
}

static bool is_our_chain(const char *name, size_t len)
{
	static const char *const chains[] = { PM_CHAIN_MANGLE_OUT, PM_CHAIN_MANGLE_IN,
					      PM_CHAIN_FILTER };

	for (size_t i = 0; i < ARRAY_SIZE(chains); i++)
		if (strlen(chains[i]) == len && !memcmp(name, chains[i], len))
			return true;
	return false;
}

static bool ends_with_jump_to_ours(const char *line)
{
	const char *j = strstr(line, " -j ");

	if (!j)
		return false;
	j += 4;
	return is_our_chain(j, strcspn(j, " "));
}

static bool is_our_nat_rule(const char *line)
{
	char m1799[32], m1717[32];

	snprintf(m1799, sizeof(m1799), "--mark 0x%x ", PM_MARK_REROUTE_DNS);
	snprintf(m1717, sizeof(m1717), "--mark 0x%x ", PM_MARK_REROUTE_TUNNEL);
	return !strncmp(line, "-A OUTPUT ", 10) && strstr(line, " -j DNAT") &&
	       (strstr(line, m1799) || strstr(line, m1717));
}

void ipt_cleanup_script(struct buf *b, const char *save)
{
	char table[32] = "";
	struct buf dels, chains;
	const char *p = save;

	buf_init(&dels);
	buf_init(&chains);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096];

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		if (line[0] == '*') {
			snprintf(table, sizeof(table), "%.31s", line + 1);
			continue;
		}
		if (!strcmp(line, "COMMIT")) {
			if (dels.len || chains.len) {
				buf_addf(b, "*%s\n", table);
				if (dels.p)
					buf_add(b, dels.p, dels.len);
				if (chains.p)
					buf_add(b, chains.p, chains.len);
				buf_addf(b, "COMMIT\n");
			}
			buf_free(&dels);
			buf_free(&chains);
			continue;
		}
		if (line[0] == ':') {
			size_t len = strcspn(line + 1, " ");

			if (is_our_chain(line + 1, len))
				buf_addf(&chains, "-F %.*s\n-X %.*s\n", (int)len, line + 1,
					 (int)len, line + 1);
			continue;
		}
		if (strncmp(line, "-A ", 3))
			continue;
		{
			size_t clen = strcspn(line + 3, " ");

			/* Rules inside our own chains go with the chain. */
			if (is_our_chain(line + 3, clen))
				continue;
		}
		if (ends_with_jump_to_ours(line) ||
		    (!strcmp(table, "nat") && is_our_nat_rule(line)))
			buf_addf(&dels, "-D %s\n", line + 3);
	}
	buf_free(&dels);
	buf_free(&chains);
}

static bool have_ipv6(void)
{
	return access("/proc/net/if_inet6", F_OK) == 0;
}

/* Is anything of this backend loaded in our netns?  Listing the legacy
 * tables would otherwise create them. */
static bool backend_present(enum ipt_backend be, int family)
{
	FILE *f;
	int c;

	if (be != IPT_LEGACY)
		return true;
	f = fopen(family == AF_INET6 ? "/proc/net/ip6_tables_names" : "/proc/net/ip_tables_names", "re");
	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	return c != EOF;
}

static int restore(enum ipt_backend be, int family, const char *script, char *err, size_t errlen)
{
	char prog[64];
	char *argv[] = { prog, "--noflush", "-w", NULL };
	struct buf e;
	int r;

	tool(prog, sizeof(prog), be, family, "restore");
	buf_init(&e);
	r = spawn_run(argv, script, NULL, &e);
	if (r != 0) {
		snprintf(err, errlen, "%s --noflush failed: %s", prog, e.p ? e.p : "(no message)");
		buf_free(&e);
		return -1;
	}
	buf_free(&e);
	return 0;
}

static int cleanup_one(enum ipt_backend be, int family, bool *removed, char *err, size_t errlen)
{
	char prog[64];
	char *argv[] = { prog, NULL };
	struct buf o, e, s;
	int r = 0;

	*removed = false;
	if (!backend_present(be, family))
		return 0;
	tool(prog, sizeof(prog), be, family, "save");
	if (!spawn_exists(prog))
		return 0;
	buf_init(&o);
	buf_init(&e);
	buf_init(&s);
	if (spawn_run(argv, NULL, &o, &e) != 0) {
		snprintf(err, errlen, "%s failed: %s", prog, e.p ? e.p : "(no message)");
		r = -1;
		goto out;
	}
	ipt_cleanup_script(&s, o.p);
	if (s.len) {
		*removed = true;
		r = restore(be, family, s.p, err, errlen);
	}
out:
	buf_free(&o);
	buf_free(&e);
	buf_free(&s);
	return r;
}

void ipt_remove_stale(bool have_v6)
{
	static const enum ipt_backend all[] = { IPT_NFT, IPT_LEGACY };
	int families[2] = { AF_INET, AF_INET6 };

	/* A crashed run, with either backend, may have left rules behind. */
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		for (int f = 0; f < 2; f++) {
			bool removed;
			char msg[1024];

			if (families[f] == AF_INET6 && !have_v6)
				continue;
			if (cleanup_one(all[i], families[f], &removed, msg, sizeof(msg)) < 0) {
				pm_warn("stale rule check: %s", msg);
				continue;
			}
			if (removed)
				pm_warn("removed stale %s rules of a previous run (%s backend)",
					families[f] == AF_INET6 ? "IPv6" : "IPv4",
					ipt_backend_name(all[i]));
		}
	}
}

bool ipt_have_ipv6(void)
{
	return have_ipv6();
}

int ipt_install(enum ipt_backend be, const struct config *c, bool nat_only, bool *have_v6,
		char *err, size_t errlen)
{
	int families[2] = { AF_INET, AF_INET6 };

	*have_v6 = have_ipv6();
	ipt_remove_stale(*have_v6);
	for (int f = 0; f < 2; f++) {
		struct buf s;
		int r;

		if (families[f] == AF_INET6 && !*have_v6) {
			pm_warn("no IPv6 on this host: installing IPv4 rules only");
			continue;
		}
		buf_init(&s);
		ipt_install_script(&s, families[f], c, nat_only);
		if (!s.len && !s.oom) {
			buf_free(&s);
			continue;
		}
		r = s.oom ? -1 : restore(be, families[f], s.p, err, errlen);
		buf_free(&s);
		if (r < 0) {
			char msg[256];

			/* legacy commits table by table: undo what went in */
			ipt_remove(be, msg, sizeof(msg));
			return -1;
		}
	}
	return 0;
}

int ipt_remove(enum ipt_backend be, char *err, size_t errlen)
{
	int r = 0;

	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		bool removed;

		if (family == AF_INET6 && !have_ipv6())
			continue;
		if (cleanup_one(be, family, &removed, err, errlen) < 0)
			r = -1;
	}
	return r;
}
