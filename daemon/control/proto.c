// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
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
	json_object_put(b->rec);
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

/* Copies s into the store; NULL when it does not fit. */
static char *store(char *st, size_t cap, size_t *used, const char *s, size_t len)
{
	char *p;

	if (*used + len + 1 > cap)
		return NULL;
	p = st + *used;
	memcpy(p, s, len);
	p[len] = 0;
	*used += len + 1;
	return p;
}

/* A value as text: strings as they are, integers in decimal. */
static const char *value_text(json_object *v, size_t *len, bool *num)
{
	*num = false;
	if (json_object_is_type(v, json_type_string)) {
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	if (json_object_is_type(v, json_type_int)) {
		*num = true;
		*len = strlen(json_object_get_string(v));
		return json_object_get_string(v);
	}
	if (json_object_is_type(v, json_type_null)) {
		*len = 1;
		return "-";
	}
	return NULL;
}

static json_object *parse_object(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	json_object *o;

	if (!tok)
		return NULL;
	/* Strict: no trailing commas, no comments, one object and nothing after. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int proto_parse_req(char *line, struct proto_req *req, const char **err)
{
	size_t len = strlen(line), used = 0;
	json_object *o, *cmd, *args;
	int r = -1;

	memset(req, 0, offsetof(struct proto_req, store));
	if (len >= PROTO_MAX_LINE) {
		*err = "request line too long";
		return -1;
	}
	if (!len) {
		*err = "empty request";
		return -1;
	}
	for (const unsigned char *c = (const unsigned char *)line; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			*err = "request contains a control byte (JSON escapes them)";
			return -1;
		}
	}
	o = parse_object(line, len);
	if (!o) {
		*err = "request is not a JSON object on one line: {\"cmd\": ..., \"args\": {...}}";
		return -1;
	}
	if (!json_object_object_get_ex(o, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string) ||
	    !valid_key(json_object_get_string(cmd)) ||
	    strlen(json_object_get_string(cmd)) != (size_t)json_object_get_string_len(cmd)) {
		*err = "malformed command name";
		goto out;
	}
	json_object_object_foreach(o, k, v) {
		(void)v;
		if (strcmp(k, "cmd") && strcmp(k, "args")) {
			*err = "a request has only cmd and args";
			goto out;
		}
	}
	req->cmd = store(req->store, sizeof(req->store), &used, json_object_get_string(cmd),
			 strlen(json_object_get_string(cmd)));
	if (json_object_object_get_ex(o, "args", &args)) {
		if (!json_object_is_type(args, json_type_object)) {
			*err = "args is not an object";
			goto out;
		}
		json_object_object_foreach(args, key, val) {
			size_t vlen;
			bool num;
			const char *text = value_text(val, &vlen, &num);

			if (!valid_key(key)) {
				*err = "malformed argument name";
				goto out;
			}
			if (!text || strlen(text) != vlen) {
				*err = "an argument's value is not a string or number (or holds a NUL)";
				goto out;
			}
			if (req->nargs >= PROTO_MAX_ARGS) {
				*err = "too many arguments";
				goto out;
			}
			/* json-c keeps the last of keys given twice: seen as one. */
			req->args[req->nargs].key = store(req->store, sizeof(req->store), &used, key,
							  strlen(key));
			req->args[req->nargs].val = store(req->store, sizeof(req->store), &used, text, vlen);
			req->args[req->nargs].num = num;
			if (!req->args[req->nargs].key || !req->args[req->nargs].val) {
				*err = "request line too long";
				goto out;
			}
			req->nargs++;
		}
	}
	r = 0;
out:
	json_object_put(o);
	return r;
}

const char *proto_arg(const struct proto_req *req, const char *key)
{
	for (int i = 0; i < req->nargs; i++)
		if (!strcmp(req->args[i].key, key))
			return req->args[i].val;
	return NULL;
}

static void rec_put(struct buf *b, const char *key, json_object *v)
{
	if (!b->rec)
		b->rec = json_object_new_object();
	if (!b->rec || !v) {
		json_object_put(v);
		b->oom = true;
		return;
	}
	if (json_object_object_add(b->rec, key, v) < 0)
		b->oom = true;
}

void rec_str(struct buf *b, const char *key, const char *val)
{
	rec_put(b, key, json_object_new_string(val ? val : ""));
}

void rec_u64(struct buf *b, const char *key, uint64_t v)
{
	rec_put(b, key, json_object_new_uint64(v));
}

void rec_i64(struct buf *b, const char *key, int64_t v)
{
	rec_put(b, key, json_object_new_int64(v));
}

static void add_json(struct buf *b, json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if (!s) {
		b->oom = true;
		return;
	}
	buf_add(b, s, n);
	buf_add(b, "\n", 1);
}

void rec_end(struct buf *b)
{
	if (!b->rec)
		b->rec = json_object_new_object();
	if (!b->rec) {
		b->oom = true;
		return;
	}
	add_json(b, b->rec);
	json_object_put(b->rec);
	b->rec = NULL;
}

void proto_ok(struct buf *b, long n)
{
	buf_addf(b, "{\"ok\":%ld}\n", n);
}

void proto_error(struct buf *b, const char *code, const char *msg)
{
	json_object *o = json_object_new_object();

	if (!o) {
		b->oom = true;
		return;
	}
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	add_json(b, o);
	json_object_put(o);
}

void proto_request(struct buf *out, const char *cmd, struct buf *args)
{
	json_object *o = json_object_new_object();

	if (!o || (args && args->oom)) {
		json_object_put(o);
		out->oom = true;
		return;
	}
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	if (args && args->rec) {
		json_object_object_add(o, "args", args->rec);
		args->rec = NULL;
	}
	add_json(out, o);
	json_object_put(o);
}

int proto_parse_header(const char *line, long *n, char *code, size_t codelen, char *msg,
		       size_t msglen)
{
	json_object *o = parse_object(line, strlen(line)), *v;
	int r = -1;

	if (!o)
		return -1;
	if (json_object_object_get_ex(o, "ok", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) >= 0 && json_object_object_length(o) == 1) {
		*n = (long)json_object_get_int64(v);
		r = 0;
	} else if (json_object_object_get_ex(o, "error", &v) && json_object_is_type(v, json_type_string)) {
		snprintf(code, codelen, "%s", json_object_get_string(v));
		snprintf(msg, msglen, "%s", json_object_object_get_ex(o, "message", &v) ?
			 json_object_get_string(v) : "");
		r = 1;
	}
	json_object_put(o);
	return r;
}

int proto_parse_record(char *line, struct proto_kv *kv, int max)
{
	size_t len = strlen(line), used = 0;
	json_object *o = parse_object(line, len);
	int n = 0;

	if (!o)
		return -1;
	/* Each pair's text is shorter than its JSON ("k":v,), so the strings
	 * fit where the line was. */
	json_object_object_foreach(o, key, val) {
		size_t vlen;
		bool num;
		const char *text = value_text(val, &vlen, &num);

		if (n >= max || !text || !valid_key(key)) {
			n = -1;
			break;
		}
		kv[n].num = num;
		kv[n].key = store(line, len + 1, &used, key, strlen(key));
		kv[n].val = store(line, len + 1, &used, text, vlen);
		if (!kv[n].key || !kv[n].val) {
			n = -1;
			break;
		}
		n++;
	}
	json_object_put(o);
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
