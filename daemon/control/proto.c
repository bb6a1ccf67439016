// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/proto.h"

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

static bool buf_reserve(struct buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)1 << 30)) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void pct_encode(struct buf *b, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		if (*s > 0x20 && *s < 0x7f && *s != '%') {
			buf_add(b, s, 1);
		} else {
			char e[3] = { '%', hex[*s >> 4], hex[*s & 15] };

			buf_add(b, e, 3);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pct_decode(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '%') {
			int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return 0;
}

static bool valid_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
		      *k == '_' || *k == '-'))
			return false;
	return true;
}

int proto_parse_req(char *line, struct proto_req *req, const char **err)
{
	char *save = NULL, *tok;

	memset(req, 0, sizeof(*req));
	if (strlen(line) >= PROTO_MAX_LINE) {
		*err = "request line too long";
		return -1;
	}
	for (char *c = line; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			*err = "request contains a control or non-ASCII byte (values must be percent-encoded)";
			return -1;
		}
	}
	tok = strtok_r(line, " ", &save);
	if (!tok) {
		*err = "empty request";
		return -1;
	}
	if (!valid_key(tok)) {
		*err = "malformed command name";
		return -1;
	}
	req->cmd = tok;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			*err = "argument is not KEY=VALUE";
			return -1;
		}
		*eq = 0;
		if (!valid_key(tok)) {
			*err = "malformed argument name";
			return -1;
		}
		if (pct_decode(eq + 1) < 0) {
			*err = "bad percent-encoding in a value";
			return -1;
		}
		if (req->nargs >= PROTO_MAX_ARGS) {
			*err = "too many arguments";
			return -1;
		}
		for (int i = 0; i < req->nargs; i++) {
			if (!strcmp(req->args[i].key, tok)) {
				*err = "argument given twice";
				return -1;
			}
		}
		req->args[req->nargs].key = tok;
		req->args[req->nargs].val = eq + 1;
		req->nargs++;
	}
	return 0;
}

const char *proto_arg(const struct proto_req *req, const char *key)
{
	for (int i = 0; i < req->nargs; i++)
		if (!strcmp(req->args[i].key, key))
			return req->args[i].val;
	return NULL;
}

void rec_str(struct buf *b, const char *key, const char *val)
{
	if (b->len && b->p[b->len - 1] != '\n')
		buf_add(b, " ", 1);
	buf_addf(b, "%s=", key);
	pct_encode(b, val ? val : "");
}

void rec_u64(struct buf *b, const char *key, uint64_t v)
{
	char n[24];

	snprintf(n, sizeof(n), "%llu", (unsigned long long)v);
	rec_str(b, key, n);
}

void rec_i64(struct buf *b, const char *key, int64_t v)
{
	char n[24];

	snprintf(n, sizeof(n), "%lld", (long long)v);
	rec_str(b, key, n);
}

void rec_end(struct buf *b)
{
	buf_add(b, "\n", 1);
}

int proto_parse_record(char *line, struct proto_kv *kv, int max)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || n >= max)
			return -1;
		*eq = 0;
		if (!valid_key(tok) || pct_decode(eq + 1) < 0)
			return -1;
		kv[n].key = tok;
		kv[n].val = eq + 1;
		n++;
	}
	return n;
}

bool proto_key_numeric(const char *key)
{
	/* Values that look like numbers are numbers, except in these keys,
	 * where digits are text that happens to look so. */
	static const char *const text[] = { "version", "exe", "comm", "src", "dst", "domain",
					    "cnames", "upstream" };

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(key, text[i]))
			return false;
	return true;
}
