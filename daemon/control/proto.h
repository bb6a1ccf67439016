/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between pmctl and portmasterd (see portmasterd(8),
 * CONTROL PROTOCOL).  Text lines over a unix stream socket:
 *
 *   request:  COMMAND [KEY=VALUE]...\n             (at most PROTO_MAX_LINE)
 *   reply:    ok N\n  followed by N record lines  KEY=VALUE [KEY=VALUE]...\n
 *         or  error CODE MESSAGE\n                (CODE: usage, perm, noent,
 *                                                  inval, busy, internal)
 *
 * Words are separated by one space; keys are [a-z0-9_-]; values are
 * percent-encoded (every byte outside 0x21..0x7e, and '%', as %XX), so a
 * value never contains a space, a newline or a NUL.
 */
#ifndef PM_PROTO_H
#define PM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAX_LINE 4096
#define PROTO_MAX_ARGS 16

struct proto_kv {
	char *key;
	char *val;
};

struct proto_req {
	char *cmd;
	int nargs;
	struct proto_kv args[PROTO_MAX_ARGS];
};

/* A growing output buffer; on allocation failure it stays valid and sets oom. */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Percent-encodes src into b. */
void pct_encode(struct buf *b, const char *src);
/* Decodes in place; -1 for a bad escape or an encoded NUL. */
int pct_decode(char *s);

/* Splits a request line (without its newline) in place. Returns 0, or -1
 * with *err set to a message for the client. */
int proto_parse_req(char *line, struct proto_req *req, const char **err);
const char *proto_arg(const struct proto_req *req, const char *key);

/* Record building: one line of KEY=VALUE words. */
void rec_str(struct buf *b, const char *key, const char *val);
void rec_u64(struct buf *b, const char *key, uint64_t v);
void rec_i64(struct buf *b, const char *key, int64_t v);
void rec_end(struct buf *b);

/* Splits a record line in place into at most max pairs; -1 when malformed. */
int proto_parse_record(char *line, struct proto_kv *kv, int max);

/* May this key's value be printed as a JSON number when it is one? */
bool proto_key_numeric(const char *key);

#endif
