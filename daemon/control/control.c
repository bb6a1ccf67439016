// SPDX-License-Identifier: GPL-2.0
/* The control socket server: non-blocking clients in the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "control/control.h"
#include "control/ctlcmd.h"
#include "daemon.h"
#include "events/events.h"
#include "common/log.h"
#include "common/util.h"

#define MAX_CLIENTS 64
/* Slots one uid may take: nobody can lock the others out. */
#define MAX_PER_UID 8
/* A client that does not read its replies is dropped past this. */
#define MAX_OUT (16u << 20)
/* A stream that is not read loses events past this. */
#define MAX_STREAM_OUT (1u << 20)

struct client {
	int fd;
	struct peer peer;
	char in[PROTO_MAX_LINE + 1];
	size_t inlen;
	struct buf out;
	size_t outoff;
	bool closing;
	bool eof;		/* the client will send nothing more */
	bool discarding;	/* skipping the rest of an over-long line */
	bool deferred;		/* a reply is on its way: later requests wait */
	uint32_t watched;	/* the epoll events asked for now */
	uint64_t active_ms;	/* last request, or last reply bytes taken */
	uint32_t stream_mask;	/* events it streams; 0: not a stream */
	uint64_t lost;		/* stream events it was too slow for */
};

/* The daemon's control socket (d->ctl), there while it is open. */
struct control {
	int listen_fd;
	char sock_path[108];
	bool have_group;
	gid_t group;		/* "portmaster" */
	struct client *clients[MAX_CLIENTS];
	uint32_t gen[MAX_CLIENTS];	/* so that a handle outlives no client */
	int nstreams;
};

static uint64_t handle_of(struct control *ctl, int slot)
{
	return (uint64_t)slot << 32 | ctl->gen[slot];
}

static struct client *client_of(struct pmd *d, uint64_t handle)
{
	struct control *ctl = d->ctl;
	uint32_t slot = (uint32_t)(handle >> 32);

	if (!ctl || slot >= MAX_CLIENTS || ctl->gen[slot] != (uint32_t)handle)
		return NULL;
	return ctl->clients[slot];
}

static void client_free(struct pmd *d, struct client *c)
{
	struct control *ctl = d->ctl;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i] == c) {
			ctl->clients[i] = NULL;
			ctl->gen[i]++;
		}
	if (c->stream_mask)
		ctl->nstreams--;
	pmd_unwatch(d, c->fd);
	close(c->fd);
	buf_free(&c->out);
	free(c);
}

static void client_io(struct pmd *d, int fd, uint32_t events, void *arg);

/* Input while there may be more; output while there is some.  A client
 * that has said all it will (EOF) is never watched for input again: its
 * EOF would stay readable and spin the loop. */
static void client_rewatch(struct pmd *d, struct client *c)
{
	uint32_t ev = (c->eof ? 0 : EPOLLIN) | (c->out.len > c->outoff ? EPOLLOUT : 0);

	if (!ev || ev == c->watched)
		return;
	if (pmd_watch(d, c->fd, ev, client_io, c) == 0)
		c->watched = ev;
}

static void client_flush(struct pmd *d, struct client *c)
{
	while (c->outoff < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->outoff, c->out.len - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			c->closing = true;
			c->outoff = c->out.len;
			break;
		}
		c->outoff += (size_t)n;
		c->active_ms = now_ms();
	}
	if (c->outoff >= c->out.len) {
		buf_free(&c->out);
		c->outoff = 0;
	}
	client_rewatch(d, c);
}

/* Handles the complete request lines that wait, in order. */
static void client_requests(struct pmd *d, struct client *c)
{
	char *nl;

	while (!c->closing && !c->deferred && !c->stream_mask &&
	       (nl = memchr(c->in, '\n', c->inlen))) {
		size_t len = (size_t)(nl - c->in);

		*nl = 0;
		if (len && c->in[len - 1] == '\r')
			c->in[len - 1] = 0;
		ctl_handle(d, &c->peer, c->in, &c->out);
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
		/* Checked per request: a client pipelining "list"
		 * without reading must not grow the buffer without
		 * bound. */
		if (c->out.len > MAX_OUT)
			c->closing = true;
	}
	/* verdicts given by the requests go out now */
	pmd_flush(d);
}

