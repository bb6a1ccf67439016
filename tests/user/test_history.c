// SPDX-License-Identifier: GPL-2.0
/* The history's database and its writer: rows, filters, totals, retention,
 * the size bound, a full database and a broken file. */
#include "test_common.h"
#include <pthread.h>
#include <stdatomic.h>
#include <linux/portmaster.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "history/history.h"
#include "history/store.h"

static char dir[] = "/tmp/pmhist.XXXXXX";

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
	unlink(out);
}

static struct pm_event flow_ev(uint64_t id, uint64_t t, const char *exe, const char *verdict,
			       uint16_t port)
{
	struct pm_event ev = {
		.type = EV_FLOW, .time_ms = t, .flow_id = id, .family = AF_INET, .proto = 6,
		.dir = PM_DIR_OUT, .lport = 40000, .rport = port, .pid = 42, .have_uid = true,
		.uid = 1000, .exe = exe, .verdict = verdict, .rule_id = 3,
	};

	ev.laddr[0] = 10, ev.laddr[3] = 1;
	ev.raddr[0] = 192, ev.raddr[1] = 0, ev.raddr[2] = 2, ev.raddr[3] = 7;
	return ev;
}

static void write_events(struct hstore *s, const struct pm_event *evs, size_t n)
{
	struct hrow rows[16];
	char err[256];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		hrow_from_event(&rows[i], &evs[i]);
	assert_int_equal(hstore_write(s, rows, n, err, sizeof(err)), HS_OK);
	for (size_t i = 0; i < n; i++)
		hrow_free(&rows[i]);
}

struct got {
	int n;
	char lines[16][512];
};

static void collect(void *arg, const char *const *names, const char *const *vals, int ncols)
{
	struct got *g = arg;
	char *l = g->lines[g->n++];

	*l = 0;
	for (int i = 0; i < ncols; i++) {
		/* start and end depend on nothing here: kept, all of it */
		snprintf(l + strlen(l), 512 - strlen(l), "%s%s=%s", i ? " " : "", names[i],
			 vals[i] ? vals[i] : "NULL");
	}
}

static void test_rows_and_filters(void **state)
{
	char path[128], err[256];
	struct hstore *s;
	struct got g = { 0 };
	struct hfilter f = { .flows = true, .dns = true };
	struct pm_event evs[4] = {
		flow_ev(1, 1000, "/usr/bin/curl", "allow", 443),
		flow_ev(2, 2000, "/usr/bin/wget", "block", 80),
		flow_ev(3, 3000, "/usr/bin/curl", "drop", 8080),
	};
	struct pm_event end = flow_ev(1, 5000, "/usr/bin/curl", "allow", 443);

	(void)state;
	/* the unit it ran in when the flow began, from the captured cgroup */
	evs[0].cgroup = "/system.slice/backup.service";
	end.type = EV_END;
	end.start_ms = 1000;
	end.bytes_out = 100, end.bytes_in = 2000, end.pkts_out = 3, end.pkts_in = 4;
	evs[3] = (struct pm_event){ .type = EV_DNS, .time_ms = 2500, .exe = "/usr/bin/curl",
				    .pid = 42, .qname = "www.example.com", .domain = "www.example.com",
				    .qtype = 1, .answers = "192.0.2.7", .verdict = "allow" };
	path_in(path, sizeof(path), "rows.db");
	assert_int_equal(hstore_open(&s, path, false, err, sizeof(err)), HS_OK);
	write_events(s, evs, 4);
	write_events(s, &end, 1);

	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 4);
	assert_string_equal(g.lines[0],
		"kind=flow start=1000 end=5000 pid=42 uid=1000 exe=/usr/bin/curl unit=backup.service dir=out "
		"proto=tcp peer=192.0.2.7 port=443 domain=NULL verdict=allow rule=3 bytes_out=100 "
		"bytes_in=2000 packets_out=3 packets_in=4");
	assert_non_null(strstr(g.lines[2], "kind=dns start=2500"));
	assert_non_null(strstr(g.lines[2], "domain=www.example.com"));
	assert_non_null(strstr(g.lines[3], "end=NULL"));

	memset(&g, 0, sizeof(g));
	f.exe = "/usr/bin/curl";
	f.dns = false;
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 2);
	assert_non_null(strstr(g.lines[1], "port=8080"));

	memset(&g, 0, sizeof(g));
	f = (struct hfilter){ .flows = true, .dns = true, .verdict = "block" };
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 1);
	assert_non_null(strstr(g.lines[0], "exe=/usr/bin/wget"));

	memset(&g, 0, sizeof(g));
	f = (struct hfilter){ .flows = true, .dns = true, .domain = "example.com" };
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 1);
	memset(&g, 0, sizeof(g));
	f = (struct hfilter){ .flows = true, .dns = true, .domain = "ample.com" };
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 0);

	memset(&g, 0, sizeof(g));
	f = (struct hfilter){ .flows = true, .since_ms = 2000, .limit = 1 };
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 1);
	assert_non_null(strstr(g.lines[0], "start=3000"));	/* the newest within the limit */

	memset(&g, 0, sizeof(g));
	assert_int_equal(hstore_series(s, 0, 10000, NULL, collect, &g, err, sizeof(err)), 2);
	assert_string_equal(g.lines[0], "exe=/usr/bin/curl time=0 flows=2 blocked=1 bytes_out=100 bytes_in=2000");
	hstore_close(s);
}

