// SPDX-License-Identifier: GPL-2.0
/*
 * The history's size and query speed at scale: DAYS days of FLOWS_PER_DAY
 * flows (default a month of 100,000 a day) from PROGRAMS programs, written
 * through the daemon's own store in the daemon's batch size; then the bytes
 * per flow, and the median time (of 7) of the queries the user makes for
 * one program: its latest rows (pmctl history --exe), a day of them, and
 * its chart (per-hour series) over the month.
 * usage: history_bench DB [DAYS] [FLOWS_PER_DAY] [PROGRAMS]
 */
#include <linux/portmaster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "history/store.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(void *arg, const char *const *n, const char *const *v, int c)
{
	(void)n, (void)v, (void)c;
	(*(long *)arg)++;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef long (*query_fn)(struct hstore *s, const char *exe, uint64_t since, long *rows);

static long q_latest(struct hstore *s, const char *exe, uint64_t since, long *rows)
{
	struct hfilter f = { .exe = exe, .flows = true, .dns = true, .limit = 1000, .since_ms = since };
	char err[256];

	return hstore_query(s, &f, count, rows, err, sizeof(err));
}

static long q_day(struct hstore *s, const char *exe, uint64_t since, long *rows)
{
	struct hfilter f = { .exe = exe, .flows = true, .limit = 100000, .since_ms = since };
	char err[256];

	return hstore_query(s, &f, count, rows, err, sizeof(err));
}

static long q_chart(struct hstore *s, const char *exe, uint64_t since, long *rows)
{
	char err[256];

	return hstore_series(s, since, 3600 * 1000, exe, count, rows, err, sizeof(err));
}

static void measure(struct hstore *s, const char *name, query_fn fn, const char *exe,
		    uint64_t since)
{
	double t[7];
	long rows = 0;

	for (int i = 0; i < 7; i++) {
		double t0 = now_s();

		rows = 0;
		if (fn(s, exe, since, &rows) < 0) {
			printf("  %-34s failed\n", name);
			return;
		}
		t[i] = (now_s() - t0) * 1000;
	}
	qsort(t, 7, sizeof(t[0]), cmp_d);
	printf("  %-34s %8.1f ms  (%ld rows)\n", name, t[3], rows);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/history-bench.db";
	long days = argc > 2 ? atol(argv[2]) : 30, per_day = argc > 3 ? atol(argv[3]) : 100000;
	int programs = argc > 4 ? atoi(argv[4]) : 40;
	long total = days * per_day, id = 0;
	uint64_t t_end = (uint64_t)time(NULL) * 1000, t_start = t_end - (uint64_t)days * 86400000;
	char err[512], exe[64];
	struct hrow *rows = calloc(1024, sizeof(*rows));
	struct hstore *s;
	struct stat st;
	double t0, harmonic = 0;

	if (!rows || days <= 0 || per_day <= 0 || programs <= 0)
		return 2;
	unlink(path);
	if (hstore_open(&s, path, false, err, sizeof(err)) != HS_OK) {
		fprintf(stderr, "history_bench: %s\n", err);
		return 1;
	}
	printf("history: %ld days x %ld flows/day = %ld flows, %d programs\n", days, per_day, total,
	       programs);
	for (int k = 0; k < programs; k++)
		harmonic += 1.0 / (k + 1);
	srandom(17);
	t0 = now_s();
	while (id < total) {
		int n = 0;

		for (; n < 1024 && id < total; n++, id++) {
			struct pm_event ev = {
				.type = EV_FLOW, .flow_id = (uint64_t)id + 1, .family = AF_INET,
				.proto = random() % 4 ? 6 : 17, .dir = random() % 10 ? PM_DIR_OUT : PM_DIR_IN,
				.lport = (uint16_t)(32768 + random() % 28000),
				.rport = random() % 3 ? 443 : (uint16_t)(random() % 65535 + 1),
				.pid = (int32_t)(1000 + random() % 30000), .have_uid = true,
				.uid = random() % 2 ? 1000 : 0, .verdict = random() % 20 ? "allow" : "block",
				.rule_id = (uint32_t)(random() % 30),
			};
			uint32_t a = (uint32_t)random();
			/* Zipf: program k has 1/(k+1) of program 0's flows. */
			double u = (double)random() / RAND_MAX * harmonic, acc = 0;
			int prog = 0;

			for (; prog < programs - 1; prog++) {
				acc += 1.0 / (prog + 1);
				if (u <= acc)
					break;
			}
			ev.time_ms = t_start + (uint64_t)id * (t_end - t_start) / (uint64_t)total;
			snprintf(exe, sizeof(exe), "/usr/lib/program-%02d/bin/program-%02d", prog, prog);
			ev.exe = exe;
			ev.laddr[0] = 10, ev.laddr[3] = 2;
			memcpy(ev.raddr, &a, 4);
			hrow_from_event(&rows[n], &ev);
			/* about half the flows have a domain from the resolver */
			if (random() % 2) {
				char dom[64];

				snprintf(dom, sizeof(dom), "host%ld.example%d.com", random() % 50, prog);
				rows[n].domain = strdup(dom);
			}
		}
		if (hstore_write(s, rows, (size_t)n, err, sizeof(err)) != HS_OK) {
			fprintf(stderr, "history_bench: %s\n", err);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			rows[i].ev.type = EV_END;
			rows[i].ev.start_ms = rows[i].ev.time_ms;
			rows[i].ev.time_ms += 1000 + (uint64_t)(random() % 60000);
			rows[i].ev.bytes_out = (uint64_t)(random() % 100000);
			rows[i].ev.bytes_in = (uint64_t)(random() % 10000000);
			rows[i].ev.pkts_out = rows[i].ev.bytes_out / 1000 + 1;
			rows[i].ev.pkts_in = rows[i].ev.bytes_in / 1400 + 1;
		}
		if (hstore_write(s, rows, (size_t)n, err, sizeof(err)) != HS_OK) {
			fprintf(stderr, "history_bench: %s\n", err);
			return 1;
		}
		for (int i = 0; i < n; i++)
			hrow_free(&rows[i]);
	}
	printf("  written in %.1f s (%.0f flows/s with their ends)\n", now_s() - t0,
	       (double)total / (now_s() - t0));
	hstore_close(s);
	/* The size on disk once the log is folded in, as a restart leaves it. */
	if (hstore_open(&s, path, false, err, sizeof(err)) != HS_OK)
		return 1;
	hstore_close(s);
	if (stat(path, &st) == 0)
		printf("  database: %.1f MiB, %.1f bytes per flow\n", (double)st.st_size / 1048576,
		       (double)st.st_size / (double)total);
	if (hstore_open(&s, path, true, err, sizeof(err)) != HS_OK)
		return 1;
	snprintf(exe, sizeof(exe), "/usr/lib/program-%02d/bin/program-%02d", 0, 0);
	printf("queries for the busiest program (%s), median of 7:\n", exe);
	measure(s, "latest 1000 rows (pmctl history)", q_latest, exe, 0);
	measure(s, "its last day, all rows", q_day, exe, t_end - 86400000);
	measure(s, "per-hour chart over the month", q_chart, exe, t_start);
	snprintf(exe, sizeof(exe), "/usr/lib/program-%02d/bin/program-%02d", 20, 20);
	printf("queries for a quieter program (%s):\n", exe);
	measure(s, "latest 1000 rows (pmctl history)", q_latest, exe, 0);
	measure(s, "its last day, all rows", q_day, exe, t_end - 86400000);
	measure(s, "per-hour chart over the month", q_chart, exe, t_start);
	hstore_close(s);
	free(rows);
	return 0;
}
