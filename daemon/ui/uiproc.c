// SPDX-License-Identifier: GPL-2.0
/* Starting, restarting and logging in to the web UI's process (uiproc.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "control/control.h"
#include "daemon.h"
#include "ui/uiproc.h"
#include "common/log.h"
#include "common/util.h"

#define TOKENS 8
#define TOKEN_TTL_MS (120 * 1000)
#define RESTART_MAX_MS (60 * 1000)

struct token {
	char hex[65];
	uint64_t expires_ms;
	bool admin;
};

struct ui {
	int listen_fd;
	pid_t pid;
	char origin[80];	/* http://127.0.0.1:817 */
	char program[4096];
	uint64_t restart_at_ms, backoff_ms;
	struct token tokens[TOKENS];
};

static void child(struct ui *u, int ctl_fd, int ev_fd)
{
	const struct passwd *pw = getpwnam("portmaster-ui");
	uid_t uid = pw ? pw->pw_uid : 65534;
	gid_t gid = pw ? pw->pw_gid : 65534;
	char *argv[] = { "portmaster-ui", "--listen-fd", "3", "--control-fd", "4", "--events-fd", "5",
			 "--origin", u->origin, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL };
	pid_t parent = getppid();
	sigset_t none;

	/* 3, 4, 5 in this order; ctl/ev may sit on 3..5 themselves. */
	if ((ctl_fd = fcntl(ctl_fd, F_DUPFD, 10)) < 0 || (ev_fd = fcntl(ev_fd, F_DUPFD, 10)) < 0 ||
	    dup2(u->listen_fd, 3) < 0 || dup2(ctl_fd, 4) < 0 || dup2(ev_fd, 5) < 0)
		_exit(126);
	close_range(6, ~0u, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Nobody, no groups, no capabilities, and never more. */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(126);
	/* After the uid change, which clears it; dies with the daemon. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	execve(u->program, argv, envp);
	_exit(127);
}

static void spawn(struct pmd *d, struct ui *u)
{
	int ctl[2], ev[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ev) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		child(u, ctl[1], ev[1]);
	close(ctl[1]);
	close(ev[1]);
	if (pid < 0) {
		close(ctl[0]);
		close(ev[0]);
		goto fail;
	}
	fcntl(ctl[0], F_SETFL, O_NONBLOCK);
	fcntl(ev[0], F_SETFL, O_NONBLOCK);
	if (control_adopt(d, ctl[0], true) < 0 || control_adopt(d, ev[0], true) < 0) {
		pm_err("web UI: no room on the control socket for it");
		kill(pid, SIGTERM);
	}
	u->pid = pid;
	pm_info("web UI on %s/ (process %d, unprivileged); open it with: pmctl ui", u->origin,
		(int)pid);
	return;
fail:
	pm_err("web UI: cannot start its process: %s", strerror(errno));
}

void ui_start(struct pmd *d)
{
	const struct endpoint *e = &d->cfg.ui;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ui *u;
	char self[4096], host[64];
	ssize_t n;
	int one = 1;

	if (!e->set)
		return;
	u = calloc(1, sizeof(*u));
	if (!u)
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		free(u);
		return;
	}
	self[n] = 0;
	snprintf(u->program, sizeof(u->program), "%s/portmaster-ui", dirname(self));
	if (access(u->program, X_OK) < 0) {
		pm_err("web UI: %s: %s; the UI is off", u->program, strerror(errno));
		free(u);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (e->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, e->addr, 4);
		s4->sin_port = htons(e->port);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, e->addr, 16);
		s6->sin6_port = htons(e->port);
		sl = sizeof(*s6);
	}
	addr_str(e->family, e->addr, host, sizeof(host));
	snprintf(u->origin, sizeof(u->origin), e->family == AF_INET6 ? "http://[%s]:%u" :
		 "http://%s:%u", host, e->port);
	u->listen_fd = socket(e->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u->listen_fd < 0 ||
	    setsockopt(u->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(u->listen_fd, (struct sockaddr *)&ss, sl) < 0 || listen(u->listen_fd, 32) < 0) {
		pm_err("web UI: cannot listen on %s: %s; the UI is off (flows are decided as before)",
		       u->origin, strerror(errno));
		if (u->listen_fd >= 0)
			close(u->listen_fd);
		free(u);
		return;
	}
	d->ui = u;
	u->backoff_ms = 1000;
	spawn(d, u);
}

void ui_stop(struct pmd *d)
{
	struct ui *u = d->ui;

	if (!u)
		return;
	if (u->pid > 0) {
		kill(u->pid, SIGTERM);
		waitpid(u->pid, NULL, 0);
	}
	close(u->listen_fd);
	free(u);
	d->ui = NULL;
}

void ui_tick(struct pmd *d, uint64_t now)
{
	struct ui *u = d->ui;
	int status;

	if (!u)
		return;
	if (u->pid > 0 && waitpid(u->pid, &status, WNOHANG) == u->pid) {
		pm_err("web UI process %d %s %d; restarting it", (int)u->pid,
		       WIFSIGNALED(status) ? "killed by signal" : "exited with status",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		u->pid = 0;
		u->restart_at_ms = now + u->backoff_ms;
		/* One that keeps dying is retried ever less often. */
		if (u->backoff_ms < RESTART_MAX_MS)
			u->backoff_ms *= 2;
	}
	if (!u->pid && now >= u->restart_at_ms) {
		spawn(d, u);
		if (!u->pid)	/* could not: not again before the backoff */
			u->restart_at_ms = now + u->backoff_ms;
	}
}

int ui_login_url(struct pmd *d, bool admin, char *url, size_t len)
{
	struct ui *u = d->ui;
	struct token *t = NULL;
	uint8_t raw[32];
	uint64_t now = now_ms();

	if (!u)
		return -1;
	for (int i = 0; i < TOKENS; i++)
		if (!u->tokens[i].hex[0] || u->tokens[i].expires_ms <= now) {
			t = &u->tokens[i];
			break;
		}
	if (!t) {
		/* All in use: the one closest to expiring makes room. */
		t = &u->tokens[0];
		for (int i = 1; i < TOKENS; i++)
			if (u->tokens[i].expires_ms < t->expires_ms)
				t = &u->tokens[i];
	}
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(t->hex + 2 * i, 3, "%02x", raw[i]);
	t->expires_ms = now + TOKEN_TTL_MS;
	t->admin = admin;
	return xsnprintf(url, len, "%s/login?token=%s", u->origin, t->hex) < 0 ? -1 : 0;
}

int ui_redeem(struct pmd *d, const char *token, bool *admin)
{
	struct ui *u = d->ui;
	uint64_t now = now_ms();

	if (!u || strlen(token) != 64)
		return -1;
	for (int i = 0; i < TOKENS; i++) {
		struct token *t = &u->tokens[i];
		unsigned char diff = 0;

		if (!t->hex[0])
			continue;
		/* Every byte compared, whatever the first difference. */
		for (int k = 0; k < 64; k++)
			diff |= (unsigned char)(t->hex[k] ^ token[k]);
		if (diff)
			continue;
		t->hex[0] = 0;	/* once */
		if (t->expires_ms <= now)
			return -1;
		*admin = t->admin;
		return 0;
	}
	return -1;
}
