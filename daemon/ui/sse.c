// SPDX-License-Identifier: GPL-2.0
/*
 * Live updates: one thread reads the daemon's event stream and keeps the
 * latest events in a ring; each browser's Server-Sent Events response
 * reads from it at its own pace.  A browser that falls a whole ring
 * behind is told ("event: lost") and goes on from the newest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ui/webui.h"

#define RING 512
#define KEEPALIVE_S 15

static char *ring[RING];
static uint64_t next_seq;	/* of the next event to come */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;

struct sse_client {
	uint64_t seq;		/* next event to send */
	char *pending;		/* what did not fit the last read */
	size_t off, len;
};

static void publish(const char *line)
{
	json_object *o = record_to_json(line);
	const char *type;
	char *msg;
	size_t n;

	if (!o)
		return;
	type = json_object_get_string(json_object_object_get(o, "event"));
	n = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) + 64;
	msg = malloc(n);
	if (msg)
		snprintf(msg, n, "event: %s\ndata: %s\n\n", type ? type : "message",
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!msg)
		return;
	pthread_mutex_lock(&lock);
	free(ring[next_seq % RING]);
	ring[next_seq % RING] = msg;
	next_seq++;
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
}

static void *reader(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char in[65536];
	size_t len = 0;
	bool header = false;

	static const char req[] =
		"{\"cmd\":\"monitor\",\"args\":{\"events\":\"flow,prompt,answer,end,dns,traffic\"}}\n";

	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		exit(1);
	for (;;) {
		ssize_t n = recv(fd, in + len, sizeof(in) - 1 - len, 0);
		char *line = in, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The daemon went away or restarts us: nothing to show. */
			fprintf(stderr, "portmaster-ui: the daemon's event stream closed\n");
			exit(0);
		}
		len += (size_t)n;
		while ((nl = memchr(line, '\n', len - (size_t)(line - in)))) {
			*nl = 0;
			if (!header)
				header = true;	/* "ok 0" */
			else
				publish(line);
			line = nl + 1;
		}
		len -= (size_t)(line - in);
		memmove(in, line, len);
		if (len >= sizeof(in) - 1)
			len = 0;	/* a record too long for anyone: dropped */
	}
	return NULL;
}

int sse_start(int events_fd)
{
	pthread_t t;

	return pthread_create(&t, NULL, reader, (void *)(intptr_t)events_fd);
}

struct sse_client *sse_client_new(void)
{
	struct sse_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_lock(&lock);
	c->seq = next_seq;
	pthread_mutex_unlock(&lock);
	/* The first bytes at once: the browser knows it is connected. */
	c->pending = strdup(": connected\n\n");
	c->len = c->pending ? strlen(c->pending) : 0;
	return c;
}

ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *c = cls;
	size_t n;

	(void)pos;
	if (!c->pending) {
		struct timespec ts;

		pthread_mutex_lock(&lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += KEEPALIVE_S;
		while (c->seq == next_seq)
			if (pthread_cond_timedwait(&more, &lock, &ts) == ETIMEDOUT)
				break;
		if (c->seq == next_seq) {
			c->pending = strdup(": keepalive\n\n");
		} else if (next_seq - c->seq > RING) {
			c->pending = strdup("event: lost\ndata: {}\n\n");
			c->seq = next_seq;
		} else {
			c->pending = strdup(ring[c->seq % RING]);
			c->seq++;
		}
		pthread_mutex_unlock(&lock);
		if (!c->pending)
			return -1;	/* MHD_CONTENT_READER_END_WITH_ERROR */
		c->len = strlen(c->pending);
		c->off = 0;
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->pending + c->off, n);
	c->off += n;
	if (c->off == c->len) {
		free(c->pending);
		c->pending = NULL;
		c->off = c->len = 0;
	}
	return (ssize_t)n;
}

void sse_client_free(void *cls)
{
	struct sse_client *c = cls;

	if (c) {
		free(c->pending);
		free(c);
	}
}
