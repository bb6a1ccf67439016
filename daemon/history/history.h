/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection history: events are copied into a bounded queue on the
 * main thread (never waiting for the writer: see hand_over) and written
 * by a thread of their own in batches, one transaction each.  Queries
 * run on another thread with a connection of their own (WAL lets them
 * read while the writer writes) and complete on the main thread through
 * history_fd()/history_poll().
 *
 * A database that cannot be written (a full disk, a broken file) is
 * reported in the log and in "pmctl status" and costs the events that
 * could not be written, never a verdict: a broken file is moved aside
 * and a new one started.
 */
#ifndef PM_HISTORY_H
#define PM_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "control/proto.h"
#include "events/events.h"
#include "history/store.h"

struct history;

struct history_opts {
	const char *path;
	uint32_t days;		/* retention */
	uint64_t max_bytes;	/* size bound, 0: none */
	uint32_t batch_ms;	/* how long events may wait to be written */
	const char *proc_root;	/* for the programs' systemd units */
	uint32_t urgent_ms;	/* events wait for idle time at most this long;
				 * 0: 10 s */
};

struct history *history_start(const struct history_opts *o);
/* Writes what is queued, then stops the threads. */
void history_stop(struct history *h);
/* The event listener (events_listen(..., history_event, h)). */
void history_event(void *arg, const struct pm_event *ev);
void history_stats(struct history *h, struct buf *rec);

/*
 * Starts a query; done() runs later on the main thread (history_poll)
 * with the rows as control-protocol records.  -EBUSY when too many are
 * waiting.  A series query (f->series_ms != 0) gives per-program buckets.
 */
struct hquery {
	char exe[4096];
	char domain[256];
	char verdict[32];
	uint64_t since_ms;
	uint32_t limit;
	bool flows, dns;
	uint64_t series_ms;	/* bucket width for a series, 0: rows */
};
typedef void (*history_done_fn)(void *arg, struct buf *recs, long n, const char *err);
int history_query(struct history *h, const struct hquery *q, history_done_fn done, void *arg);
/* Readable when queries have completed; history_poll() runs their done(). */
int history_fd(struct history *h);
void history_poll(struct history *h);
/* Hands over events kept while the writer held the queue (each tick). */
void history_tick(struct history *h);
/* Tests: take or release the writer's lock, as a writer preempted while
 * holding it would (only the thread that took it releases it). */
void history_hold_queue(struct history *h, bool hold);
/* Tests: the writer's thread id while it may run on idle time only
 * (SCHED_IDLE, see history.c), else 0. */
pid_t history_writer_tid(struct history *h);
/* Waits until every event queued so far is written (tests, shutdown). */
void history_sync(struct history *h);

#endif
