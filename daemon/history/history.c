// SPDX-License-Identifier: GPL-2.0
/* The history's threads: a writer fed in batches, and a query runner. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "decide/flow.h"
#include "history/history.h"
#include "common/log.h"
#include "common/util.h"

/* Events waiting for the writer; past this they are lost and counted. */
#define QUEUE_MAX 65536
/* The writer wakes early when this many are waiting. */
#define BATCH_WAKE 1024
/* Events the main thread keeps while the writer holds the queue. */
#define STASH_MAX 4096
/*
 * The writer runs on idle CPU time only (SCHED_IDLE), so that a burst of
 * flows is not slowed by writing it down; it is written when the burst
 * is over.  That delay is bounded: when this many events wait, or some
 * have waited urgent_ms (10 s), the writer runs as an ordinary thread at
 * nice 10 until nothing waits (see pace_writer).  While on idle time it
 * is kept to the CPU the main thread last ran on (follow_main_cpu).
 */
#define URGENT_AT (QUEUE_MAX / 2)
#define URGENT_MS_DEFAULT 10000
#define QUERIES_MAX 16
/* How long a query waits for the events queued before it to be written. */
#define QUERY_WAIT_MS 5000
#define PRUNE_EVERY_MS (10 * 60 * 1000)
#define REOPEN_EVERY_MS (30 * 1000)
#define UNIT_SLOTS 256

/* Why the writer was last made an ordinary thread (pmctl status). */
enum hurry { HURRY_FULL, HURRY_LATE, HURRY_LOCK, HURRY_ASKED, HURRY_N };
static const char *const hurry_key[HURRY_N] = {
	"history_hurried_full", "history_hurried_late", "history_hurried_lock",
	"history_hurried_asked",
};

struct job {
	struct hquery q;
	history_done_fn done;
	void *arg;
	struct buf out;
	long n;
	char err[256];
	uint64_t upto;		/* events queued when it was asked */
	struct job *next;
};

struct unit_slot {
	int32_t pid;
	uint64_t at_ms;
	char unit[128];
};

struct history {
	char path[4096];
	char proc_root[256];
	uint32_t days;
	uint64_t max_bytes;
	uint32_t batch_ms;
	uint32_t urgent_ms;

	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	struct hrow *q;			/* the queue, QUEUE_MAX */
	size_t qn;
	bool stop;
	bool flush_now;			/* a query waits: write what is queued */
	uint64_t queued, written, lost, failed_batches;
	size_t taken;			/* events the writer is writing */
	uint64_t finished;		/* events taken from the queue, written or not */
	char error[1200];		/* the last write error, "" while all is well */
	uint64_t bytes;			/* size of the database, as last seen */

	struct job *jobs, *done;	/* waiting, completed */
	int njobs;
	pthread_cond_t jobs_wake;
	int efd;

	/*
	 * The main thread's own: events it could not hand over at once (the
	 * writer held the lock).  The writer runs at a low priority, and a
	 * busy machine preempts it while it holds the lock: waiting for the
	 * lock then kept the main loop, and every verdict, from 40 to 70 ms.
	 */
	struct hrow *stash;
	size_t stashn;
	uint64_t stash_lost;
	size_t backlog;			/* queued and being written, as last seen */
	uint64_t waiting_since;		/* since when events wait, 0: none */
	bool urgent;			/* the writer runs as an ordinary thread */
	bool unpaced;			/* its policy cannot be changed */
	pid_t idle_writer;		/* the writer's tid once at SCHED_IDLE */
	uint64_t hurried[HURRY_N];	/* times made ordinary, by reason */
	int writer_cpu;			/* the one CPU it may use, -1: its own set */
	bool unfollowed;		/* its CPUs cannot be changed */
	cpu_set_t writer_cpus;		/* the CPUs it had at start */

	pthread_t writer, reader;
	bool have_writer, have_reader;
	struct hstore *st;		/* the writer's own */
	struct unit_slot units[UNIT_SLOTS];
};

static void set_error(struct history *h, const char *msg)
{
	pthread_mutex_lock(&h->lock);
	snprintf(h->error, sizeof(h->error), "%s", msg);
	pthread_mutex_unlock(&h->lock);
}

/* A file that is no database (or one SQLite finds corrupt) is kept for
 * whoever wants to look at it, and a fresh one started. */
