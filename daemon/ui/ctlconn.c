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

json_object *record_to_json(const char *line)
{
	json_object *o = json_tokener_parse(line);

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
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

json_object *ctl_call(struct ctlconn *c, const char *cmd, struct buf *args, char *code,
		      size_t codelen, char *msg, size_t msglen)
{
	struct buf in, req;
	json_object *arr = NULL;
	long want = -1, lines = 0;
	bool failed = false;
	char *line;

	buf_init(&in);
	buf_init(&req);
	proto_request(&req, cmd, args);
	if (req.oom) {
		buf_free(&req);
		snprintf(code, codelen, "internal");
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	if (send_all(c->fd, req.p, req.len) < 0) {
		buf_free(&req);
		goto io;
	}
	buf_free(&req);
	/* Until the header's count of records is in. */
	for (;;) {
		char chunk[65536];
		ssize_t n;

		if (want < 0 && memchr(in.p ? in.p : "", '\n', in.len)) {
			char *nl = memchr(in.p, '\n', in.len);
			int h;

			*nl = 0;
			h = proto_parse_header(in.p, &want, code, codelen, msg, msglen);
			*nl = '\n';
			if (h < 0)
				goto io;
			if (h > 0) {
				failed = true;
				break;
			}
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
	if (failed) {
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
