// SPDX-License-Identifier: GPL-2.0
/*
 * pmctl monitor: the daemon's events as they happen, one line each (JSON
 * lines with -j), until Ctrl-C or the daemon goes away.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "pmctl.h"

static void print_line(struct pmctl *p, const struct record *r)
{
	const char *ev = rec_get(r, "event"), *t = rec_get(r, "time");
	char stamp[16] = "-";
	time_t secs;
	struct tm tm;

	if (p->fmt == OUT_JSON) {
		json_record(p->out, r);
		fputc('\n', p->out);
		return;
	}
	if (p->fmt == OUT_TSV) {
		for (int i = 0; i < r->n; i++)
			fprintf(p->out, "%s%s=%s", i ? "\t" : "", r->kv[i].key, r->kv[i].val);
		fputc('\n', p->out);
		return;
	}
	if (t) {
		secs = (time_t)(strtoull(t, NULL, 10) / 1000);
		if (localtime_r(&secs, &tm))
			strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	}
	if (ev && !strcmp(ev, "lost")) {
		fprintf(p->out, "%s lost %s events (too slow to read them)\n", stamp,
			rec_get(r, "count") ? rec_get(r, "count") : "?");
		return;
	}
	if (ev && !strcmp(ev, "traffic")) {
		fprintf(p->out, "%s traffic %s: %s connections, %s B out, %s B in in %s ms\n", stamp,
			rec_get(r, "exe"), rec_get(r, "conns"), rec_get(r, "bytes_out"),
			rec_get(r, "bytes_in"), rec_get(r, "interval_ms"));
		return;
	}
	if (ev && !strcmp(ev, "dns")) {
		fprintf(p->out, "%s dns    %s[%s] %s -> %s %s\n", stamp, rec_get(r, "exe"),
			rec_get(r, "pid"), rec_get(r, "domain") ? rec_get(r, "domain") : "?",
			rec_get(r, "answers"), rec_get(r, "verdict"));
		return;
	}
	fprintf(p->out, "%s %-6s %s %s %s:%s -> %s:%s", stamp, ev ? ev : "?",
		rec_get(r, "dir"), rec_get(r, "proto"), rec_get(r, "src"), rec_get(r, "sport"),
		rec_get(r, "dst"), rec_get(r, "dport"));
	if (rec_get(r, "domain"))	/* the name its program resolved for it */
		fprintf(p->out, " (%s)", rec_get(r, "domain"));
	fprintf(p->out, " %s[%s] %s", rec_get(r, "exe"), rec_get(r, "pid"), rec_get(r, "verdict"));
	if (ev && !strcmp(ev, "prompt"))
		fprintf(p->out, " (pmctl verdict %s ...)", rec_get(r, "id"));
	if (ev && !strcmp(ev, "end"))
		fprintf(p->out, " out %s B in %s B", rec_get(r, "bytes_out"), rec_get(r, "bytes_in"));
	fputc('\n', p->out);
}

int cmd_monitor(struct pmctl *p, int argc, char **argv)
{
	char in[8192];
	size_t len = 0;
	bool header = false;
	struct buf args, req;
	int fd;

	buf_init(&args);
	buf_init(&req);
	if (argc == 3 && !strcmp(argv[1], "--events")) {
		req_arg(&args, "events", argv[2]);
	} else if (argc != 1) {
		return usage_error(p, "usage: pmctl monitor [--events flow,prompt,answer,end,dns,traffic]");
	}
	proto_request(&req, "monitor", &args);
	buf_free(&args);
	if (req.oom || req.len >= PROTO_MAX_LINE) {
		buf_free(&req);
		return usage_error(p, "monitor: --events too long");
	}
	fd = connect_daemon(p);
	if (fd < 0) {
		buf_free(&req);
		return EXIT_ERR;
	}
	if (send(fd, req.p, req.len, MSG_NOSIGNAL) < 0) {
		fprintf(p->err, "pmctl: sending to portmasterd: %s\n", strerror(errno));
		buf_free(&req);
		close(fd);
		return EXIT_ERR;
	}
	buf_free(&req);
	for (;;) {
		ssize_t n = recv(fd, in + len, sizeof(in) - 1 - len, 0);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		in[len] = 0;
		line = in;
		while ((nl = memchr(line, '\n', len - (size_t)(line - in)))) {
			struct proto_kv kv[REC_MAX_KV];
			struct record r = { .kv = kv };

			*nl = 0;
			if (!header) {
				char code[16], msg[512];
				long n0;
				int h = proto_parse_header(line, &n0, code, sizeof(code), msg, sizeof(msg));

				header = true;
				if (h != 0) {
					fprintf(p->err, "pmctl: %s\n", h > 0 ? msg : "malformed reply");
					close(fd);
					return h > 0 && !strcmp(code, "usage") ? EXIT_USAGE : EXIT_ERR;
				}
			} else {
				r.n = proto_parse_record(line, r.kv, REC_MAX_KV);
				if (r.n > 0)
					print_line(p, &r);
			}
			line = nl + 1;
		}
		/* A monitor's reader sees each event as it comes. */
		fflush(p->out);
		len -= (size_t)(line - in);
		memmove(in, line, len);
		if (len >= sizeof(in) - 1) {
			fprintf(p->err, "pmctl: an event too long to read\n");
			break;
		}
	}
	close(fd);
	if (!header) {
		fprintf(p->err, "pmctl: portmasterd closed the connection\n");
		return EXIT_ERR;
	}
	return EXIT_OK;
}
