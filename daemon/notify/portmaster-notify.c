// SPDX-License-Identifier: GPL-2.0
/*
 * portmaster-notify (run as "pmctl notify"): a per-user agent that shows
 * each prompt of portmasterd as a desktop notification with actions,
 * through libnotify: Allow once (also the default action, a click on the
 * notification), Allow always (a rule for the program, direction and
 * destination), Block (this connection).  A prompt answered elsewhere or
 * timed out closes its notification; a daemon that restarts is waited
 * for.  Only for members of the portmaster
 * group, who may use the control socket; for anyone else it says so and
 * ends, so that starting it for every session (XDG autostart) is harmless.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <glib-unix.h>
#include <grp.h>
#include <libnotify/notify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "control/proto.h"

#define MAX_SHOWN 64

struct shown {
	uint64_t id;
	NotifyNotification *n;
	char exe[512], dir[8], dst[64], dport[8], proto[8];
};

static const char *sock_path;
static GMainLoop *loop;
static struct shown shown[MAX_SHOWN];
static char in[65536];
static size_t inlen;
static bool header;

static int connect_daemon(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(sock_path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request (cmd and the arguments in args) on a connection of its
 * own; 0, or -1 with the daemon's message in msg. */
static int request(const char *cmd, struct buf *args, char *msg, size_t len)
{
	char reply[4096], code[16];
	struct buf req;
	size_t got = 0;
	long n0;
	int fd = connect_daemon();

	if (fd < 0) {
		snprintf(msg, len, "cannot connect to %s: %s", sock_path, strerror(errno));
		return -1;
	}
	buf_init(&req);
	proto_request(&req, cmd, args);
	if (req.oom || send(fd, req.p, req.len, MSG_NOSIGNAL) < 0) {
		close(fd);
		buf_free(&req);
		snprintf(msg, len, "%s", strerror(errno));
		return -1;
	}
	buf_free(&req);
	while (got + 1 < sizeof(reply)) {
		ssize_t n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		reply[got] = 0;
		if (memchr(reply, '\n', got))
			break;
	}
	close(fd);
	reply[got] = 0;
	reply[strcspn(reply, "\n")] = 0;
	switch (proto_parse_header(reply, &n0, code, sizeof(code), msg, len)) {
	case 0:
		return 0;
	case 1:
		return -1;
	default:
		snprintf(msg, len, "no answer from portmasterd");
		return -1;
	}
}

static struct shown *find(uint64_t id)
{
	for (int i = 0; i < MAX_SHOWN; i++)
		if (shown[i].n && shown[i].id == id)
			return &shown[i];
	return NULL;
}

static void forget(struct shown *s)
{
	if (!s->n)
		return;
	notify_notification_close(s->n, NULL);
	g_object_unref(s->n);
	s->n = NULL;
}

static void tell(const char *summary, const char *body)
{
	NotifyNotification *n = notify_notification_new(summary, body, "dialog-warning");

	notify_notification_show(n, NULL);
	g_object_unref(n);
}

static void on_action(NotifyNotification *n, char *action, gpointer data)
{
	struct shown *s = data;
	char reply[1024], id[24];
	struct buf b;
	bool ok = true;

	(void)n;
	if (!s->n)
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)s->id);
	/* One answer: this connection, and for "allow always" a rule of what
	 * was asked about (program, direction, destination), made by the
	 * daemon from the flow itself and first in the list. */
	buf_init(&b);
	rec_str(&b, "id", id);
	rec_str(&b, "action", strcmp(action, "block") ? "accept" : "block");
	if (!strcmp(action, "allow-always")) {
		rec_str(&b, "scope", "always");
		rec_str(&b, "match", strcmp(s->exe, "-") ? "exe,dir,dst" : "dir,dst");
	}
	ok = request("verdict", &b, reply, sizeof(reply)) == 0;
	buf_free(&b);
	if (!ok)
		tell("Portmaster: the answer was refused", reply);
	printf("answered %s: %s%s\n", id, action, ok ? "" : " (refused)");
	fflush(stdout);
	forget(s);
}

