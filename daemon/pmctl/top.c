// SPDX-License-Identifier: GPL-2.0
/*
 * pmctl top: a live per-program view in the terminal: the connections
 * conntrack holds for it, new and blocked flows since top started, bytes
 * per second each way and bytes in all, from the daemon's event stream
 * (flows as they are decided, and each second's traffic per program from
 * conntrack's counters); q quits.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "pmctl.h"

#define MAX_PROGS 256

struct prog {
	char exe[256];
	long open;		/* connections conntrack holds */
	uint64_t flows, blocked;
	uint64_t total;		/* bytes both ways since top started */
	double out_rate, in_rate;
	uint64_t round;		/* the traffic round it was last in */
};

static struct prog progs[MAX_PROGS];
static int nprogs;
static uint64_t round_time, round;	/* of the latest traffic events */
static struct termios saved;
static bool raw;

static struct prog *prog_of(const char *exe)
{
	for (int i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].exe, exe))
			return &progs[i];
	if (nprogs == MAX_PROGS)
		return NULL;
	snprintf(progs[nprogs].exe, sizeof(progs[nprogs].exe), "%s", exe);
	return &progs[nprogs++];
}

static void restore(void)
{
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	raw = false;
	fputs("\033[?25h", stdout);
	fflush(stdout);
}

static void on_event(const struct record *r)
{
	const char *ev = rec_get(r, "event"), *exe = rec_get(r, "exe"), *v = rec_get(r, "verdict");
	struct prog *p;

	if (!ev || !exe || !(p = prog_of(exe)))
		return;
	if (!strcmp(ev, "flow") || !strcmp(ev, "answer")) {
		p->flows++;
		if (v && (!strcmp(v, "block") || !strcmp(v, "drop")))
			p->blocked++;
		else
			p->open++;
	} else if (!strcmp(ev, "traffic")) {
		/* One round's events share their time. */
		uint64_t t = strtoull(rec_get(r, "time") ? rec_get(r, "time") : "0", NULL, 10);
		double ms = strtod(rec_get(r, "interval_ms") ? rec_get(r, "interval_ms") : "0", NULL);
		uint64_t out = strtoull(rec_get(r, "bytes_out") ? rec_get(r, "bytes_out") : "0", NULL, 10);
		uint64_t in = strtoull(rec_get(r, "bytes_in") ? rec_get(r, "bytes_in") : "0", NULL, 10);

		if (t != round_time) {
			round_time = t;
			round++;
		}
		p->round = round;
		p->open = strtol(rec_get(r, "conns") ? rec_get(r, "conns") : "0", NULL, 10);
		p->out_rate = ms > 0 ? (double)out * 1000 / ms : 0;
		p->in_rate = ms > 0 ? (double)in * 1000 / ms : 0;
		p->total += out + in;
	}
}

static int by_activity(const void *a, const void *b)
{
	const struct prog *x = a, *y = b;

	if (x->open != y->open)
		return x->open < y->open ? 1 : -1;
	if (x->out_rate + x->in_rate != y->out_rate + y->in_rate)
		return x->out_rate + x->in_rate < y->out_rate + y->in_rate ? 1 : -1;
	return x->flows < y->flows ? 1 : x->flows > y->flows ? -1 : 0;
}

static const char *rate(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B/s", "KiB/s", "MiB/s", "GiB/s" };
	int u = 0;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static void draw(struct pmctl *p)
{
	char o[32], i[32];

	/* Not in the latest round: nothing open, nothing moving. */
	for (int k = 0; k < nprogs; k++)
		if (round && progs[k].round < round) {
			progs[k].open = 0;
			progs[k].out_rate = progs[k].in_rate = 0;
		}
	qsort(progs, (size_t)nprogs, sizeof(progs[0]), by_activity);
	fprintf(p->out, "\033[H\033[2Jportmaster top: %d programs   (q quits)\n\n", nprogs);
	fprintf(p->out, "%-44s %6s %7s %8s %12s %12s %12s\n", "PROGRAM", "CONNS", "FLOWS",
		"BLOCKED", "OUT", "IN", "BYTES");
	for (int k = 0; k < nprogs; k++) {
		const char *exe = progs[k].exe;
		size_t l = strlen(exe);

		fprintf(p->out, "%-44s %6ld %7llu %8llu %12s %12s %12llu\n", l > 44 ? exe + l - 44 : exe,
			progs[k].open, (unsigned long long)progs[k].flows,
			(unsigned long long)progs[k].blocked, rate(progs[k].out_rate, o, sizeof(o)),
			rate(progs[k].in_rate, i, sizeof(i)), (unsigned long long)progs[k].total);
	}
	fflush(p->out);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_top(struct pmctl *p, int argc, char **argv)
{
	static const char req[] =
		"{\"cmd\":\"monitor\",\"args\":{\"events\":\"flow,answer,traffic\"}}\n";
	char in[16384];
	size_t len = 0;
	bool header = false, quit = false;
	struct reply snap;
	double last;
	int fd;

	(void)argv;
	if (argc != 1)
		return usage_error(p, "usage: pmctl top");
	/* What is open now, then what happens. */
	if (pmctl_request(p, "list", &snap) != EXIT_OK)
		return EXIT_ERR;
	if (snap.is_error) {
		int rc = pmctl_report_error(p, &snap);

		reply_free(&snap);
		return rc;
	}
	for (int k = 0; k < snap.nrec; k++) {
		const char *exe = rec_get(&snap.rec[k], "exe"), *v = rec_get(&snap.rec[k], "verdict");
		struct prog *pr = exe ? prog_of(exe) : NULL;

		if (pr && v && strcmp(v, "block") && strcmp(v, "drop"))
			pr->open++;
	}
	reply_free(&snap);
	fd = connect_daemon(p);
	if (fd < 0)
		return EXIT_ERR;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0) {
		fprintf(p->err, "pmctl: %s\n", strerror(errno));
		close(fd);
		return EXIT_ERR;
	}
	if (isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;

		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		atexit(restore);
	}
	fputs("\033[?25l", p->out);
	last = mono();
	draw(p);
	while (!quit) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
		int timeout = (int)((last + 1 - mono()) * 1000);

		if (poll(pfd, 2, timeout > 0 ? timeout : 0) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			char c;

			if (read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				quit = true;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = recv(fd, in + len, sizeof(in) - 1 - len, 0);
			char *line = in, *nl;

			if (n <= 0) {
				restore();
				fprintf(p->err, "pmctl: portmasterd closed the connection\n");
				close(fd);
				return EXIT_ERR;
			}
			len += (size_t)n;
			while ((nl = memchr(line, '\n', len - (size_t)(line - in)))) {
				struct proto_kv kv[REC_MAX_KV];
				struct record r = { .kv = kv };

				*nl = 0;
				if (!header) {
					long n0;
					char code[16], msg[512];

					header = true;
					if (proto_parse_header(line, &n0, code, sizeof(code), msg,
							       sizeof(msg)) != 0) {
						restore();
						fprintf(p->err, "pmctl: %s\n", msg);
						close(fd);
						return EXIT_ERR;
					}
				} else {
					r.n = proto_parse_record(line, r.kv, REC_MAX_KV);
					if (r.n > 0)
						on_event(&r);
				}
				line = nl + 1;
			}
			len -= (size_t)(line - in);
			memmove(in, line, len);
			if (len >= sizeof(in) - 1)
				len = 0;
		}
		if (mono() - last >= 1) {
			draw(p);
			last = mono();
		}
	}
	restore();
	close(fd);
	return EXIT_OK;
}
