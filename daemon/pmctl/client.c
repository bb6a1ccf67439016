// SPDX-License-Identifier: GPL-2.0
/* Talking to portmasterd over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "pmctl.h"

#define MAX_REPLY (256u << 20)

void req_arg(struct buf *b, const char *key, const char *val)
{
	rec_str(b, key, val);
}

void reply_free(struct reply *r)
{
	for (int i = 0; r->rec && i < r->nrec; i++)
		free(r->rec[i].kv);
	free(r->raw);
	free(r->rec);
	memset(r, 0, sizeof(*r));
}

const char *rec_get(const struct record *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].val;
	return NULL;
}

int connect_daemon(struct pmctl *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(p->socket) >= sizeof(sun.sun_path)) {
		fprintf(p->err, "pmctl: socket path too long: %s\n", p->socket);
		return -1;
	}
	strcpy(sun.sun_path, p->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(p->err, "pmctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		fprintf(p->err, "pmctl: cannot connect to %s: %s%s\n", p->socket, strerror(e),
			e == EACCES ? " (root and members of group 'portmaster' only)" :
			(e == ENOENT || e == ECONNREFUSED) ? " (is portmasterd running?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int pmctl_request(struct pmctl *p, const char *cmd, struct reply *r)
{
	return pmctl_request_args(p, cmd, NULL, r);
}

int pmctl_request_args(struct pmctl *p, const char *cmd, struct buf *args, struct reply *r)
{
	struct buf in, line_out;
	size_t off = 0;
	char *line, *nl;
	long want = -1;
	int fd;

	memset(r, 0, sizeof(*r));
	buf_init(&line_out);
	proto_request(&line_out, cmd, args);
	if (line_out.oom) {
		fprintf(p->err, "pmctl: out of memory\n");
		buf_free(&line_out);
		return EXIT_ERR;
	}
	if (line_out.len >= PROTO_MAX_LINE) {
		fprintf(p->err, "pmctl: request too long (at most %d bytes)\n", PROTO_MAX_LINE - 1);
		buf_free(&line_out);
		return EXIT_ERR;
	}
	fd = connect_daemon(p);
	if (fd < 0) {
		buf_free(&line_out);
		return EXIT_ERR;
	}
	while (off < line_out.len) {
		ssize_t n = send(fd, line_out.p + off, line_out.len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(p->err, "pmctl: sending to portmasterd: %s\n", strerror(errno));
			close(fd);
			buf_free(&line_out);
			return EXIT_ERR;
		}
		off += (size_t)n;
	}
	buf_free(&line_out);
	buf_init(&in);
	/* Read until the header's count of records has arrived. */
	for (;;) {
		char chunk[65536];
		ssize_t n;
		int lines = 0;

		for (size_t i = 0; i < in.len; i++)
			if (in.p[i] == '\n')
				lines++;
		if (lines >= 1) {
			if (want < 0) {
				char *first = strndup(in.p, (size_t)(strchr(in.p, '\n') - in.p));
				int h = first ? proto_parse_header(first, &want, r->errcode,
								   sizeof(r->errcode), r->errmsg,
								   sizeof(r->errmsg)) : -1;

				free(first);
				if (h < 0) {
					fprintf(p->err, "pmctl: malformed reply from portmasterd\n");
					goto fail;
				}
				if (h == 1) {
					r->is_error = true;
					want = 0;
				}
			}
			if (lines >= want + 1)
				break;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(p->err, "pmctl: portmasterd closed the connection%s%s\n",
				n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			goto fail;
		}
		buf_add(&in, chunk, (size_t)n);
		if (in.oom || in.len > MAX_REPLY) {
			fprintf(p->err, "pmctl: reply too large\n");
			goto fail;
		}
	}
	close(fd);
	r->raw = in.p;
	in.p = NULL;
	buf_free(&in);
	line = r->raw;
	nl = strchr(line, '\n');
	*nl = 0;
	if (r->is_error)
		return EXIT_OK;
	r->rec = calloc((size_t)want + 1, sizeof(*r->rec));
	if (!r->rec) {
		fprintf(p->err, "pmctl: out of memory\n");
		reply_free(r);
		return EXIT_ERR;
	}
	for (long i = 0; i < want; i++) {
		static struct proto_kv kv[REC_MAX_KV];
		int n;

		line = nl + 1;
		nl = strchr(line, '\n');
		*nl = 0;
		n = proto_parse_record(line, kv, REC_MAX_KV);
		if (n < 0) {
			fprintf(p->err, "pmctl: malformed record in reply\n");
			reply_free(r);
			return EXIT_ERR;
		}
		r->rec[i].kv = malloc(((size_t)n + 1) * sizeof(kv[0]));
		if (!r->rec[i].kv) {
			fprintf(p->err, "pmctl: out of memory\n");
			reply_free(r);
			return EXIT_ERR;
		}
		memcpy(r->rec[i].kv, kv, (size_t)n * sizeof(kv[0]));
		r->rec[i].n = n;
		r->nrec = (int)i + 1;	/* reply_free() frees what is there */
	}
	r->nrec = (int)want;
	return EXIT_OK;
fail:
	close(fd);
	buf_free(&in);
	return EXIT_ERR;
}

int pmctl_report_error(struct pmctl *p, const struct reply *r)
{
	fprintf(p->err, "pmctl: %s\n", r->errmsg[0] ? r->errmsg : r->errcode);
	return !strcmp(r->errcode, "usage") ? EXIT_USAGE : EXIT_ERR;
}

int pmctl_request_ok(struct pmctl *p, const char *cmd, struct reply *r)
{
	int rc = pmctl_request(p, cmd, r);

	if (rc != EXIT_OK || !r->is_error)
		return rc;
	rc = pmctl_report_error(p, r);
	reply_free(r);
	return rc;
}

int pmctl_call(struct pmctl *p, const char *cmd, const char *const *cols, bool as_array)
{
	return pmctl_call_args(p, cmd, NULL, cols, as_array);
}

int pmctl_call_args(struct pmctl *p, const char *cmd, struct buf *args, const char *const *cols,
		    bool as_array)
{
	struct reply r;
	int rc = pmctl_request_args(p, cmd, args, &r);

	if (rc != EXIT_OK)
		return rc;
	if (r.is_error)
		rc = pmctl_report_error(p, &r);
	else if (cols)
		print_records(p, &r, cols, as_array);
	else
		print_empty_ok(p);
	reply_free(&r);
	return rc;
}

int pmctl_call_buf(struct pmctl *p, struct buf *b, const char *const *cols, bool as_array)
{
	int rc;

	if (b->oom) {
		fprintf(p->err, "pmctl: out of memory\n");
		rc = EXIT_ERR;
	} else {
		rc = pmctl_call_args(p, b->p, b, cols, as_array);
	}
	buf_free(b);
	return rc;
}
