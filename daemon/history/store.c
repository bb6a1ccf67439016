// SPDX-License-Identifier: GPL-2.0
/*
 * The history in SQLite.  Programs are stored once (a path is most of a
 * row's size); flows point to them.  A row's id is its start time in ms
 * times 4096 plus a count (ID_SHIFT), kept increasing: the table itself is
 * in time order, so a time range, retention and "the newest" need no index
 * of their own, and the one index, on the program, is (program, time) as
 * it stands.  One index a row is what a write costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/portmaster.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decide/flow.h"
#include "history/store.h"
#include "common/util.h"

#define FLOW_SLOTS (1u << 17)	/* the daemon's flow id -> row, direct-mapped */
#define PROG_SLOTS 1024		/* executable -> program id cache */
#define HOUR_MS 3600000ull
#define ID_SHIFT 12
#define SCHEMA_VERSION 1
#define ROLL_MAX 256

/* A batch's additions to the hourly table, summed before they are written. */
struct roll {
	int64_t prog, hour;
	int64_t flows, blocked, bytes_out, bytes_in;
};

struct flow_slot {
	uint64_t flow_id;
	int64_t rowid;
};

struct prog_slot {
	char *exe;
	int64_t id;
};

struct hstore {
	sqlite3 *db;
	sqlite3_stmt *ins_flow, *end_flow, *ins_dns, *ins_prog, *get_prog, *add_hour;
	struct roll roll[ROLL_MAX];
	int nroll;
	struct flow_slot *flows;
	struct prog_slot prog[PROG_SLOTS];
	int64_t last_flow, last_dns;	/* the newest ids */
};

static const char schema[] =
	"PRAGMA auto_vacuum = INCREMENTAL;"
	"CREATE TABLE IF NOT EXISTS programs ("
	" id INTEGER PRIMARY KEY, exe TEXT NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS flows ("
	" id INTEGER PRIMARY KEY, start INTEGER NOT NULL, end INTEGER,"
	" prog INTEGER, pid INTEGER, uid INTEGER, unit TEXT, dir INTEGER, proto INTEGER,"
	" peer TEXT, port INTEGER, domain TEXT, verdict TEXT, rule INTEGER,"
	" bytes_out INTEGER, bytes_in INTEGER, packets_out INTEGER, packets_in INTEGER);"
	"CREATE INDEX IF NOT EXISTS flows_prog ON flows (prog);"
	"CREATE TABLE IF NOT EXISTS dns ("
	" id INTEGER PRIMARY KEY, time INTEGER NOT NULL, prog INTEGER, pid INTEGER,"
	" uid INTEGER, unit TEXT, qname TEXT, qtype INTEGER, rcode INTEGER, answers TEXT,"
	" verdict TEXT, rule INTEGER);"
	"CREATE INDEX IF NOT EXISTS dns_prog ON dns (prog);"
	/* Per program and hour, kept as flows are written: a month's chart
	 * reads 720 rows a program, not every flow. */
	"CREATE TABLE IF NOT EXISTS hourly ("
	" prog INTEGER NOT NULL, hour INTEGER NOT NULL, flows INTEGER NOT NULL DEFAULT 0,"
	" blocked INTEGER NOT NULL DEFAULT 0, bytes_out INTEGER NOT NULL DEFAULT 0,"
	" bytes_in INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (prog, hour)) WITHOUT ROWID;";


void hrow_from_event(struct hrow *r, const struct pm_event *ev)
{
	memset(r, 0, sizeof(*r));
	r->ev = *ev;
	r->exe = ev->exe ? strdup(ev->exe) : NULL;
	r->domain = ev->domain ? strdup(ev->domain) : NULL;
	r->answers = ev->answers ? strdup(ev->answers) : NULL;
	if (ev->cgroup) {	/* the unit it ran in then, not whatever the pid is now */
		size_t n;
		const char *u = cgroup_unit(ev->cgroup, &n);

		r->unit = u ? strndup(u, n) : NULL;
		r->unit_known = true;
	}
	/* The strings in ev are borrowed; only ours stay valid. */
	r->ev.exe = r->ev.domain = r->ev.qname = r->ev.answers = r->ev.cgroup = NULL;
}

