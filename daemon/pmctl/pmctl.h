/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PMCTL_H
#define PMCTL_H

#include <stdbool.h>
#include <stdio.h>
#include "control/proto.h"

/* Exit statuses: documented in pmctl(8). */
#define EXIT_OK 0
#define EXIT_ERR 1
#define EXIT_USAGE 2

enum out_format { OUT_TABLE, OUT_TSV, OUT_JSON };

struct pmctl {
	const char *socket;
	enum out_format fmt;
	FILE *out, *err;
};

/* Keys a record may have.  pmctl status in module mode with the history
 * and the resolver on has some 80; each record of a reply keeps only the
 * pairs it has (pmctl list can have 32768 records). */
#define REC_MAX_KV 256

struct record {
	int n;
	struct proto_kv *kv;	/* n pairs: malloc'd in a reply, else the caller's */
};

struct reply {
	char *raw;		/* storage for the records */
	int nrec;
	struct record *rec;
	char errcode[16];
	char errmsg[512];
	bool is_error;
};

/* Sends one request and reads its reply. EXIT_OK, or EXIT_ERR with a
 * message printed to p->err. A daemon's "error" reply is EXIT_OK here
 * with r->is_error set. */
int pmctl_request(struct pmctl *p, const char *cmd, struct reply *r);
/* The same with arguments (req_arg() into args). */
int pmctl_request_args(struct pmctl *p, const char *cmd, struct buf *args, struct reply *r);
void reply_free(struct reply *r);
/* pmctl_request(), with an "error" reply reported and freed: EXIT_OK
 * leaves a good reply in r for the caller to free. */
int pmctl_request_ok(struct pmctl *p, const char *cmd, struct reply *r);
/* Sends one request and prints its reply: the records under cols (an
 * array, or a single object in JSON unless as_array), or "ok" when cols
 * is NULL.  Returns the exit status.  The _buf form frees b. */
int pmctl_call(struct pmctl *p, const char *cmd, const char *const *cols, bool as_array);
int pmctl_call_args(struct pmctl *p, const char *cmd, struct buf *args, const char *const *cols,
		    bool as_array);
/* b holds the command as its text and the arguments (req_arg()). */
int pmctl_call_buf(struct pmctl *p, struct buf *b, const char *const *cols, bool as_array);
/* Reports a daemon error reply; returns the exit status for it. */
int pmctl_report_error(struct pmctl *p, const struct reply *r);
const char *rec_get(const struct record *r, const char *key);

/* Output in the chosen format; cols lists the keys for table and TSV. */
void print_records(struct pmctl *p, const struct reply *r, const char *const *cols,
		   bool as_array);
void print_kv(struct pmctl *p, const struct record *r);
void print_empty_ok(struct pmctl *p);

/* A connected socket to the daemon, or -1 with a message printed. */
int connect_daemon(struct pmctl *p);
/* One record as a JSON object, as -j prints it. */
void json_record(FILE *f, const struct record *r);

/* Request building: buf_addf(b, "cmd"), then req_arg() for each argument. */
void req_arg(struct buf *b, const char *key, const char *val);

struct pmctl_cmd {
	const char *name;
	int (*fn)(struct pmctl *p, int argc, char **argv);
	const char *usage;
};

/* The columns of a rule, for rule add/list and verdict with a scope. */
extern const char *const rule_cols[];

int cmd_status(struct pmctl *p, int argc, char **argv);
int cmd_list(struct pmctl *p, int argc, char **argv);
int cmd_pending(struct pmctl *p, int argc, char **argv);
int cmd_verdict(struct pmctl *p, int argc, char **argv);
int cmd_rule(struct pmctl *p, int argc, char **argv);
int cmd_default(struct pmctl *p, int argc, char **argv);
int cmd_preset(struct pmctl *p, int argc, char **argv);
int cmd_apps(struct pmctl *p, int argc, char **argv);
int cmd_history(struct pmctl *p, int argc, char **argv);
int cmd_monitor(struct pmctl *p, int argc, char **argv);
int cmd_ui(struct pmctl *p, int argc, char **argv);
int cmd_notify(struct pmctl *p, int argc, char **argv);
int cmd_top(struct pmctl *p, int argc, char **argv);

int usage_error(struct pmctl *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole program, callable from the tests. */
int pmctl_main(int argc, char **argv, FILE *out, FILE *err);

#endif