static void move_aside(struct history *h)
{
	char to[4200], from[4200];
	static const char *const sfx[] = { "", "-wal", "-shm" };
	long now = (long)time(NULL);

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		snprintf(from, sizeof(from), "%s%s", h->path, sfx[i]);
		snprintf(to, sizeof(to), "%s.broken-%ld%s", h->path, now, sfx[i]);
		if (rename(from, to) < 0 && errno != ENOENT)
			pm_err("history: cannot move %s aside: %s", from, strerror(errno));
	}
	pm_err("history: %s was broken; kept as %s.broken-%ld, starting a new one",
	       h->path, h->path, now);
}

static bool open_store(struct history *h)
{
	char err[512];
	int r = hstore_open(&h->st, h->path, false, err, sizeof(err));

	if (r == HS_BROKEN && access(h->path, F_OK) == 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "broken database moved aside: %s", err);
		move_aside(h);
		r = hstore_open(&h->st, h->path, false, err, sizeof(err));
		if (r == HS_OK) {
			set_error(h, msg);
			return true;
		}
	}
	if (r != HS_OK) {
		pm_err("history: cannot open %s: %s; flows are decided as before, "
		       "but not recorded", h->path, err);
		set_error(h, err);
		return false;
	}
	return true;
}

/* The systemd unit of a process, from its cgroup ("" when none). */
static void unit_of(struct history *h, int32_t pid, uint64_t now, char *out, size_t len)
{
	struct unit_slot *u = &h->units[(uint32_t)pid % UNIT_SLOTS];
	char path[300], line[1024];
	FILE *f;

	*out = 0;
	if (pid <= 0)
		return;
	if (u->pid == pid && now - u->at_ms < 5000) {
		snprintf(out, len, "%s", u->unit);
		return;
	}
	snprintf(path, sizeof(path), "%s/%d/cgroup", h->proc_root, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *unit;
		size_t n;

		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		unit = cgroup_unit(line + 3, &n);
		if (unit)
			snprintf(out, len, "%.*s", (int)n, unit);
	}
	fclose(f);
	u->pid = pid;
	u->at_ms = now;
	snprintf(u->unit, sizeof(u->unit), "%s", out);
}

static void write_batch(struct history *h, struct hrow *rows, size_t n)
{
	char err[512];
	int r;

	if (!h->st && !open_store(h)) {
		pthread_mutex_lock(&h->lock);
		h->lost += n;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char unit[128];

		/* only when nothing was captured: a late look may be wrong */
		if (rows[i].ev.type == EV_END || !rows[i].ev.pid || rows[i].unit_known)
			continue;
		unit_of(h, rows[i].ev.pid, now_ms(), unit, sizeof(unit));
		if (*unit)
			rows[i].unit = strdup(unit);
	}
	r = hstore_write(h->st, rows, n, err, sizeof(err));
	pthread_mutex_lock(&h->lock);
	if (r == HS_OK) {
		h->written += n;
		/* A write that works again ends an earlier error, except the
		 * report of a file moved aside, which stays to be seen. */
		if (strncmp(h->error, "broken", 6))
			h->error[0] = 0;
	} else {
		h->lost += n;
		h->failed_batches++;
		snprintf(h->error, sizeof(h->error), "%s%s", r == HS_FULL ? "disk full: " : "", err);
	}
	pthread_mutex_unlock(&h->lock);
	if (r == HS_OK)
		return;
	if (h->failed_batches < 5 || h->failed_batches % 100 == 0)
		pm_err("history: %s; %zu events not recorded (verdicts go on)", err, n);
	if (r == HS_BROKEN) {
		hstore_close(h->st);
		h->st = NULL;
		move_aside(h);
	}
}

/*
 * The queues' rows, zeroed, in pages of 4 KiB.  Backed by huge pages,
 * the first row written in each 2 MiB had the main thread clear all of
 * it in one page fault, preempted in the middle: its longest turns with
 * the history on (40-50 ms in bench-module, traced), and 2 MiB resident
 * for a few rows.
 */
static struct hrow *rows_alloc(size_t n)
{
	void *p = mmap(NULL, n * sizeof(struct hrow), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, n * sizeof(struct hrow), MADV_NOHUGEPAGE);
	return p;
}

static void rows_free(struct hrow *rows, size_t n)
{
	if (rows)
		munmap(rows, n * sizeof(*rows));
}