static void on_prompt(struct proto_kv *kv, int n)
{
	const char *get[9] = { 0 };
	static const char *const keys[] = { "id", "exe", "pid", "dir", "proto", "dst", "dport", "src",
					    "sport" };
	struct shown *s = NULL;
	char body[1024];

	const char *domain = NULL;
	char peer[320];

	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < 9; k++)
			if (!strcmp(kv[i].key, keys[k]))
				get[k] = kv[i].val;
		if (!strcmp(kv[i].key, "domain") && strcmp(kv[i].val, "-"))
			domain = kv[i].val;	/* the name its program resolved */
	}
	for (size_t k = 0; k < 9; k++)
		if (!get[k])
			return;
	for (int i = 0; i < MAX_SHOWN && !s; i++)
		if (!shown[i].n)
			s = &shown[i];
	if (!s)
		return;	/* more open at once than anyone reads: pmctl pending has them */
	s->id = strtoull(get[0], NULL, 10);
	snprintf(s->exe, sizeof(s->exe), "%s", get[1]);
	snprintf(s->dir, sizeof(s->dir), "%s", get[3]);
	snprintf(s->proto, sizeof(s->proto), "%s", get[4]);
	/* The peer: where an outbound flow goes, where an inbound one comes from. */
	snprintf(s->dst, sizeof(s->dst), "%s", !strcmp(get[3], "out") ? get[5] : get[7]);
	snprintf(s->dport, sizeof(s->dport), "%s", get[6]);
	if (domain)
		snprintf(peer, sizeof(peer), "%s (%s)", domain, !strcmp(get[3], "out") ? get[5] : get[7]);
	else
		snprintf(peer, sizeof(peer), "%s", !strcmp(get[3], "out") ? get[5] : get[7]);
	snprintf(body, sizeof(body), "%s (pid %s) %s %s %s:%s", get[1], get[2],
		 !strcmp(get[3], "out") ? "connects to" : "is reached from", get[4], peer,
		 !strcmp(get[3], "out") ? get[6] : get[8]);
	s->n = notify_notification_new("Portmaster: allow this connection?", body,
				       "network-workgroup");
	notify_notification_set_urgency(s->n, NOTIFY_URGENCY_CRITICAL);
	notify_notification_set_timeout(s->n, NOTIFY_EXPIRES_NEVER);
	notify_notification_add_action(s->n, "default", "Allow once", on_action, s, NULL);
	notify_notification_add_action(s->n, "allow-once", "Allow once", on_action, s, NULL);
	notify_notification_add_action(s->n, "allow-always", "Allow always", on_action, s, NULL);
	notify_notification_add_action(s->n, "block", "Block", on_action, s, NULL);
	if (!notify_notification_show(s->n, NULL)) {
		g_object_unref(s->n);
		s->n = NULL;
		return;
	}
	printf("prompt %s: %s\n", get[0], body);
	fflush(stdout);
}

static gboolean on_stream(gint fd, GIOCondition cond, gpointer data);

static const char stream_req[] = "{\"cmd\":\"monitor\",\"args\":{\"events\":\"prompt,answer\"}}\n";