void hrow_free(struct hrow *r)
{
	free(r->exe);
	free(r->domain);
	free(r->unit);
	free(r->answers);
	memset(r, 0, sizeof(*r));
}

static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

/*
 * SQLite's memory statistics take a global mutex on every allocation:
 * a tenth of what writing a flow costs, for numbers nobody reads.  Only
 * possible before SQLite starts; should it have started, they stay on.
 */
static void configure_sqlite(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return HS_OK;
	case SQLITE_FULL: return HS_FULL;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_IOERR: case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		return HS_BROKEN;
	default: return HS_OTHER;
	}
}

static int fail(struct hstore *s, int rc, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return classify(rc) == HS_OK ? HS_OTHER : classify(rc);
}

static int64_t one_int(struct hstore *s, const char *sql);

/* A database of another layout is not ours to write into: broken. */
static int check_version(struct hstore *s)
{
	int64_t v = one_int(s, "PRAGMA user_version");
	int64_t tables = one_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'flows'");
	char sql[64];

	if (v < 0 || tables < 0)
		return SQLITE_NOTADB;
	if (v == SCHEMA_VERSION)
		return SQLITE_OK;
	if (tables)
		return SQLITE_CORRUPT;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* A new row's id: its time, after every id given so far. */
static int64_t next_id(int64_t *last, uint64_t time_ms)
{
	int64_t id = (int64_t)(time_ms << ID_SHIFT);

	if (id <= *last)
		id = *last + 1;
	*last = id;
	return id;
}

int hstore_open(struct hstore **sp, const char *path, bool readonly, char *err, size_t errlen)
{
	struct hstore *s = calloc(1, sizeof(*s));
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc;

	*sp = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return HS_OTHER;
	}
	if (!readonly) {
		/* Who talked to whom is for root: made 0600 before SQLite makes
		 * it (its -wal and -shm files take the database's mode). */
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	pthread_once(&sqlite_configured, configure_sqlite);
	rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(s, rc, path, err, errlen);
		hstore_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 0);
	/* A writer holds the lock for one batch: readers wait that long. */
	sqlite3_busy_timeout(s->db, 2000);
	if (!readonly) {
		/* Reading the first page finds a file that is not a database. */
		rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
				  NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = check_version(s);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO flows (start, prog, pid, uid, unit, dir, proto, peer, port,"
				" domain, verdict, rule, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
				" ?11, ?12, ?13)", -1, &s->ins_flow, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db,
				"UPDATE flows SET end = ?2, bytes_out = ?3, bytes_in = ?4,"
				" packets_out = ?5, packets_in = ?6 WHERE id = ?1", -1, &s->end_flow, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO dns (time, prog, pid, uid, unit, qname, qtype, rcode, answers,"
				" verdict, rule, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
				-1, &s->ins_dns, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO programs (exe) VALUES (?1)",
						-1, &s->ins_prog, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db, "SELECT id FROM programs WHERE exe = ?1", -1,
						&s->get_prog, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO hourly VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (prog, hour)"
				" DO UPDATE SET flows = flows + excluded.flows,"
				" blocked = blocked + excluded.blocked,"
				" bytes_out = bytes_out + excluded.bytes_out,"
				" bytes_in = bytes_in + excluded.bytes_in", -1, &s->add_hour, NULL);
		if (rc != SQLITE_OK) {
			rc = fail(s, rc, path, err, errlen);
			hstore_close(s);
			return rc;
		}
		s->last_flow = one_int(s, "SELECT coalesce(max(id), 0) FROM flows");
		s->last_dns = one_int(s, "SELECT coalesce(max(id), 0) FROM dns");
		s->flows = calloc(FLOW_SLOTS, sizeof(*s->flows));
		if (!s->flows) {
			snprintf(err, errlen, "out of memory");
			hstore_close(s);
			return HS_OTHER;
		}
	}
	*sp = s;
	return HS_OK;
}

void hstore_close(struct hstore *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->ins_flow);
	sqlite3_finalize(s->end_flow);
	sqlite3_finalize(s->ins_dns);
	sqlite3_finalize(s->ins_prog);
	sqlite3_finalize(s->get_prog);
	sqlite3_finalize(s->add_hour);
	sqlite3_close_v2(s->db);
	for (int i = 0; i < PROG_SLOTS; i++)
		free(s->prog[i].exe);
	free(s->flows);
	free(s);
}