static void test_retention_and_bound(void **state)
{
	char path[128], err[256];
	struct hstore *s;
	struct hfilter f = { .flows = true, .limit = 100000 };
	struct got g;
	uint64_t before;

	(void)state;
	path_in(path, sizeof(path), "prune.db");
	assert_int_equal(hstore_open(&s, path, false, err, sizeof(err)), HS_OK);
	for (int b = 0; b < 200; b++) {
		struct pm_event evs[16];

		for (int i = 0; i < 16; i++)
			evs[i] = flow_ev((uint64_t)(b * 16 + i + 1), (uint64_t)(b * 16 + i) * 1000,
					 i % 2 ? "/usr/bin/a-rather-long-program-name" : "/bin/b",
					 "allow", 443);
		write_events(s, evs, 16);
	}
	/* Older than 1000 s goes: rows 0..999 s. */
	assert_int_equal(hstore_prune(s, 1000 * 1000, 0), 1000);
	before = hstore_size(s);
	assert_true(before > 0);
	/* A bound below the size: the oldest go until it fits. */
	assert_true(hstore_prune(s, 0, before / 2) > 0);
	assert_true(hstore_size(s) <= before / 2);
	memset(&g, 0, sizeof(g));
	f.limit = 1;
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 1);
	/* The newest row stays. */
	f.since_ms = 3199 * 1000;
	memset(&g, 0, sizeof(g));
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 1);
	hstore_close(s);
}

static void test_full(void **state)
{
	char path[128], err[256];
	struct hstore *s;
	struct hrow rows[16];
	int r = HS_OK;

	(void)state;
	path_in(path, sizeof(path), "full.db");
	assert_int_equal(hstore_open(&s, path, false, err, sizeof(err)), HS_OK);
	hstore_limit_pages(s, 12);
	for (int b = 0; b < 200 && r == HS_OK; b++) {
		for (int i = 0; i < 16; i++) {
			struct pm_event ev = flow_ev((uint64_t)(b * 16 + i + 1), 1000, "/bin/x", "allow", 1);

			hrow_from_event(&rows[i], &ev);
		}
		r = hstore_write(s, rows, 16, err, sizeof(err));
		for (int i = 0; i < 16; i++)
			hrow_free(&rows[i]);
	}
	assert_int_equal(r, HS_FULL);
	assert_non_null(strstr(err, "full"));
	hstore_close(s);
}

static void test_broken_file(void **state)
{
	char path[128], err[256];
	struct hstore *s;
	FILE *f;

	(void)state;
	path_in(path, sizeof(path), "broken.db");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++)
		fputs("not a database ", f);
	fclose(f);
	assert_int_equal(hstore_open(&s, path, false, err, sizeof(err)), HS_BROKEN);
	assert_null(s);
}