static void client_read(struct pmd *d, struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen,
				 MSG_DONTWAIT);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EOF (or an error): answer what came, then close */
			c->eof = true;
			if (n < 0)
				c->closing = true;
			break;
		}
		c->active_ms = now_ms();
		c->inlen += (size_t)n;
		c->in[c->inlen] = 0;
		if (c->stream_mask) {
			c->inlen = 0;	/* a stream takes no requests */
			continue;
		}
		if (c->discarding) {
			nl = memchr(c->in, '\n', c->inlen);
			if (!nl) {
				c->inlen = 0;
				continue;
			}
			memmove(c->in, nl + 1, c->inlen - (size_t)(nl + 1 - c->in));
			c->inlen -= (size_t)(nl + 1 - c->in);
			c->discarding = false;
		}
		client_requests(d, c);
		if (c->inlen >= sizeof(c->in) - 1 && !c->deferred) {
			/* Answer once, then skip to the next newline: the
			 * client may go on with well-formed requests. */
			char msg[64];

			snprintf(msg, sizeof(msg), "request line too long (at most %d bytes)",
				 PROTO_MAX_LINE - 1);
			proto_error(&c->out, "usage", msg);
			c->inlen = 0;
			c->discarding = true;
		}
		if (c->out.len > MAX_OUT) {
			c->closing = true;
			break;
		}
	}
	if (c->out.oom) {
		buf_free(&c->out);
		c->closing = true;
	}
}

/* Done: it will ask nothing more and has all its answers (a deferred one
 * still to come keeps it). */
static bool client_done(const struct client *c)
{
	return c->closing || (c->eof && !c->deferred && c->out.len <= c->outoff);
}

static void client_io(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;

	(void)fd;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof)
		client_read(d, c);
	if ((events & (EPOLLHUP | EPOLLERR)) && c->eof && c->out.len > c->outoff)
		c->closing = true;	/* nobody left to read the replies */
	if (!c->closing)
		client_flush(d, c);
	if (client_done(c))
		client_free(d, c);
}

/* Clients idle (nothing asked, nothing of their replies taken) for
 * client_timeout are closed: a slot is not anyone's forever.  A stream
 * (monitor) and one waiting for a deferred answer are waiting on us. */
void control_tick(struct pmd *d, uint64_t now)
{
	struct control *ctl = d->ctl;
	uint64_t limit = (uint64_t)d->cfg.client_timeout_s * 1000;

	if (!ctl || !limit)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = ctl->clients[i];

		if (c && !c->stream_mask && !c->deferred && !c->peer.ui &&
		    now - c->active_ms >= limit)
			client_free(d, c);
	}
}

/* Root, or group portmaster as primary or supplementary group at
 * connect time (SO_PEERGROUPS). */
static bool is_member(const struct control *ctl, int fd, const struct ucred *cred)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (cred->uid == 0)
		return true;
	if (!ctl->have_group)
		return false;
	if (cred->gid == ctl->group)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == ctl->group)
			return true;
	return false;
}

static void on_accept(struct pmd *d, int fd, uint32_t events, void *arg)
{
	struct control *ctl = arg;

	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c;
		int slot = -1, same = 0;

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pm_warn("accept: %s", strerror(errno));
			return;
		}
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(cfd);
			continue;
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (!ctl->clients[i])
				slot = slot < 0 ? i : slot;
			else if (ctl->clients[i]->peer.uid == cred.uid && !ctl->clients[i]->peer.ui)
				same++;
		}
		if (slot < 0 || same >= MAX_PER_UID) {
			static const char busy[] = "{\"error\":\"busy\",\"message\":\"too many clients\"}\n";

			send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->peer.admin = is_member(ctl, cfd, &cred);
		c->peer.handle = handle_of(ctl, slot);
		c->active_ms = now_ms();
		c->watched = EPOLLIN;
		ctl->clients[slot] = c;
		if (pmd_watch(d, cfd, EPOLLIN, client_io, c) < 0)
			client_free(d, c);
	}
}

/* Every event goes to the streams that want it, formatted once. */
static void on_event(void *arg, const struct pm_event *ev)
{
	struct pmd *d = arg;
	struct control *ctl = d->ctl;
	struct buf rec;

	if (!ctl || !ctl->nstreams)
		return;
	buf_init(&rec);
	event_record(&rec, ev);
	for (int i = 0; i < MAX_CLIENTS && !rec.oom; i++) {
		struct client *c = ctl->clients[i];

		if (!c || !(c->stream_mask & EV_MASK(ev->type)) || c->closing)
			continue;
		if (c->out.len + rec.len > MAX_STREAM_OUT) {
			c->lost++;
			continue;
		}
		if (c->lost) {
			/* Told in the stream itself, where the gap is. */
			rec_str(&c->out, "event", "lost");
			rec_u64(&c->out, "count", c->lost);
			rec_end(&c->out);
			c->lost = 0;
		}
		buf_add(&c->out, rec.p, rec.len);
		if (!c->outoff)
			client_flush(d, c);
		if (c->out.oom)
			c->closing = true;
	}
	buf_free(&rec);
	/* Closing ones go on the next turn of the loop, not under our feet. */
}