static void *try_idle_and_back(void *arg)
{
	bool *ok = arg;

	*ok = !sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 }) &&
	      !sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 });
	return NULL;
}

/*
 * Whether this thread, once on idle time, could be made an ordinary one
 * again: that needs its nice value allowed (RLIMIT_NICE, CAP_SYS_NICE).
 * Tried on a thread of its own (it inherits our nice value), since a
 * refusal would leave it on idle time for good.
 */
static bool can_leave_idle(void)
{
	pthread_t t;
	bool ok = false;

	if (pthread_create(&t, NULL, try_idle_and_back, &ok))
		return false;
	pthread_join(t, NULL);
	return ok;
}

static void *writer_main(void *arg)
{
	struct history *h = arg;
	struct hrow *batch = rows_alloc(QUEUE_MAX);
	uint64_t last_prune = 0, last_open_try = 0;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (!batch)
		return NULL;
	/* Writing the history gives way to deciding flows when the machine
	 * is busy (nice and the policy apply to this thread alone on Linux);
	 * the main thread makes it an ordinary thread when it lags behind. */
	setpriority(PRIO_PROCESS, (id_t)tid, 10);
	if (!can_leave_idle())
		pm_info("history: written at nice 10 (to use idle time only, the writer "
			"needs RLIMIT_NICE of 10 or CAP_SYS_NICE to be hurried back)");
	else if (sched_getaffinity(0, sizeof(h->writer_cpus), &h->writer_cpus) == 0 &&
		 sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 }) == 0)
		__atomic_store_n(&h->idle_writer, tid, __ATOMIC_RELEASE);
	for (;;) {
		struct timespec ts;
		uint64_t bytes;
		size_t n;
		bool stop;

		pthread_mutex_lock(&h->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(h->batch_ms % 1000) * 1000000;
		ts.tv_sec += h->batch_ms / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		while (!h->stop && !h->flush_now && h->qn < BATCH_WAKE)
			if (pthread_cond_timedwait(&h->wake, &h->lock, &ts) == ETIMEDOUT)
				break;
		/* The two queues change places: the lock is held for no copy. */
		n = h->qn;
		{
			struct hrow *t = h->q;

			h->q = batch;
			batch = t;
		}
		h->qn = 0;
		h->flush_now = false;
		stop = h->stop;
		h->taken = n;
		pthread_mutex_unlock(&h->lock);

		if (n) {
			if (!h->st && now_ms() - last_open_try < REOPEN_EVERY_MS && last_open_try) {
				pthread_mutex_lock(&h->lock);
				h->lost += n;
				pthread_mutex_unlock(&h->lock);
			} else {
				if (!h->st)
					last_open_try = now_ms();
				write_batch(h, batch, n);
			}
			for (size_t i = 0; i < n; i++)
				hrow_free(&batch[i]);
		}
		if (h->st && (now_ms() - last_prune > PRUNE_EVERY_MS || !last_prune)) {
			uint64_t now = wall_ms(), keep = (uint64_t)h->days * 86400000ull;

			last_prune = now_ms();
			if (hstore_prune(h->st, now > keep ? now - keep : 0, h->max_bytes) < 0)
				pm_warn("history: pruning old rows failed");
		}
		/* Measured before the lock: three PRAGMAs prepared afresh.
		 * Under the lock, in this low-priority thread preempted by a
		 * busy machine, they kept the main loop (which takes the lock
		 * for every flow) waiting 50 ms. */
		bytes = h->st && n ? hstore_size(h->st) : 0;
		pthread_mutex_lock(&h->lock);
		if (bytes)
			h->bytes = bytes;
		h->finished += h->taken;
		h->taken = 0;
		pthread_cond_broadcast(&h->idle);
		pthread_mutex_unlock(&h->lock);
		if (stop && !n)
			break;
	}
	rows_free(batch, QUEUE_MAX);
	return NULL;
}

static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void collect_row(void *arg, const char *const *names, const char *const *vals, int ncols)
{
	struct job *j = arg;

	for (int i = 0; i < ncols; i++) {
		if (!vals[i])
			rec_str(&j->out, names[i], "-");
		else if (proto_key_numeric(names[i]) && is_integer(vals[i]))
			rec_i64(&j->out, names[i], strtoll(vals[i], NULL, 10));
		else
			rec_str(&j->out, names[i], vals[i]);
	}
	rec_end(&j->out);
}