static uint32_t str_hash(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The program's id, created on first sight; 0 for an unknown program. */
static int prog_id(struct hstore *s, const char *exe, int64_t *id)
{
	struct prog_slot *slot;
	int rc;

	*id = 0;
	if (!exe)
		return SQLITE_OK;
	slot = &s->prog[str_hash(exe) % PROG_SLOTS];
	if (slot->exe && !strcmp(slot->exe, exe)) {
		*id = slot->id;
		return SQLITE_OK;
	}
	sqlite3_bind_text(s->ins_prog, 1, exe, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->ins_prog);
	sqlite3_reset(s->ins_prog);
	if (rc != SQLITE_DONE)
		return rc;
	sqlite3_bind_text(s->get_prog, 1, exe, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->get_prog);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s->get_prog, 0);
	sqlite3_reset(s->get_prog);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
	/* Cached only once the transaction that made it commits; see
	 * hstore_write, which forgets the cache on a rollback. */
	free(slot->exe);
	slot->exe = strdup(exe);
	slot->id = slot->exe ? *id : 0;
	return SQLITE_OK;
}

static int roll_flush(struct hstore *s)
{
	sqlite3_stmt *st = s->add_hour;
	int rc = SQLITE_DONE;

	for (int i = 0; i < s->nroll && rc == SQLITE_DONE; i++) {
		const struct roll *r = &s->roll[i];

		sqlite3_bind_int64(st, 1, r->prog);
		sqlite3_bind_int64(st, 2, r->hour);
		sqlite3_bind_int64(st, 3, r->flows);
		sqlite3_bind_int64(st, 4, r->blocked);
		sqlite3_bind_int64(st, 5, r->bytes_out);
		sqlite3_bind_int64(st, 6, r->bytes_in);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	s->nroll = 0;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int roll_add(struct hstore *s, int64_t prog, uint64_t t_ms, int64_t flows, int64_t blocked,
		    int64_t bytes_out, int64_t bytes_in)
{
	int64_t hour = (int64_t)(t_ms / HOUR_MS);
	struct roll *r = NULL;
	int rc;

	for (int i = s->nroll - 1; i >= 0; i--)
		if (s->roll[i].prog == prog && s->roll[i].hour == hour) {
			r = &s->roll[i];
			break;
		}
	if (!r) {
		if (s->nroll == ROLL_MAX && (rc = roll_flush(s)) != SQLITE_OK)
			return rc;
		r = &s->roll[s->nroll++];
		*r = (struct roll){ .prog = prog, .hour = hour };
	}
	r->flows += flows;
	r->blocked += blocked;
	r->bytes_out += bytes_out;
	r->bytes_in += bytes_in;
	return SQLITE_OK;
}

static bool is_allowed(const char *verdict)
{
	return verdict && (!strcmp(verdict, "allow") || !strncmp(verdict, "reroute", 7));
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int write_flow(struct hstore *s, struct hrow *r)
{
	const struct pm_event *ev = &r->ev;
	char peer[64];
	int64_t prog;
	int rc = prog_id(s, r->exe, &prog);
	sqlite3_stmt *st = s->ins_flow;

	if (rc != SQLITE_OK)
		return rc;
	addr_str(ev->family, ev->raddr, peer, sizeof(peer));
	sqlite3_bind_int64(st, 1, (int64_t)ev->time_ms);
	if (prog)
		sqlite3_bind_int64(st, 2, prog);
	else
		sqlite3_bind_null(st, 2);
	if (ev->pid)
		sqlite3_bind_int(st, 3, ev->pid);
	else
		sqlite3_bind_null(st, 3);
	if (ev->have_uid)
		sqlite3_bind_int64(st, 4, ev->uid);
	else
		sqlite3_bind_null(st, 4);
	bind_opt_text(st, 5, r->unit);
	sqlite3_bind_int(st, 6, ev->dir);
	sqlite3_bind_int(st, 7, ev->proto);
	sqlite3_bind_text(st, 8, peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 9, ev->dir == PM_DIR_OUT ? ev->rport : ev->lport);
	bind_opt_text(st, 10, r->domain);
	sqlite3_bind_text(st, 11, ev->verdict ? ev->verdict : "unknown", -1, SQLITE_STATIC);
	if (ev->rule_id)
		sqlite3_bind_int64(st, 12, ev->rule_id);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int64(st, 13, next_id(&s->last_flow, ev->time_ms));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return rc;
	if (ev->flow_id) {
		struct flow_slot *c = &s->flows[ev->flow_id % FLOW_SLOTS];

		c->flow_id = ev->flow_id;
		c->rowid = sqlite3_last_insert_rowid(s->db);
	}
	return roll_add(s, prog, ev->time_ms, 1, !is_allowed(ev->verdict), 0, 0);
}

static int write_end(struct hstore *s, const struct hrow *r)
{
	const struct pm_event *ev = &r->ev;
	struct flow_slot *c = &s->flows[ev->flow_id % FLOW_SLOTS];
	sqlite3_stmt *st = s->end_flow;
	int rc;

	if (!ev->flow_id || c->flow_id != ev->flow_id)
		return SQLITE_OK;	/* its start was not written here */
	sqlite3_bind_int64(st, 1, c->rowid);
	sqlite3_bind_int64(st, 2, (int64_t)ev->time_ms);
	sqlite3_bind_int64(st, 3, (int64_t)ev->bytes_out);
	sqlite3_bind_int64(st, 4, (int64_t)ev->bytes_in);
	sqlite3_bind_int64(st, 5, (int64_t)ev->pkts_out);
	sqlite3_bind_int64(st, 6, (int64_t)ev->pkts_in);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	c->flow_id = 0;
	if (rc != SQLITE_DONE)
		return rc;
	/* Counted in the hour the flow began, where its chart shows it. */
	if (r->exe && ev->start_ms) {
		int64_t prog;

		rc = prog_id(s, r->exe, &prog);
		if (rc == SQLITE_OK)
			rc = roll_add(s, prog, ev->start_ms, 0, 0, (int64_t)ev->bytes_out,
				      (int64_t)ev->bytes_in);
		return rc;
	}
	return SQLITE_OK;
}

static int write_dns(struct hstore *s, struct hrow *r)
{
	const struct pm_event *ev = &r->ev;
	sqlite3_stmt *st = s->ins_dns;
	int64_t prog;
	int rc = prog_id(s, r->exe, &prog);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)ev->time_ms);
	if (prog)
		sqlite3_bind_int64(st, 2, prog);
	else
		sqlite3_bind_null(st, 2);
	if (ev->pid)
		sqlite3_bind_int(st, 3, ev->pid);
	else
		sqlite3_bind_null(st, 3);
	if (ev->have_uid)
		sqlite3_bind_int64(st, 4, ev->uid);
	else
		sqlite3_bind_null(st, 4);
	bind_opt_text(st, 5, r->unit);
	bind_opt_text(st, 6, r->domain);
	sqlite3_bind_int(st, 7, ev->qtype);
	sqlite3_bind_int(st, 8, ev->rcode);
	bind_opt_text(st, 9, r->answers);
	sqlite3_bind_text(st, 10, ev->verdict ? ev->verdict : "allow", -1, SQLITE_STATIC);
	if (ev->rule_id)
		sqlite3_bind_int64(st, 11, ev->rule_id);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int64(st, 12, next_id(&s->last_dns, ev->time_ms));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int hstore_write(struct hstore *s, struct hrow *rows, size_t n, char *err, size_t errlen)
{
	int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail(s, rc, "begin", err, errlen);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		switch (rows[i].ev.type) {
		case EV_FLOW:
		case EV_ANSWER:
			rc = write_flow(s, &rows[i]);
			break;
		case EV_END:
			rc = write_end(s, &rows[i]);
			break;
		case EV_DNS:
			rc = write_dns(s, &rows[i]);
			break;
		default:
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = roll_flush(s);
	else
		s->nroll = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int r = fail(s, rc, "writing the history", err, errlen);

		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		/* Program ids made in this transaction are gone with it. */
		for (int i = 0; i < PROG_SLOTS; i++) {
			free(s->prog[i].exe);
			s->prog[i].exe = NULL;
		}
		return r;
	}
	return HS_OK;
}

static int64_t one_int(struct hstore *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

uint64_t hstore_size(struct hstore *s)
{
	int64_t pages = one_int(s, "PRAGMA page_count"), free_ = one_int(s, "PRAGMA freelist_count");
	int64_t size = one_int(s, "PRAGMA page_size");

	if (pages < 0 || free_ < 0 || size < 0)
		return 0;
	return (uint64_t)(pages - free_) * (uint64_t)size;
}

void hstore_limit_pages(struct hstore *s, uint32_t pages)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %u", pages);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static long delete_before(struct hstore *s, uint64_t before_ms)
{
	sqlite3_stmt *st;
	long n = 0;
	static const char *const sql[] = { "DELETE FROM flows WHERE id < ?1 * 4096",
					   "DELETE FROM dns WHERE id < ?1 * 4096",
					   "DELETE FROM hourly WHERE hour < ?1 / 3600000" };

	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int64(st, 1, (int64_t)before_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -1;
		}
		if (i < 2)
			n += sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	return n;
}

long hstore_prune(struct hstore *s, uint64_t before_ms, uint64_t max_bytes)
{
	long n = delete_before(s, before_ms), m;

	if (n < 0)
		return -1;
	/* Over the bound: the oldest tenth goes, until it fits. */
	for (int round = 0; max_bytes && hstore_size(s) > max_bytes && round < 10; round++) {
		int64_t cutoff = one_int(s,
			"SELECT id / 4096 FROM flows ORDER BY id LIMIT 1 OFFSET "
			"(SELECT count(*) / 10 FROM flows)");

		if (cutoff <= 0)
			break;
		m = delete_before(s, (uint64_t)cutoff + 1);
		if (m <= 0)
			break;
		n += m;
	}
	/* Give the freed pages back to the file system. */
	sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	return n;
}

static long run_rows(struct hstore *s, sqlite3_stmt *st, hstore_row_fn row, void *arg,
		     char *err, size_t errlen)
{
	int ncols = sqlite3_column_count(st), rc, nout = 0;
	const char *names[32], *vals[32];
	int cols[32];
	long n = 0;

	if (ncols > 32)
		ncols = 32;
	/* "rowid_" orders the rows; it is not one of their fields. */
	for (int i = 0; i < ncols; i++)
		if (strcmp(sqlite3_column_name(st, i), "rowid_")) {
			cols[nout] = i;
			names[nout++] = sqlite3_column_name(st, i);
		}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < nout; i++)
			vals[i] = (const char *)sqlite3_column_text(st, cols[i]);
		row(arg, names, vals, nout);
		n++;
	}
	if (rc != SQLITE_DONE) {
		fail(s, rc, "query", err, errlen);
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

/* The conditions present, and only those: an "?2 IS NULL OR prog = ..."
 * would keep the planner from the (prog, start) index. */
static void where(char *w, size_t len, const struct hfilter *f, const char *name)
{
	size_t n = (size_t)snprintf(w, len, " WHERE t.id >= ?1 * 4096");

	if (f->exe && n < len)
		n += (size_t)snprintf(w + n, len - n,
				      " AND t.prog = (SELECT id FROM programs WHERE exe = ?2)");
	if (f->domain && n < len)
		n += (size_t)snprintf(w + n, len - n, " AND (t.%s = ?3 OR t.%s LIKE '%%.' || ?3)",
				      name, name);
	if (f->verdict && n < len)
		snprintf(w + n, len - n, " AND t.verdict = ?4");
}

long hstore_query(struct hstore *s, const struct hfilter *f, hstore_row_fn row, void *arg,
		  char *err, size_t errlen)
{
	static const char flows_sql[] =
		"SELECT 'flow' AS kind, t.start AS start, t.end AS end, t.pid AS pid, t.uid AS uid,"
		" p.exe AS exe, t.unit AS unit,"
		" CASE t.dir WHEN 0 THEN 'out' ELSE 'in' END AS dir,"
		" CASE t.proto WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp'"
		"  WHEN 58 THEN 'icmpv6' ELSE t.proto END AS proto,"
		" t.peer AS peer, t.port AS port, t.domain AS domain, t.verdict AS verdict,"
		" t.rule AS rule, t.bytes_out AS bytes_out, t.bytes_in AS bytes_in,"
		" t.packets_out AS packets_out, t.packets_in AS packets_in, t.id AS rowid_"
		" FROM flows t LEFT JOIN programs p ON p.id = t.prog";
	static const char dns_sql[] =
		"SELECT 'dns' AS kind, t.time AS start, NULL AS end, t.pid AS pid, t.uid AS uid,"
		" p.exe AS exe, t.unit AS unit, 'out' AS dir, 'dns' AS proto, NULL AS peer,"
		" t.qtype AS port, t.qname AS domain, t.verdict AS verdict, t.rule AS rule,"
		" NULL AS bytes_out, NULL AS bytes_in, NULL AS packets_out, NULL AS packets_in,"
		" t.id AS rowid_ FROM dns t LEFT JOIN programs p ON p.id = t.prog";
	char sql[4096], wf[512], wd[512], part_f[1536], part_d[1536];
	sqlite3_stmt *st;
	int rc;

	if (!f->flows && !f->dns)
		return 0;
	/* Each kind newest first within the limit (the index gives them in
	 * order), then the newest of both, returned oldest first. */
	where(wf, sizeof(wf), f, "domain");
	where(wd, sizeof(wd), f, "qname");
	snprintf(part_f, sizeof(part_f), "SELECT * FROM (%s%s ORDER BY t.id DESC LIMIT ?5)",
		 flows_sql, wf);
	snprintf(part_d, sizeof(part_d), "SELECT * FROM (%s%s ORDER BY t.id DESC LIMIT ?5)",
		 dns_sql, wd);
	if (f->flows && f->dns)
		snprintf(sql, sizeof(sql), "SELECT * FROM (SELECT * FROM (%s UNION ALL %s)"
			 " ORDER BY rowid_ DESC LIMIT ?5) ORDER BY rowid_ ASC", part_f, part_d);
	else
		snprintf(sql, sizeof(sql), "SELECT * FROM (%s) ORDER BY rowid_ ASC",
			 f->flows ? part_f : part_d);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "query", err, errlen), -1;
	sqlite3_bind_int64(st, 1, (int64_t)f->since_ms);
	if (f->exe)
		sqlite3_bind_text(st, 2, f->exe, -1, SQLITE_STATIC);
	if (f->domain)
		sqlite3_bind_text(st, 3, f->domain, -1, SQLITE_STATIC);
	if (f->verdict)
		sqlite3_bind_text(st, 4, f->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, f->limit ? f->limit : 1000);
	return run_rows(s, st, row, arg, err, errlen);
}

long hstore_series(struct hstore *s, uint64_t since_ms, uint64_t bucket_ms, const char *exe,
		   hstore_row_fn row, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char sql[1024];
	int rc;

	if (bucket_ms < HOUR_MS)
		bucket_ms = HOUR_MS;	/* the table's own grain */
	snprintf(sql, sizeof(sql),
		 "SELECT p.exe AS exe, (h.hour * 3600000 / ?2) * ?2 AS time, sum(h.flows) AS flows,"
		 " sum(h.blocked) AS blocked, sum(h.bytes_out) AS bytes_out,"
		 " sum(h.bytes_in) AS bytes_in"
		 " FROM hourly h LEFT JOIN programs p ON p.id = h.prog"
		 " WHERE h.hour >= ?1 / 3600000%s GROUP BY h.prog, time ORDER BY exe, time",
		 exe ? " AND h.prog = (SELECT id FROM programs WHERE exe = ?3)" : "");
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "query", err, errlen), -1;
	sqlite3_bind_int64(st, 1, (int64_t)since_ms);
	sqlite3_bind_int64(st, 2, (int64_t)bucket_ms);
	if (exe)
		sqlite3_bind_text(st, 3, exe, -1, SQLITE_STATIC);
	return run_rows(s, st, row, arg, err, errlen);
}