/* The writer: a broken file moved aside, events written in batches. */
static void test_writer(void **state)
{
	char path[128], aside[256];
	struct history_opts o = { .days = 30, .batch_ms = 50, .proc_root = "/nonexistent" };
	struct history *h;
	struct buf st;
	FILE *f;

	(void)state;
	path_in(path, sizeof(path), "writer.db");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++)
		fputs("garbage! ", f);
	fclose(f);
	o.path = path;
	h = history_start(&o);
	assert_non_null(h);
	for (int i = 0; i < 3000; i++) {
		struct pm_event ev = flow_ev((uint64_t)i + 1, 1000 + (uint64_t)i, "/bin/x", "allow", 1);

		history_event(h, &ev);
	}
	history_sync(h);
	buf_init(&st);
	history_stats(h, &st);
	rec_end(&st);
	assert_non_null(strstr(st.p, "\"history_written\":3000,"));
	assert_non_null(strstr(st.p, "\"history_lost\":0,"));
	assert_non_null(strstr(st.p, "\"history_error\":\"broken"));
	buf_free(&st);
	history_stop(h);
	snprintf(aside, sizeof(aside), "ls %s/writer.db.broken-* >/dev/null 2>&1", dir);
	assert_int_equal(system(aside), 0);
}

/* A flow's unit: the one of the cgroup captured with it; only when none
 * was captured, the one /proc gives its pid when the row is written. */
static void test_unit(void **state)
{
	char path[128], proc[160], cmd[512], err[256];
	struct history_opts o = { .days = 30, .batch_ms = 50, .proc_root = proc };
	struct hfilter f = { .flows = true };
	/* now, or retention takes them */
	uint64_t now = (uint64_t)time(NULL) * 1000;
	struct pm_event late = flow_ev(1, now - 2000, "/bin/x", "allow", 1);
	struct pm_event captured = flow_ev(2, now - 1000, "/bin/x", "allow", 1);
	struct got g = { 0 };
	struct history *h;
	struct hstore *s;

	(void)state;
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/42 && echo 0::/user.slice/user@1000.service/app.slice/late.service"
		 " >%s/42/cgroup", proc, proc);
	assert_int_equal(system(cmd), 0);
	path_in(path, sizeof(path), "unit.db");
	o.path = path;
	h = history_start(&o);
	assert_non_null(h);
	captured.cgroup = "/system.slice/captured.service";
	history_event(h, &late);
	history_event(h, &captured);
	history_sync(h);
	history_stop(h);

	assert_int_equal(hstore_open(&s, path, true, err, sizeof(err)), HS_OK);
	assert_int_equal(hstore_query(s, &f, collect, &g, err, sizeof(err)), 2);
	assert_non_null(strstr(g.lines[0], "unit=late.service "));
	assert_non_null(strstr(g.lines[1], "unit=captured.service "));
	hstore_close(s);
}

/* A writer preempted while it holds the queue's lock: held by a thread
 * of its own until the main thread is done (or, should the main thread
 * be stuck waiting for it, for at most 30 s). */
struct holder {
	struct history *h;
	atomic_bool held, done, gave_up;
};

static void *hold_lock(void *arg)
{
	struct holder *x = arg;

	history_hold_queue(x->h, true);
	atomic_store(&x->held, true);
	for (int i = 0; i < 3000 && !atomic_load(&x->done); i++)
		usleep(10000);
	if (!atomic_load(&x->done))
		atomic_store(&x->gave_up, true);
	history_hold_queue(x->h, false);
	return NULL;
}

/* The main thread (and with it every verdict) never waits for the
 * writer: while the lock is held, events are kept, up to a bound past
 * which they are counted as lost; once it is free they are written. */
static void test_never_waits_for_writer(void **state)
{
	char path[128];
	struct history_opts o = { .days = 30, .batch_ms = 50, .proc_root = "/nonexistent" };
	struct holder x = { 0 };
	pthread_t t;
	struct buf st;

	(void)state;
	path_in(path, sizeof(path), "held.db");
	o.path = path;
	x.h = history_start(&o);
	assert_non_null(x.h);
	assert_int_equal(pthread_create(&t, NULL, hold_lock, &x), 0);
	while (!atomic_load(&x.held))
		usleep(1000);
	for (int i = 0; i < 5000; i++) {
		struct pm_event ev = flow_ev((uint64_t)i + 1, 1000 + (uint64_t)i, "/bin/x", "allow", 1);

		history_event(x.h, &ev);
		history_tick(x.h);
	}
	atomic_store(&x.done, true);
	pthread_join(t, NULL);
	assert_false(atomic_load(&x.gave_up));
	history_sync(x.h);
	buf_init(&st);
	history_stats(x.h, &st);
	rec_end(&st);
	assert_non_null(strstr(st.p, "\"history_written\":4096,"));
	assert_non_null(strstr(st.p, "\"history_lost\":904,"));
	buf_free(&st);
	history_stop(x.h);
}