static void run_job(struct history *h, struct job *j)
{
	struct hstore *s;
	struct hfilter f = {
		.exe = j->q.exe[0] ? j->q.exe : NULL,
		.domain = j->q.domain[0] ? j->q.domain : NULL,
		.verdict = j->q.verdict[0] ? j->q.verdict : NULL,
		.since_ms = j->q.since_ms,
		.limit = j->q.limit,
		.flows = j->q.flows,
		.dns = j->q.dns,
	};

	if (hstore_open(&s, h->path, true, j->err, sizeof(j->err)) != HS_OK) {
		j->n = -1;
		return;
	}
	if (j->q.series_ms)
		j->n = hstore_series(s, j->q.since_ms, j->q.series_ms, f.exe, collect_row, j,
				     j->err, sizeof(j->err));
	else
		j->n = hstore_query(s, &f, collect_row, j, j->err, sizeof(j->err));
	hstore_close(s);
	if (j->out.oom) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		j->n = -1;
	}
}

/*
 * A query sees every event queued before it was asked: the writer has
 * been hurried (history_query), and this waits for it, within bounds.
 */
static void wait_written(struct history *h, uint64_t upto)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += QUERY_WAIT_MS / 1000;
	while (!h->stop && h->finished < upto)
		if (pthread_cond_timedwait(&h->idle, &h->lock, &ts) == ETIMEDOUT)
			break;
}

