// SPDX-License-Identifier: GPL-2.0
/*
 * make bench-rules: the per-flow decision time as the rules grow (10,
 * 1,000, 10,000 rules), as a ratio to 10 rules in the same run, with the
 * index and with a plain scan of every rule in order.  The rules are what
 * a ruleset of that size is made of: a few written by hand (scopes,
 * globs, command lines, a unit; the system preset's kind) and the rest
 * answers to prompts, each naming its program's executable, destination
 * and port, some only a port.  The flows are a mix: programs that have a
 * rule, programs that have none (the default decides: the worst case for
 * a scan), and flows that only a port rule decides.
 * usage: rules_bench [ROUNDS]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "control/proto.h"
#include "decide/rules.h"

#define NFLOWS 4096
#define LOOKUPS 400000

static const char *const by_hand[] = {
	"allow remote=localhost",
	"allow dir=in port=ssh remote=lan",
	"block exe=/opt/*/bin/updater remote=internet",
	"allow cmdline=python3%20/srv/app.py* port=443",
	"allow unit=systemd-timesyncd.service proto=udp port=123",
	"block cgroup=/system.slice/docker-*.scope remote=internet port=25",
	"allow exe=/nix/store/*-firefox-*/bin/firefox port=80,443",
	"allow proto=icmpv6 icmp-type=router-advertisement",
};

static char exe_name[64];

static const char *exe_of(unsigned int i)
{
	snprintf(exe_name, sizeof(exe_name), "/usr/bin/prog%u", i);
	return exe_name;
}

static void build(struct ruleset *rs, size_t n)
{
	struct buf text;
	uint32_t id = 1;
	char err[512];
	size_t hand = sizeof(by_hand) / sizeof(by_hand[0]);

	buf_init(&text);
	for (size_t i = 0; i < n && i < hand; i++)
		buf_addf(&text, "%s\n", by_hand[i]);
	for (size_t i = hand; i < n; i++) {
		if (i % 10 == 0)	/* an answer scoped to a port */
			buf_addf(&text, "allow port=%zu proto=tcp\n", 10000 + i);
		else
			buf_addf(&text, "%s exe=%s dst=10.%zu.%zu.1 port=%zu proto=tcp dir=out\n",
				 i % 3 ? "allow" : "block", exe_of((unsigned int)i), (i >> 8) & 255,
				 i & 255, 443 + i % 7);
	}
	if (ruleset_load_mem(rs, "bench", text.p, text.len, &id, err, sizeof(err)) < 0) {
		fprintf(stderr, "rules_bench: %s\n", err);
		exit(1);
	}
	buf_free(&text);
}

/* Flows for a ruleset of n rules, and their owners' strings. */
static void make_flows(struct flow_info *f, size_t n, unsigned int seed)
{
	for (size_t k = 0; k < NFLOWS; k++) {
		size_t i = n > 8 ? 8 + (size_t)rand_r(&seed) % (n - 8) : 0;
		unsigned int kind = (unsigned int)rand_r(&seed) % 3;

		memset(&f[k], 0, sizeof(f[k]));
		f[k].key.family = AF_INET;
		f[k].key.proto = IPPROTO_TCP;
		f[k].has_ports = true;
		inet_pton(AF_INET, "192.168.1.5", f[k].key.laddr);
		f[k].key.lport = 40000;
		if (kind == 0) {	/* a program with a rule, to its destination */
			f[k].owner.exe = strdup(exe_of((unsigned int)i));
			f[k].key.raddr[0] = 10;
			f[k].key.raddr[1] = (uint8_t)(i >> 8);
			f[k].key.raddr[2] = (uint8_t)i;
			f[k].key.raddr[3] = 1;
			f[k].key.rport = (uint16_t)(443 + i % 7);
		} else if (kind == 1) {	/* a program nobody wrote a rule for */
			f[k].owner.exe = strdup(exe_of(100000 + (unsigned int)k));
			inet_pton(AF_INET, "93.184.216.34", f[k].key.raddr);
			f[k].key.rport = 443;
		} else {	/* a port rule's */
			f[k].owner.exe = strdup("/usr/bin/curl");
			inet_pton(AF_INET, "93.184.216.34", f[k].key.raddr);
			f[k].key.rport = (uint16_t)(10000 + (i / 10) * 10);
		}
		f[k].owner.cmdline = strdup("prog --flag");
		f[k].owner.cgroup = strdup("/user.slice/user-1000.slice/session-2.scope");
		f[k].owner.have_uid = true;
	}
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static volatile uintptr_t sink;

static double per_decision(struct ruleset *rs, const struct flow_info *f, bool scan, size_t lookups)
{
	double t0 = now_ns();

	for (size_t k = 0; k < lookups; k++) {
		const struct flow_info *x = &f[k % NFLOWS];
		struct rule *r = NULL;

		if (scan) {
			for (size_t i = 0; i < rs->n && !r; i++)
				if (rule_match(rs->v[i], x))
					r = rs->v[i];
		} else {
			r = ruleset_first(rs, x, 0, true);
		}
		sink += (uintptr_t)r;
	}
	return (now_ns() - t0) / (double)lookups;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 10, 1000, 10000 };
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	double idx[3], scan[3];
	struct flow_info *f = calloc(NFLOWS, sizeof(*f));

	if (rounds < 1 || rounds > 100 || !f)
		return 2;
	for (int s = 0; s < 3; s++) {
		struct ruleset rs;
		double a[100], b[100];
		/* a scan of 10,000 rules is slow: fewer lookups, same flows */
		size_t scan_lookups = LOOKUPS / (sizes[s] >= 1000 ? 100 : 1);

		build(&rs, sizes[s]);
		make_flows(f, sizes[s], 7);
		per_decision(&rs, f, false, NFLOWS);	/* builds the index, warms */
		for (int r = 0; r < rounds; r++) {
			a[r] = per_decision(&rs, f, false, LOOKUPS);
			b[r] = per_decision(&rs, f, true, scan_lookups);
		}
		qsort(a, (size_t)rounds, sizeof(double), cmp);
		qsort(b, (size_t)rounds, sizeof(double), cmp);
		idx[s] = a[rounds / 2];
		scan[s] = b[rounds / 2];
		for (size_t k = 0; k < NFLOWS; k++)
			owner_release(&f[k].owner);
		ruleset_clear(&rs);
	}
	printf("rules    indexed ns/flow  vs 10 rules   scan ns/flow  vs 10 rules\n");
	for (int s = 0; s < 3; s++)
		printf("%6zu   %14.0f  %10.2fx   %12.0f  %10.2fx\n", sizes[s], idx[s], idx[s] / idx[0],
		       scan[s], scan[s] / scan[0]);
	printf("(median of %d rounds; flows: a third with a rule of their program, a third\n"
	       " with none (the default decides), a third decided by a port rule)\n", rounds);
	printf("10,000 rules within 2x of 10 with the index: %s\n",
	       idx[2] / idx[0] <= 2.0 ? "yes" : "NO");
	free(f);
	return 0;
}