static int writer_policy(struct history *h)
{
	return sched_getscheduler(history_writer_tid(h));
}

static void hold_until_held(struct holder *x, pthread_t *t)
{
	atomic_store(&x->held, false);
	atomic_store(&x->done, false);
	assert_int_equal(pthread_create(t, NULL, hold_lock, x), 0);
	while (!atomic_load(&x->held))
		usleep(1000);
}

/* Back on idle time at a tick once all is written (a tick that finds the
 * writer holding the lock for a moment looks again at the next). */
static int policy_after_ticks(struct history *h)
{
	for (int i = 0; i < 100 && writer_policy(h) != SCHED_IDLE; i++) {
		history_tick(h);
		usleep(10000);
	}
	return writer_policy(h);
}

/* A number of history_stats (as pmctl status shows it). */
static unsigned long long stat_of(struct history *h, const char *key)
{
	char pat[64];
	struct buf st;
	unsigned long long v = ~0ull;
	const char *p;

	buf_init(&st);
	history_stats(h, &st);
	rec_end(&st);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(st.p, pat);
	if (p)
		v = strtoull(p + strlen(pat), NULL, 10);
	buf_free(&st);
	return v;
}

static struct history *start_paced(const char *name, uint32_t urgent_ms)
{
	char path[128];
	struct history_opts o = { .days = 30, .batch_ms = 50, .proc_root = "/nonexistent",
				  .urgent_ms = urgent_ms, .path = path };
	struct history *h;

	path_in(path, sizeof(path), name);
	h = history_start(&o);
	assert_non_null(h);
	for (int i = 0; i < 5000 && !history_writer_tid(h); i++)
		usleep(1000);
	assert_int_not_equal(history_writer_tid(h), 0);
	assert_int_equal(writer_policy(h), SCHED_IDLE);
	return h;
}

static void send_events(struct history *h, uint64_t first, int n)
{
	for (int i = 0; i < n; i++) {
		struct pm_event ev = flow_ev(first + (uint64_t)i, first + (uint64_t)i,
					     "/bin/x", "allow", 1);

		history_event(h, &ev);
	}
}

/* The writer uses idle time only while it keeps up.  Kept from the lock
 * while the main thread's stash fills, or with events waiting longer
 * than urgent_ms, it runs as an ordinary thread at nice 10, and goes
 * back to idle time once it has written everything. */
static void test_writer_paced(void **state)
{
	struct holder x = { 0 };
	struct rlimit rl;
	pthread_t t;

	(void)state;
	if (geteuid() != 0 && (getrlimit(RLIMIT_NICE, &rl) || rl.rlim_cur < 10))
		skip();	/* the writer may not leave idle time: it never goes there */

	/* the stash half full (2,048) behind a held lock */
	x.h = start_paced("paced.db", 600000);
	hold_until_held(&x, &t);
	send_events(x.h, 1, 2047);
	assert_int_equal(writer_policy(x.h), SCHED_IDLE);
	send_events(x.h, 5000, 1);
	assert_int_equal(writer_policy(x.h), SCHED_OTHER);
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)history_writer_tid(x.h)), 10);
	atomic_store(&x.done, true);
	pthread_join(t, NULL);
	history_sync(x.h);
	assert_int_equal(policy_after_ticks(x.h), SCHED_IDLE);
	assert_true(stat_of(x.h, "history_hurried_lock") >= 1);
	assert_int_equal(stat_of(x.h, "history_hurried_late"), 0);
	assert_int_equal(stat_of(x.h, "history_hurried_full"), 0);
	history_stop(x.h);

	/* one event that waits longer than urgent_ms (1 s) */
	x.h = start_paced("aged.db", 1000);
	hold_until_held(&x, &t);
	send_events(x.h, 1, 1);
	history_tick(x.h);
	assert_int_equal(writer_policy(x.h), SCHED_IDLE);
	usleep(1100 * 1000);
	history_tick(x.h);
	assert_int_equal(writer_policy(x.h), SCHED_OTHER);
	atomic_store(&x.done, true);
	pthread_join(t, NULL);
	history_sync(x.h);
	assert_int_equal(policy_after_ticks(x.h), SCHED_IDLE);
	assert_int_equal(stat_of(x.h, "history_hurried_late"), 1);
	history_stop(x.h);
}

