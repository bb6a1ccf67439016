// SPDX-License-Identifier: GPL-2.0
/* Running iptables-restore and friends without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "intercept/spawn.h"
#include "common/util.h"

static const char *const search_dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin",
					   "/usr/local/sbin", "/usr/local/bin" };

static int find_prog(const char *prog, char *path, size_t len)
{
	if (strchr(prog, '/'))
		return xsnprintf(path, len, "%s", prog) < 0 ? -1 : (access(path, X_OK) ? -1 : 0);
	for (size_t i = 0; i < ARRAY_SIZE(search_dirs); i++) {
		if (xsnprintf(path, len, "%s/%s", search_dirs[i], prog) < 0)
			continue;
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

int spawn_exists(const char *prog)
{
	char path[256];

	return find_prog(prog, path, sizeof(path)) == 0;
}

int spawn_run(char *const argv[], const char *input, struct buf *out, struct buf *err)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	size_t inlen = input ? strlen(input) : 0, inoff = 0;
	char path[256];
	pid_t pid;
	int status;

	if (find_prog(argv[0], path, sizeof(path)) < 0) {
		buf_addf(err, "%s: not found", argv[0]);
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
		buf_addf(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	in[0] = o[1] = e[1] = -1;
	if (!inlen) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	while (o[0] >= 0 || e[0] >= 0 || in[1] >= 0) {
		struct pollfd p[3] = {
			{ .fd = o[0], .events = POLLIN },
			{ .fd = e[0], .events = POLLIN },
			{ .fd = in[1], .events = POLLOUT },
		};
		char chunk[4096];

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &o[0] : &e[0];
			ssize_t n;

			if (*fd < 0 || !p[i].revents)
				continue;
			n = read(*fd, chunk, sizeof(chunk));
			if (n > 0) {
				if (i == 0 && out)
					buf_add(out, chunk, (size_t)n);
				else if (i == 1)
					buf_add(err, chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
		if (in[1] >= 0 && p[2].revents) {
			ssize_t n = write(in[1], input + inoff, inlen - inoff);

			if (n > 0)
				inoff += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) || inoff == inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			buf_addf(err, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 127 && !err->len)
			buf_addf(err, "%s: could not execute", path);
		return WEXITSTATUS(status);
	}
	buf_addf(err, "%s: killed by signal %d", path, WTERMSIG(status));
	return -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (o[i] >= 0)
			close(o[i]);
		if (e[i] >= 0)
			close(e[i]);
	}
	return -1;
}
