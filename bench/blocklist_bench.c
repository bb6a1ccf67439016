// SPDX-License-Identifier: GPL-2.0
/*
 * The blocklist at a million entries: bytes an entry (the set's own
 * arrays, and the process's resident memory before and after loading) and
 * the time of a lookup (a listed name's subdomain and an unlisted name,
 * alternating), from a hosts-format file written for the run.
 * usage: blocklist_bench [ENTRIES] [LOOKUPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dns/blocklist.h"

#define NAMES 65536	/* distinct names looked up, round and round */

static long rss_bytes(void)
{
	long pages = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * sysconf(_SC_PAGESIZE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Names like public lists have: a random label under one of many zones. */
static void name_of(unsigned long i, char *out, size_t len)
{
	unsigned long h = i * 0x9e3779b97f4a7c15ul;

	snprintf(out, len, "ad%lx-%lu.tracker%lu.example", h >> 20, i, i % 5000);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	unsigned long lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
	char path[] = "/tmp/pm-blocklist-XXXXXX", name[256], err[256];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct blocklist b;
	long rss0, rss1;
	double t0, t1, t2;
	unsigned long hits = 0;
	char (*names)[96];

	if (!f) {
		perror("mkstemp");
		return 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		name_of(i, name, sizeof(name));
		fprintf(f, "0.0.0.0 %s\n", name);
	}
	fclose(f);
	rss0 = rss_bytes();
	blocklist_init(&b, 0x5eed);
	t0 = now_s();
	if (blocklist_add_file(&b, path, err, sizeof(err)) < 0 || blocklist_seal(&b) < 0) {
		fprintf(stderr, "%s\n", err);
		unlink(path);
		return 1;
	}
	t1 = now_s();
	rss1 = rss_bytes();
	unlink(path);
	/* the names to look up, made beforehand: a query has its name */
	names = malloc(NAMES * sizeof(*names));
	if (!names)
		return 1;
	for (unsigned long i = 0; i < NAMES; i++) {
		unsigned long k = (i * 7919) % n;

		if (i & 1)
			snprintf(names[i], sizeof(names[i]), "www.cdn.ad%lx-%lu.tracker%lu.example",
				 (k * 0x9e3779b97f4a7c15ul) >> 20, k, k % 5000);
		else
			snprintf(names[i], sizeof(names[i]), "www.cdn.notlisted-%lu.example.org", k);
	}
	t2 = now_s();
	for (unsigned long i = 0; i < lookups; i++)
		hits += blocklist_match(&b, names[i % NAMES]);
	t2 = now_s() - t2;
	free(names);
	printf("entries %zu\n", b.n);
	printf("load_seconds %.2f\n", t1 - t0);
	printf("set_bytes_per_entry %.1f\n", (double)blocklist_bytes(&b) / (double)b.n);
	printf("rss_bytes_per_entry %.1f\n", (double)(rss1 - rss0) / (double)b.n);
	printf("lookup_ns %.0f\n", t2 * 1e9 / (double)lookups);
	printf("lookups %lu hits %lu\n", lookups, hits);
	blocklist_free(&b);
	return hits == lookups / 2 ? 0 : 1;
}
