/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portmaster-ui: the web UI's own process (started by portmasterd, see
 * uiproc.h).  HTTP from libmicrohttpd, JSON from json-c, live updates by
 * Server-Sent Events; everything it knows and does goes through the two
 * control connections it was given.
 */
#ifndef PM_WEBUI_H
#define PM_WEBUI_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The request connection: one request at a time, in order. */
struct ctlconn {
	int fd;
	pthread_mutex_t lock;
};

struct buf;
/*
 * Sends one request (cmd, and the arguments built in args with rec_str(),
 * or NULL) and returns the reply's records as a JSON array of objects, or
 * NULL with the daemon's error code ("usage", "perm", "noent", "busy",
 * "internal", or "io" when the connection failed) and message.
 */
json_object *ctl_call(struct ctlconn *c, const char *cmd, struct buf *args, char *code,
		      size_t codelen, char *msg, size_t msglen);
/* A record line as a JSON object; NULL when it is none. */
json_object *record_to_json(const char *line);

/* Sessions: a cookie for a browser that came with a login URL. */
#define SESSION_COOKIE "pm_session"
/* A new session's cookie value (64 hex digits); false when full. */
bool session_new(bool admin, char out[65]);
/* Is this cookie value a live session?  *admin tells its rights. */
bool session_check(const char *value, bool *admin);
void session_end(const char *value);

/* The event stream: read from the daemon, fanned out to browsers. */
int sse_start(int events_fd);
/* An SSE response body reader for one browser (see portmaster-ui.c). */
struct sse_client;
struct sse_client *sse_client_new(void);
ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max);
void sse_client_free(void *cls);

/* The files of the page, compiled in (assets.c, made from ui/www/). */
struct asset {
	const char *path;
	const char *type;
	const unsigned char *data;
	size_t len;
};
extern const struct asset ui_assets[];
extern const size_t ui_nassets;

#endif