static void *reader_main(void *arg)
{
	struct history *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct job *j;
		uint64_t one = 1;

		while (!h->stop && !h->jobs)
			pthread_cond_wait(&h->jobs_wake, &h->lock);
		if (!h->jobs)
			break;
		j = h->jobs;
		h->jobs = j->next;
		wait_written(h, j->upto);
		pthread_mutex_unlock(&h->lock);
		run_job(h, j);
		pthread_mutex_lock(&h->lock);
		j->next = h->done;
		h->done = j;
		if (write(h->efd, &one, sizeof(one)) < 0)
			pm_warn("history: eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/*
 * The writer as an ordinary thread (nice 10) or on idle time again;
 * false when it stays as it is (never idle, or not allowed).
 */
static bool set_urgent(struct history *h, bool urgent)
{
	pid_t tid = __atomic_load_n(&h->idle_writer, __ATOMIC_ACQUIRE);

	if (urgent == h->urgent || !tid || h->unpaced)
		return false;
	if (sched_setscheduler(tid, urgent ? SCHED_OTHER : SCHED_IDLE,
			       &(struct sched_param){ 0 })) {
		pm_warn("history: cannot reschedule the writer: %s", strerror(errno));
		h->unpaced = true;	/* no retry per event */
		return false;
	}
	h->urgent = urgent;
	if (urgent && h->writer_cpu >= 0) {
		/* catching up may take any CPU it had */
		if (sched_setaffinity(tid, sizeof(h->writer_cpus), &h->writer_cpus)) {
			/* kept to one CPU it is slower, not wrong: pin it no more */
			pm_warn("history: cannot give the writer its CPUs back: %s",
				strerror(errno));
			h->unfollowed = true;
		}
		h->writer_cpu = -1;
	}
	return true;
}

/*
 * A writer on idle time, kept to the CPU the main thread runs on, runs
 * only when the main thread waits.  Free to use another CPU's idle time,
 * it wrote a burst beside the main thread and slowed it: 0.93 of history
 * off in bench-fallback (two cores); kept to the main thread's CPU, 0.97
 * to 0.98, for the same rows written during the burst.
 */
static void follow_main_cpu(struct history *h)
{
	pid_t tid = __atomic_load_n(&h->idle_writer, __ATOMIC_ACQUIRE);
	cpu_set_t one;
	int cpu;

	if (!tid || h->urgent || h->unpaced || h->unfollowed)
		return;
	cpu = sched_getcpu();
	if (cpu < 0 || cpu == h->writer_cpu)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(tid, sizeof(one), &one)) {
		pm_warn("history: cannot keep the writer to one CPU: %s", strerror(errno));
		h->unfollowed = true;
		return;
	}
	h->writer_cpu = cpu;
}

/* The writer as an ordinary thread from now until it caught up. */
static void hurry_writer(struct history *h, enum hurry why)
{
	if (set_urgent(h, true))
		h->hurried[why]++;
}

/*
 * The lock, for the main thread where it must wait: a writer on idle
 * time that holds it gets the CPU it needs to let go.
 */
static void main_lock(struct history *h)
{
	if (!pthread_mutex_trylock(&h->lock))
		return;
	hurry_writer(h, HURRY_LOCK);
	pthread_mutex_lock(&h->lock);
}

/*
 * The main thread's events to the writer's queue: at once when the lock
 * is free, else at its next event or tick (wait: shutdown and sync).
 * Past the queue's bound they are lost and counted, never waited for.
 */
static void hand_over(struct history *h, bool wait)
{
	size_t k;
	bool wake;

	if (!h->stashn && !h->stash_lost && !h->backlog)
		return;
	if (wait)
		main_lock(h);
	else if (pthread_mutex_trylock(&h->lock))
		return;
	k = h->stashn < QUEUE_MAX - h->qn ? h->stashn : QUEUE_MAX - h->qn;
	memcpy(&h->q[h->qn], h->stash, k * sizeof(*h->stash));
	for (size_t i = k; i < h->stashn; i++)
		hrow_free(&h->stash[i]);
	h->lost += h->stashn - k + h->stash_lost;
	wake = h->qn < BATCH_WAKE && h->qn + k >= BATCH_WAKE;
	h->qn += k;
	h->queued += k;
	h->stashn = 0;
	h->stash_lost = 0;
	h->backlog = h->qn + h->taken;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		pthread_cond_signal(&h->wake);
}

/*
 * Idle time only while the writer keeps up; an ordinary thread (nice 10)
 * from URGENT_AT events or urgent_ms behind, or when it keeps the lock
 * while the stash fills, until it has caught up.
 */
static void pace_writer(struct history *h)
{
	size_t waiting = h->backlog + h->stashn;
	uint64_t now;

	if (!waiting) {
		h->waiting_since = 0;
		set_urgent(h, false);
		return;
	}
	if (h->urgent)
		return;
	now = now_ms();	/* per event: only while the writer is idle and behind */
	if (!h->waiting_since)
		h->waiting_since = now;
	if (waiting >= URGENT_AT)
		hurry_writer(h, HURRY_FULL);
	else if (h->stashn >= STASH_MAX / 2)
		hurry_writer(h, HURRY_LOCK);
	else if (now - h->waiting_since >= h->urgent_ms)
		hurry_writer(h, HURRY_LATE);
	if (h->urgent)
		pthread_cond_signal(&h->wake);
}

struct history *history_start(const struct history_opts *o)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	snprintf(h->path, sizeof(h->path), "%s", o->path);
	snprintf(h->proc_root, sizeof(h->proc_root), "%s", o->proc_root ? o->proc_root : "/proc");
	h->days = o->days;
	h->max_bytes = o->max_bytes;
	h->batch_ms = o->batch_ms ? o->batch_ms : 500;
	h->urgent_ms = o->urgent_ms ? o->urgent_ms : URGENT_MS_DEFAULT;
	h->writer_cpu = -1;
	h->q = rows_alloc(QUEUE_MAX);
	h->stash = rows_alloc(STASH_MAX);
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!h->q || !h->stash || h->efd < 0) {
		rows_free(h->q, QUEUE_MAX);
		rows_free(h->stash, STASH_MAX);
		if (h->efd >= 0)
			close(h->efd);
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	pthread_cond_init(&h->idle, NULL);
	pthread_cond_init(&h->jobs_wake, NULL);
	/* Opened here, so that a broken file is reported at start. */
	open_store(h);
	h->have_writer = pthread_create(&h->writer, NULL, writer_main, h) == 0;
	h->have_reader = pthread_create(&h->reader, NULL, reader_main, h) == 0;
	/* named for ps -L and top: which thread writes, at which class */
	if (h->have_writer)
		pthread_setname_np(h->writer, "pm-history");
	if (h->have_reader)
		pthread_setname_np(h->reader, "pm-hist-query");
	if (!h->have_writer || !h->have_reader) {
		history_stop(h);
		return NULL;
	}
	return h;
}

