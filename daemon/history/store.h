/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The history database (SQLite): one row per flow, one per DNS query.
 * Synchronous; the daemon uses it from its own threads (history.c), the
 * tests and the benchmark directly.
 */
#ifndef PM_HSTORE_H
#define PM_HSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events/events.h"

struct hstore;

/* One event as the writer keeps it: a copy that owns its strings. */
struct hrow {
	struct pm_event ev;
	char *exe, *domain, *unit, *answers;
	bool unit_known;	/* from the cgroup captured with the event */
};

void hrow_from_event(struct hrow *r, const struct pm_event *ev);
void hrow_free(struct hrow *r);

struct hfilter {
	const char *exe;	/* exact path, or NULL */
	const char *domain;	/* the domain or any below it, or NULL */
	const char *verdict;	/* allow, block, drop..., or NULL */
	uint64_t since_ms;	/* wall clock; 0: all */
	uint32_t limit;		/* newest rows first, then returned oldest first */
	bool flows, dns;	/* which kinds */
};

/* Result codes beyond SQLite's own: a write that failed for good. */
enum hstore_err { HS_OK = 0, HS_FULL = 1, HS_BROKEN = 2, HS_OTHER = 3 };

/* Opens (creating) the database; WAL; readonly for query connections. */
int hstore_open(struct hstore **s, const char *path, bool readonly, char *err, size_t errlen);
void hstore_close(struct hstore *s);

/*
 * Writes a batch in one transaction: EV_FLOW/EV_ANSWER insert a flow,
 * EV_END completes the flow of the same flow id, EV_DNS inserts a
 * query.  Returns HS_OK, or an enum hstore_err with the message in err;
 * a failed batch is rolled back whole.
 */
int hstore_write(struct hstore *s, struct hrow *rows, size_t n, char *err, size_t errlen);
/* Drops rows older than before_ms, then the oldest until the file fits
 * max_bytes (0: no bound).  Returns rows deleted or -1. */
long hstore_prune(struct hstore *s, uint64_t before_ms, uint64_t max_bytes);
/* Bytes in use (pages in use times page size). */
uint64_t hstore_size(struct hstore *s);
/* Test hook: a database that may not grow past this many pages. */
void hstore_limit_pages(struct hstore *s, uint32_t pages);

/* Calls row() for each match, oldest first.  Returns rows or -1. */
typedef void (*hstore_row_fn)(void *arg, const char *const *names, const char *const *vals,
			      int ncols);
long hstore_query(struct hstore *s, const struct hfilter *f, hstore_row_fn row, void *arg,
		  char *err, size_t errlen);
/*
 * Per program and time bucket: flows, blocked flows, bytes out and in.
 * For the web UI's charts.
 */
long hstore_series(struct hstore *s, uint64_t since_ms, uint64_t bucket_ms, const char *exe,
		   hstore_row_fn row, void *arg, char *err, size_t errlen);

#endif
