// SPDX-License-Identifier: GPL-2.0
/* The UI's request connection to the daemon (the control protocol, proto.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "control/proto.h"
#include "ui/webui.h"

#define MAX_REPLY (64u << 20)

static bool is_number(const char *s)
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

json_object *record_to_json(char *line)
{
	struct proto_kv kv[64];
	int n = proto_parse_record(line, kv, 64);
	json_object *o;

	if (n < 0)
		return NULL;
	o = json_object_new_object();
	for (int i = 0; i < n && o; i++) {
		json_object *v = proto_key_numeric(kv[i].key) && is_number(kv[i].val) ?
			json_object_new_int64(strtoll(kv[i].val, NULL, 10)) :
			json_object_new_string(kv[i].val);

		json_object_object_add(o, kv[i].key, v);
	}
	return o;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

json_object *ctl_call(struct ctlconn *c, const char *req, char *code, size_t codelen,
		      char *msg, size_t msglen)
{
	struct buf in;
	json_object *arr = NULL;
	long want = -1, lines = 0;
	char *line;

	buf_init(&in);
	pthread_mutex_lock(&c->lock);
	if (send_all(c->fd, req, strlen(req)) < 0 || send_all(c->fd, "\n", 1) < 0)
		goto io;
	/* Until the header's count of records is in. */
	for (;;) {
		char chunk[65536];
		ssize_t n;

		if (want < 0 && memchr(in.p ? in.p : "", '\n', in.len)) {
			if (!strncmp(in.p, "error ", 6))
				break;
			if (sscanf(in.p, "ok %ld", &want) != 1 || want < 0)
				goto io;
		}
		if (want >= 0) {
			lines = 0;
			for (size_t i = 0; i < in.len; i++)
				lines += in.p[i] == '\n';
			if (lines >= want + 1)
				break;
		}
		n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto io;
		buf_add(&in, chunk, (size_t)n);
		if (in.oom || in.len > MAX_REPLY)
			goto io;
	}
	pthread_mutex_unlock(&c->lock);
	line = in.p;
	*strchr(line, '\n') = 0;
	if (!strncmp(line, "error ", 6)) {
		char *sp = strchr(line + 6, ' ');

		if (sp)
			*sp = 0;
		snprintf(code, codelen, "%s", line + 6);
		snprintf(msg, msglen, "%s", sp ? sp + 1 : "");
		buf_free(&in);
		return NULL;
	}
	arr = json_object_new_array();
	line += strlen(line) + 1;
	for (long i = 0; i < want; i++) {
		/* The record is split in place: find the next one first. */
		char *next = strchr(line, '\n');
		json_object *o;

		*next = 0;
		o = record_to_json(line);
		if (o)
			json_object_array_add(arr, o);
		line = next + 1;
	}
	buf_free(&in);
	return arr;
io:
	pthread_mutex_unlock(&c->lock);
	buf_free(&in);
	snprintf(code, codelen, "io");
	snprintf(msg, msglen, "the daemon does not answer");
	return NULL;
}
