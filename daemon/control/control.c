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
#include "common/log.h"
#include "common/util.h"

#define MAX_CLIENTS 64
/* Slots one uid may take: nobody can lock the others out. */
#define MAX_PER_UID 8
/* A client that does not read its replies is dropped past this. */
#define MAX_OUT (16u << 20)

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
	uint32_t watched;	/* the epoll events asked for now */
	uint64_t active_ms;	/* last request, or last reply bytes taken */
};

/* The daemon's control socket (d->ctl), there while it is open. */
struct control {
	int listen_fd;
	char sock_path[108];
	bool have_group;
	gid_t group;		/* "portmaster" */
	struct client *clients[MAX_CLIENTS];
};

static void client_free(struct pmd *d, struct client *c)
{
	struct control *ctl = d->ctl;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i] == c)
			ctl->clients[i] = NULL;
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
		while (!c->closing && (nl = memchr(c->in, '\n', c->inlen))) {
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
		if (c->inlen >= sizeof(c->in) - 1) {
			/* Answer once, then skip to the next newline: the
			 * client may go on with well-formed requests. */
			buf_addf(&c->out, "error usage request line too long (at most %d bytes)\n",
				 PROTO_MAX_LINE - 1);
			c->inlen = 0;
			c->discarding = true;
		}
		if (c->out.len > MAX_OUT) {
			c->closing = true;
			break;
		}
	}
	/* verdicts given by the requests go out now */
	pmd_flush(d);
	if (c->out.oom) {
		buf_free(&c->out);
		c->closing = true;
	}
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
	if (c->closing || (c->eof && c->out.len <= c->outoff))
		client_free(d, c);
}

/* Clients idle (nothing asked, nothing of their replies taken) for
 * client_timeout are closed: a slot is not anyone's forever. */
void control_tick(struct pmd *d, uint64_t now)
{
	struct control *ctl = d->ctl;
	uint64_t limit = (uint64_t)d->cfg.client_timeout_s * 1000;

	if (!ctl || !limit)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = ctl->clients[i];

		if (c && now - c->active_ms >= limit)
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
			else if (ctl->clients[i]->peer.uid == cred.uid)
				same++;
		}
		if (slot < 0 || same >= MAX_PER_UID) {
			static const char busy[] = "error busy too many clients\n";

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
		c->active_ms = now_ms();
		ctl->clients[slot] = c;
		c->watched = EPOLLIN;
		if (pmd_watch(d, cfd, EPOLLIN, client_io, c) < 0)
			client_free(d, c);
	}
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
	return 0;
}

void control_close(struct pmd *d)
{
	struct control *ctl = d->ctl;

	if (!ctl)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_free(d, ctl->clients[i]);
	pmd_unwatch(d, ctl->listen_fd);
	close(ctl->listen_fd);
	unlink(ctl->sock_path);
	free(ctl);
	d->ctl = NULL;
}
