/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between pmctl and portmasterd (see portmasterd(8),
 * CONTROL PROTOCOL).  JSON messages built and parsed by json-c, one a
 * line, over a unix stream socket:
 *
 *   request:  {"cmd": COMMAND, "args": {KEY: VALUE, ...}}\n  (at most PROTO_MAX_LINE)
 *   reply:    {"ok": N}\n followed by N records, one JSON object a line
 *         or  {"error": CODE, "message": MESSAGE}\n   (CODE: usage, perm, noent,
 *                                                   inval, busy, internal)
 *
 * Commands and keys are [a-z0-9_-]; values are strings (numbers are taken
 * as their text).  json-c escapes every control byte, so no record ever
 * holds a raw newline.  The rules file (decide/rules.c) is the one place
 * where values are still percent-encoded: pct_encode()/pct_decode().
 */
#ifndef PM_PROTO_H
#define PM_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAX_LINE 4096
#define PROTO_MAX_ARGS 16

struct proto_kv {
	char *key;
	char *val;
	bool num;	/* a JSON number on the wire */
};

struct proto_req {
	char *cmd;
	int nargs;
	struct proto_kv args[PROTO_MAX_ARGS];
	char store[PROTO_MAX_LINE + 2 * PROTO_MAX_ARGS + 64];	/* the strings */
};

/*
 * A growing output buffer; on allocation failure it stays valid and sets
 * oom.  rec holds the record that rec_*() are building until rec_end().
 */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
	json_object *rec;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Percent-encodes src into b (the rules file's values). */
void pct_encode(struct buf *b, const char *src);
/* Decodes in place; -1 for a bad escape or an encoded NUL. */
int pct_decode(char *s);

/* Parses a request line (without its newline) into req. Returns 0, or -1
 * with *err set to a message for the client. */
int proto_parse_req(char *line, struct proto_req *req, const char **err);
const char *proto_arg(const struct proto_req *req, const char *key);

/* Record building: one JSON object a line. */
void rec_str(struct buf *b, const char *key, const char *val);
void rec_u64(struct buf *b, const char *key, uint64_t v);
void rec_i64(struct buf *b, const char *key, int64_t v);
void rec_end(struct buf *b);

/* Reply headers. */
void proto_ok(struct buf *b, long n);
void proto_error(struct buf *b, const char *code, const char *msg);

/*
 * A request line: {"cmd": cmd, "args": the record being built in args
 * (rec_str() and friends, without rec_end()), if any}, with its newline.
 * args->rec is used up.
 */
void proto_request(struct buf *out, const char *cmd, struct buf *args);

/* A reply's header line: 0 with *n records to follow, 1 for an error
 * (code and message copied out), -1 when malformed. */
int proto_parse_header(const char *line, long *n, char *code, size_t codelen, char *msg,
		       size_t msglen);
/* Parses a record line into at most max pairs, the strings stored in the
 * line itself; -1 when malformed. */
int proto_parse_record(char *line, struct proto_kv *kv, int max);

/* May this key's value be printed as a JSON number when it is one? */
bool proto_key_numeric(const char *key);

#endif