void history_stop(struct history *h)
{
	if (!h)
		return;
	hurry_writer(h, HURRY_ASKED);	/* what is queued is written before we go */
	hand_over(h, true);
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->wake);
	pthread_cond_broadcast(&h->jobs_wake);
	pthread_mutex_unlock(&h->lock);
	if (h->have_writer)
		pthread_join(h->writer, NULL);
	if (h->have_reader)
		pthread_join(h->reader, NULL);
	for (size_t i = 0; i < h->qn; i++)
		hrow_free(&h->q[i]);
	for (size_t i = 0; i < h->stashn; i++)
		hrow_free(&h->stash[i]);
	while (h->jobs || h->done) {
		struct job *j = h->jobs ? h->jobs : h->done;

		if (j == h->jobs)
			h->jobs = j->next;
		else
			h->done = j->next;
		buf_free(&j->out);
		free(j);
	}
	hstore_close(h->st);
	close(h->efd);
	rows_free(h->q, QUEUE_MAX);
	rows_free(h->stash, STASH_MAX);
	free(h);
}

void history_event(void *arg, const struct pm_event *ev)
{
	struct history *h = arg;

	if (ev->type == EV_PROMPT || ev->type == EV_TRAFFIC)
		return;	/* a prompt's answer is what is recorded; traffic is in the ends */
	if (h->stashn >= STASH_MAX) {
		h->stash_lost++;
		return;
	}
	hrow_from_event(&h->stash[h->stashn++], ev);
	follow_main_cpu(h);
	hand_over(h, false);
	pace_writer(h);
}

void history_tick(struct history *h)
{
	if (!h)
		return;
	hand_over(h, false);
	pace_writer(h);
}

pid_t history_writer_tid(struct history *h)
{
	return __atomic_load_n(&h->idle_writer, __ATOMIC_ACQUIRE);
}

void history_hold_queue(struct history *h, bool hold)
{
	if (hold)
		pthread_mutex_lock(&h->lock);
	else
		pthread_mutex_unlock(&h->lock);
}

void history_sync(struct history *h)
{
	hurry_writer(h, HURRY_ASKED);
	hand_over(h, true);
	pthread_mutex_lock(&h->lock);
	while (h->qn || h->taken) {
		h->flush_now = true;
		pthread_cond_signal(&h->wake);
		pthread_cond_wait(&h->idle, &h->lock);
	}
	pthread_mutex_unlock(&h->lock);
}

void history_stats(struct history *h, struct buf *rec)
{
	main_lock(h);
	rec_str(rec, "history", h->path);
	rec_u64(rec, "history_written", h->written);
	rec_u64(rec, "history_lost", h->lost + h->stash_lost);
	rec_u64(rec, "history_queued", h->qn + h->stashn);
	rec_u64(rec, "history_bytes", h->bytes);
	rec_str(rec, "history_error", h->error[0] ? h->error : "-");
	for (int i = 0; i < HURRY_N; i++)
		rec_u64(rec, hurry_key[i], h->hurried[i]);
	pthread_mutex_unlock(&h->lock);
}

int history_query(struct history *h, const struct hquery *q, history_done_fn done, void *arg)
{
	struct job *j;

	main_lock(h);
	if (h->njobs >= QUERIES_MAX) {
		pthread_mutex_unlock(&h->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&h->lock);
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->q = *q;
	j->done = done;
	j->arg = arg;
	buf_init(&j->out);
	hand_over(h, true);
	hurry_writer(h, HURRY_ASKED);
	main_lock(h);
	j->upto = h->queued;
	h->flush_now = true;
	pthread_cond_signal(&h->wake);
	h->njobs++;
	/* In order of arrival. */
	{
		struct job **pp = &h->jobs;

		while (*pp)
			pp = &(*pp)->next;
		*pp = j;
	}
	pthread_cond_signal(&h->jobs_wake);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int history_fd(struct history *h)
{
	return h->efd;
}

void history_poll(struct history *h)
{
	uint64_t v;
	struct job *list, *rev = NULL;

	if (read(h->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pm_warn("history: eventfd: %s", strerror(errno));
	main_lock(h);
	list = h->done;
	h->done = NULL;
	for (struct job *j = list; j; j = j->next)
		h->njobs--;
	pthread_mutex_unlock(&h->lock);
	/* Completed in the order they were started. */
	while (list) {
		struct job *n = list->next;

		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct job *n = rev->next;

		rev->done(rev->arg, &rev->out, rev->n, rev->n < 0 ? rev->err : NULL);
		buf_free(&rev->out);
		free(rev);
		rev = n;
	}
}