void control_defer(struct pmd *d, uint64_t handle)
{
	struct client *c = client_of(d, handle);

	if (c)
		c->deferred = true;
}

void control_complete(struct pmd *d, uint64_t handle, const char *reply, size_t len)
{
	struct client *c = client_of(d, handle);

	if (!c)
		return;
	c->deferred = false;
	buf_add(&c->out, reply, len);
	client_requests(d, c);
	if (c->out.oom || c->out.len > MAX_OUT) {
		buf_free(&c->out);
		c->closing = true;
	}
	if (!c->outoff)
		client_flush(d, c);
	if (client_done(c))
		client_free(d, c);
}

int control_stream(struct pmd *d, uint64_t handle, uint32_t mask)
{
	struct client *c = client_of(d, handle);

	if (!c || !mask)
		return -1;
	if (!c->stream_mask)
		d->ctl->nstreams++;
	c->stream_mask = mask;
	return 0;
}

bool control_wants(struct pmd *d, uint32_t mask)
{
	struct control *ctl = d->ctl;

	if (!ctl || !ctl->nstreams)
		return false;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i] && (ctl->clients[i]->stream_mask & mask))
			return true;
	return false;
}

int control_adopt(struct pmd *d, int fd, bool ui)
{
	struct control *ctl = d->ctl;
	struct client *c;
	int slot = -1;

	if (!ctl)
		return -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (!ctl->clients[i]) {
			slot = i;
			break;
		}
	if (slot < 0 || !(c = calloc(1, sizeof(*c))))
		return -1;
	c->fd = fd;
	c->peer.pid = getpid();
	c->peer.admin = true;
	c->peer.ui = ui;
	c->peer.handle = handle_of(ctl, slot);
	c->active_ms = now_ms();
	c->watched = EPOLLIN;
	ctl->clients[slot] = c;
	if (pmd_watch(d, fd, EPOLLIN, client_io, c) < 0) {
		client_free(d, c);
		return -1;
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (xsnprintf(tmp, sizeof(tmp), "%s", dir) < 0)
		return -ENAMETOOLONG;
	if (strcmp(tmp, "/") && strcmp(tmp, ".")) {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", tmp);
		mkdir_p(dirname(parent));
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int control_open(struct pmd *d, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	struct control *ctl;
	struct group *g;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((r = mkdir_p(dirname(dir))) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by a crash is removed; a live daemon is not. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN) {
		snprintf(err, errlen, "%s: another portmasterd is running", path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);	/* no window in which others could connect */
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "control socket: out of memory");
		close(fd);
		unlink(path);
		return -1;
	}
	/* Anyone may connect and read the status; what else a client may
	 * do follows from its credentials (see ctlcmd.c). */
	g = getgrnam("portmaster");
	if (g) {
		ctl->have_group = true;
		ctl->group = g->gr_gid;
		if (chown(path, 0, g->gr_gid) < 0)
			pm_warn("%s: cannot give it to group portmaster: %s", path, strerror(errno));
	} else {
		pm_warn("no group 'portmaster': only root may change rules and answer others' prompts");
	}
	if (chmod(path, 0666) < 0)
		pm_warn("%s: chmod: %s", path, strerror(errno));
	if (listen(fd, 64) < 0 || pmd_watch(d, fd, EPOLLIN, on_accept, ctl) < 0) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		free(ctl);
		close(fd);
		unlink(path);
		return -1;
	}
	ctl->listen_fd = fd;
	snprintf(ctl->sock_path, sizeof(ctl->sock_path), "%s", path);
	d->ctl = ctl;
	events_listen(d->events, EV_MASK_ALL, on_event, d);
	return 0;
}

void control_close(struct pmd *d)
{
	struct control *ctl = d->ctl;

	if (!ctl)
		return;
	events_unlisten(d->events, on_event, d);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_free(d, ctl->clients[i]);
	pmd_unwatch(d, ctl->listen_fd);
	close(ctl->listen_fd);
	unlink(ctl->sock_path);
	free(ctl);
	d->ctl = NULL;
}