/* The CPUs a thread may run on, as a count and whether cpu is one. */
static int cpus_of(pid_t tid, int cpu, bool *has)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(tid, sizeof(set), &set), 0);
	*has = CPU_ISSET(cpu, &set);
	return CPU_COUNT(&set);
}

static cpu_set_t cpus_before_test;

/* Our CPUs back, even when an assertion ended the test half way. */
static int restore_cpus(void **state)
{
	(void)state;
	if (!CPU_COUNT(&cpus_before_test))	/* skipped before it pinned us */
		return 0;
	return sched_setaffinity(0, sizeof(cpus_before_test), &cpus_before_test) ? -1 : 0;
}

/* On idle time, the writer may run only on the CPU the main thread ran
 * on at its last event, so that it never writes beside the main thread;
 * hurried, it has every CPU it started with. */
static void test_writer_follows_main_cpu(void **state)
{
	struct holder x = { 0 };
	cpu_set_t mine, one;
	struct rlimit rl;
	pthread_t t;
	bool has;
	int cpu, n;

	(void)state;
	if (geteuid() != 0 && (getrlimit(RLIMIT_NICE, &rl) || rl.rlim_cur < 10))
		skip();	/* the writer never goes to idle time: nothing to keep */
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	cpus_before_test = mine;
	x.h = start_paced("follow.db", 600000);	/* its writer gets our CPUs */
	cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);	/* "main" stays */
	assert_int_equal(cpus_of(history_writer_tid(x.h), cpu, &has), CPU_COUNT(&mine));
	send_events(x.h, 1, 1);
	assert_int_equal(cpus_of(history_writer_tid(x.h), cpu, &has), 1);
	assert_true(has);

	/* hurried (the stash half full behind a held lock): every CPU again */
	hold_until_held(&x, &t);
	send_events(x.h, 2, 2048);
	assert_int_equal(writer_policy(x.h), SCHED_OTHER);
	n = cpus_of(history_writer_tid(x.h), cpu, &has);
	assert_int_equal(n, CPU_COUNT(&mine));
	atomic_store(&x.done, true);
	pthread_join(t, NULL);
	history_sync(x.h);
	assert_int_equal(policy_after_ticks(x.h), SCHED_IDLE);
	/* back on idle time: kept to the main thread's CPU at the next event */
	send_events(x.h, 5000, 1);
	assert_int_equal(cpus_of(history_writer_tid(x.h), cpu, &has), 1);
	assert_true(has);
	history_stop(x.h);
}

struct answer {
	bool done;
	long n;
};

static void on_answer(void *arg, struct buf *recs, long n, const char *err)
{
	struct answer *a = arg;

	(void)recs;
	(void)err;
	a->n = n;
	a->done = true;
}

/* A query sees every event handed over before it was asked, though the
 * writer, left alone, would wait a minute before writing them. */
static void test_query_sees_what_came_before(void **state)
{
	char path[128];
	struct history_opts o = { .days = 30, .batch_ms = 60000, .proc_root = "/nonexistent",
				  .path = path };
	struct hquery q = { .flows = true, .limit = 1000 };
	struct answer a = { 0 };
	struct history *h;
	struct pollfd p;

	(void)state;
	path_in(path, sizeof(path), "query.db");
	h = history_start(&o);
	assert_non_null(h);
	for (int i = 0; i < 100; i++) {	/* now: older rows are pruned */
		struct pm_event ev = flow_ev((uint64_t)i + 1, (uint64_t)time(NULL) * 1000,
					     "/bin/x", "allow", 1);

		history_event(h, &ev);
	}
	assert_int_equal(history_query(h, &q, on_answer, &a), 0);
	p.fd = history_fd(h);
	p.events = POLLIN;
	for (int i = 0; i < 300 && !a.done; i++) {
		poll(&p, 1, 100);
		history_poll(h);
	}
	assert_true(a.done);
	assert_int_equal(a.n, 100);
	history_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_and_filters),
		cmocka_unit_test(test_retention_and_bound),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_broken_file),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_unit),
		cmocka_unit_test(test_never_waits_for_writer),
		cmocka_unit_test(test_writer_paced),
		cmocka_unit_test_teardown(test_writer_follows_main_cpu, restore_cpus),
		cmocka_unit_test(test_query_sees_what_came_before),
	};
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = RUN("history", tests);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			r = 1;
	}
	return r;
}