/* The prompt stream; -1 when the daemon is not there. */
static int open_stream(void)
{
	int fd = connect_daemon();

	if (fd < 0)
		return -1;
	if (send(fd, stream_req, sizeof(stream_req) - 1, MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	inlen = 0;
	header = false;
	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stream, NULL);
	return fd;
}

/* The daemon went away (a restart, an upgrade): back when it is. */
static gboolean reconnect(gpointer data)
{
	(void)data;
	if (open_stream() < 0)
		return G_SOURCE_CONTINUE;
	printf("pmctl notify: connected to portmasterd again\n");
	fflush(stdout);
	return G_SOURCE_REMOVE;
}

static gboolean on_stream(gint fd, GIOCondition cond, gpointer data)
{
	ssize_t n = recv(fd, in + inlen, sizeof(in) - 1 - inlen, MSG_DONTWAIT);
	char *line = in, *nl;

	(void)cond;
	(void)data;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		fprintf(stderr, "pmctl notify: portmasterd closed the connection; "
			"waiting for it to come back\n");
		close(fd);
		/* Its prompts went with it. */
		for (int i = 0; i < MAX_SHOWN; i++)
			forget(&shown[i]);
		g_timeout_add_seconds(2, reconnect, NULL);
		return G_SOURCE_REMOVE;
	}
	inlen += (size_t)n;
	while ((nl = memchr(line, '\n', inlen - (size_t)(line - in)))) {
		struct proto_kv kv[64];
		int nkv;

		*nl = 0;
		if (!header) {
			char code[16], msg[512];
			long n0;

			header = true;
			if (proto_parse_header(line, &n0, code, sizeof(code), msg, sizeof(msg)) != 0) {
				fprintf(stderr, "pmctl notify: %s\n", msg);
				g_main_loop_quit(loop);
				return G_SOURCE_REMOVE;
			}
		} else if ((nkv = proto_parse_record(line, kv, 64)) > 0) {
			const char *ev = NULL, *id = NULL;

			for (int i = 0; i < nkv; i++) {
				if (!strcmp(kv[i].key, "event"))
					ev = kv[i].val;
				else if (!strcmp(kv[i].key, "id"))
					id = kv[i].val;
			}
			if (ev && !strcmp(ev, "prompt"))
				on_prompt(kv, nkv);
			else if (ev && !strcmp(ev, "answer") && id && find(strtoull(id, NULL, 10)))
				forget(find(strtoull(id, NULL, 10)));	/* answered elsewhere */
		}
		line = nl + 1;
	}
	inlen -= (size_t)(line - in);
	memmove(in, line, inlen);
	if (inlen >= sizeof(in) - 1)
		inlen = 0;
	return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
	(void)data;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static bool member_of(const char *group)
{
	const struct group *g = getgrnam(group);
	gid_t groups[256];
	int n;

	if (getuid() == 0)
		return true;
	if (!g)
		return false;
	if (getgid() == g->gr_gid || getegid() == g->gr_gid)
		return true;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	int fd;

	sock_path = getenv("PMCTL_SOCKET");
	if (!sock_path || !*sock_path)
		sock_path = "/run/portmaster/control.sock";
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) && i + 1 < argc) {
			sock_path = argv[++i];
		} else {
			fprintf(stderr, "usage: pmctl notify [-s SOCKET]\n");
			return 2;
		}
	}
	if (!member_of("portmaster")) {
		fprintf(stderr, "pmctl notify: prompts are for members of group portmaster "
			"(sudo usermod -aG portmaster $USER, then log in again)\n");
		return 0;
	}
	/* One agent a session, whether autostart or the user unit started it. */
	if (getenv("XDG_RUNTIME_DIR")) {
		char lock[4200];
		int lfd;

		snprintf(lock, sizeof(lock), "%s/portmaster-notify.lock", getenv("XDG_RUNTIME_DIR"));
		lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
			fprintf(stderr, "pmctl notify: already running in this session\n");
			return 0;
		}
	}
	if (!notify_init("Portmaster")) {
		fprintf(stderr, "pmctl notify: no notification service (is a desktop session running?)\n");
		return 1;
	}
	loop = g_main_loop_new(NULL, FALSE);
	fd = open_stream();
	if (fd < 0) {
		fprintf(stderr, "pmctl notify: cannot connect to %s: %s\n", sock_path, strerror(errno));
		return 1;
	}
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	printf("pmctl notify: showing the prompts of %s\n", sock_path);
	fflush(stdout);
	g_main_loop_run(loop);
	for (int i = 0; i < MAX_SHOWN; i++)
		forget(&shown[i]);
	notify_uninit();
	return 0;
}
