// SPDX-License-Identifier: GPL-2.0
/*
 * portmaster-ui: the web UI's process.  Runs as nobody with the sockets
 * portmasterd gave it (see uiproc.h): a listening socket on loopback,
 * a request connection and an event stream.
 *
 * Every request must name our own host and port in Host (a page from
 * elsewhere that rebinds its name to 127.0.0.1 sends its own name), must
 * come from our origin when it says where from (Origin, Sec-Fetch-Site;
 * a request that changes anything must say so), and must carry the
 * session cookie that only a login URL from "pmctl ui" gives.
 */
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control/proto.h"
#include "ui/webui.h"

#define MAX_BODY (64 * 1024)
#define MAX_STREAMS 8

static struct ctlconn ctl = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
static char origin[80];		/* http://127.0.0.1:817 */
static const char *host;	/* 127.0.0.1:817 */
static int nstreams;
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;

struct request {
	struct buf body;
	bool too_large;
	bool stream;	/* an event stream, counted in nstreams until it ends */
};

static void secure_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
				"form-action 'self'; base-uri 'none'");
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status, const char *type,
				 const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	secure_headers(r, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status, json_object *o)
{
	enum MHD_Result ret = send_text(c, status, "application/json",
					json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return send_json(c, status, o);
}

static unsigned int status_of(const char *code)
{
	if (!strcmp(code, "usage") || !strcmp(code, "inval"))
		return MHD_HTTP_BAD_REQUEST;
	if (!strcmp(code, "perm"))
		return MHD_HTTP_FORBIDDEN;
	if (!strcmp(code, "noent"))
		return MHD_HTTP_NOT_FOUND;
	if (!strcmp(code, "busy"))
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* One request to the daemon, its records as the response. */
static enum MHD_Result relay(struct MHD_Connection *c, struct buf *req, bool single)
{
	char code[16], msg[512];
	json_object *arr;

	if (req->oom) {
		buf_free(req);
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	arr = ctl_call(&ctl, req->p, req, code, sizeof(code), msg, sizeof(msg));
	buf_free(req);
	if (!arr) {
		if (!strcmp(code, "io"))
			exit(1);	/* the daemon is gone: it restarts us */
		return send_error(c, status_of(code), msg);
	}
	if (single) {
		json_object *o = json_object_array_length(arr) ?
			json_object_get(json_object_array_get_idx(arr, 0)) : json_object_new_object();

		json_object_put(arr);
		arr = o;
	}
	return send_json(c, MHD_HTTP_OK, arr);
}

static void req_arg(struct buf *b, const char *key, const char *val)
{
	rec_str(b, key, val);
}

/* Copies the query parameters that the command takes. */
static void query_args(struct MHD_Connection *c, struct buf *b, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, *keys);

		if (v && *v)
			req_arg(b, *keys, v);
	}
}

/* A JSON body's members as KEY=VALUE arguments (strings and numbers). */
static int body_args(const struct request *rq, struct buf *b, const char *const *keys,
		     json_object **out)
{
	json_object *o;

	if (!rq->body.len || rq->too_large)
		return -1;
	o = json_tokener_parse(rq->body.p);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	for (; *keys; keys++) {
		json_object *v = json_object_object_get(o, *keys);

		if (v && (json_object_is_type(v, json_type_string) ||
			  json_object_is_type(v, json_type_int)) && *json_object_get_string(v))
			req_arg(b, *keys, json_object_get_string(v));
	}
	if (out)
		*out = o;
	else
		json_object_put(o);
	return 0;
}

/* every criterion of the rules file (decide/criteria.c), and the note */
static const char *const rule_keys[] = { "action", "scope", "for", "exe", "cmdline", "parent",
					  "unit", "cgroup", "uid", "gid", "local", "remote", "dst",
					  "port", "proto", "icmp-type", "dir", "domain", "note", NULL };

static enum MHD_Result rule_add(struct MHD_Connection *c, const struct request *rq)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "rule-add");
	if (body_args(rq, &b, rule_keys, NULL) < 0) {
		buf_free(&b);
		return send_error(c, MHD_HTTP_BAD_REQUEST, "a JSON object of the rule's fields");
	}
	return relay(c, &b, true);
}

/* An edit is the new rule added just before the old one, then the old
 * one removed: the first rule that matches decides, so an edited rule
 * keeps its place; one the daemon refuses leaves the old one as it was. */
static enum MHD_Result rule_edit(struct MHD_Connection *c, const struct request *rq, const char *id)
{
	char code[16], msg[512];
	struct buf b;
	json_object *added;

	buf_init(&b);
	buf_addf(&b, "rule-add");
	req_arg(&b, "before", id);
	if (body_args(rq, &b, rule_keys, NULL) < 0 || b.oom) {
		buf_free(&b);
		return send_error(c, MHD_HTTP_BAD_REQUEST, "a JSON object of the rule's fields");
	}
	added = ctl_call(&ctl, b.p, &b, code, sizeof(code), msg, sizeof(msg));
	buf_free(&b);
	if (!added)
		return send_error(c, status_of(code), msg);
	json_object_put(added);
	buf_init(&b);
	buf_addf(&b, "rule-del");
	req_arg(&b, "id", id);
	return relay(c, &b, true);
}

/* A rule to another place: {"before": ID}, {"first": "yes"} or {"last": "yes"}. */
static const char *const move_keys[] = { "before", "first", "last", NULL };

static enum MHD_Result rule_move(struct MHD_Connection *c, const struct request *rq, const char *id)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "rule-move");
	req_arg(&b, "id", id);
	if (body_args(rq, &b, move_keys, NULL) < 0) {
		buf_free(&b);
		return send_error(c, MHD_HTTP_BAD_REQUEST,
				  "a JSON object with before, first or last");
	}
	return relay(c, &b, true);
}

/*
 * A prompt answered with a scope: "once" is a verdict for this flow; the
 * others are also a rule for what the user chose to match (the program,
 * and its destination, and port; or the program and the domain it
 * resolved), which the daemon makes from the flow in the same request.
 */
static enum MHD_Result answer(struct MHD_Connection *c, const struct request *rq)
{
	static const char *const keys[] = { NULL };
	json_object *o = NULL, *v;
	const char *id, *action, *scope, *match, *dur;
	char code[16], msg[512], idbuf[32];
	struct buf b;

	buf_init(&b);
	if (body_args(rq, &b, keys, &o) < 0) {
		buf_free(&b);
		return send_error(c, MHD_HTTP_BAD_REQUEST, "a JSON object {id, action, scope, match}");
	}
	buf_free(&b);
	v = json_object_object_get(o, "id");
	snprintf(idbuf, sizeof(idbuf), "%s", v ? json_object_get_string(v) : "");
	id = idbuf;
	action = json_object_get_string(json_object_object_get(o, "action"));
	scope = json_object_get_string(json_object_object_get(o, "scope"));
	match = json_object_get_string(json_object_object_get(o, "match"));
	dur = json_object_get_string(json_object_object_get(o, "for"));
	if (!*id || !action || !scope) {
		json_object_put(o);
		return send_error(c, MHD_HTTP_BAD_REQUEST, "id, action and scope are needed");
	}
	buf_init(&b);
	buf_addf(&b, "verdict");
	req_arg(&b, "id", id);
	req_arg(&b, "action", !strcmp(action, "allow") ? "accept" : action);
	if (strcmp(scope, "once")) {
		/* An answer with a scope is a rule made by the daemon from the
		 * flow's own fields (its program when known, its direction,
		 * and what "match" names); what waits that it matches is
		 * decided by it at once. */
		json_object *pending = ctl_call(&ctl, "pending", NULL, code, sizeof(code), msg,
						sizeof(msg));
		json_object *flow = NULL;
		char fields[64];

		for (size_t i = 0; pending && i < json_object_array_length(pending); i++) {
			json_object *f = json_object_array_get_idx(pending, i);

			if (!strcmp(json_object_get_string(json_object_object_get(f, "id")), id))
				flow = f;
		}
		if (!flow) {
			buf_free(&b);
			json_object_put(pending);
			json_object_put(o);
			return send_error(c, MHD_HTTP_NOT_FOUND, "no such prompt (answered or timed out)");
		}
		snprintf(fields, sizeof(fields), "%sdir",
			 strcmp(json_object_get_string(json_object_object_get(flow, "exe")), "-") ?
			 "exe," : "");
		if (match && !strcmp(match, "domain")) {
			/* the name its program resolved: the rule holds for the
			 * name wherever it points, and decides its queries too */
			const char *dom = json_object_get_string(json_object_object_get(flow, "domain"));

			if (!dom || !*dom || !strcmp(dom, "-")) {
				buf_free(&b);
				json_object_put(pending);
				json_object_put(o);
				return send_error(c, MHD_HTTP_BAD_REQUEST,
						  "this connection has no domain (its program did not "
						  "resolve it through portmasterd)");
			}
			strcat(fields, ",domain");
		}
		if (match && (!strcmp(match, "destination") || !strcmp(match, "port")))
			strcat(fields, ",dst");
		if (match && !strcmp(match, "port"))
			strcat(fields, ",port,proto");
		json_object_put(pending);
		req_arg(&b, "scope", scope);
		if (!strcmp(scope, "for"))
			req_arg(&b, "for", dur ? dur : "1h");
		req_arg(&b, "match", fields);
	}
	json_object_put(o);
	return relay(c, &b, true);
}

static enum MHD_Result login(struct MHD_Connection *c)
{
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	char code[16], msg[512], sid[65], cookie[160];
	struct MHD_Response *r;
	json_object *arr, *adm;
	struct buf b;
	enum MHD_Result ret;
	bool admin;

	if (!token || strlen(token) != 64)
		return send_text(c, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8",
				 "No login token. Open the UI with: pmctl ui\n");
	buf_init(&b);
	buf_addf(&b, "ui-redeem");
	req_arg(&b, "token", token);
	arr = b.oom ? NULL : ctl_call(&ctl, b.p, &b, code, sizeof(code), msg, sizeof(msg));
	buf_free(&b);
	if (!arr)
		return send_text(c, MHD_HTTP_FORBIDDEN, "text/plain; charset=utf-8",
				 "This login link is unknown, used or expired. "
				 "Run pmctl ui again for a new one.\n");
	adm = json_object_array_length(arr) ?
		json_object_object_get(json_object_array_get_idx(arr, 0), "admin") : NULL;
	admin = adm && !strcmp(json_object_get_string(adm), "yes");
	json_object_put(arr);
	if (!session_new(admin, sid))
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no session");
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict", SESSION_COOKIE, sid);
	r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	secure_headers(r, "text/plain");
	MHD_add_response_header(r, "Set-Cookie", cookie);
	/* Away from the token's URL, so that it is in no history or reload. */
	MHD_add_response_header(r, "Location", "/");
	ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result events(struct MHD_Connection *c)
{
	struct sse_client *sc;
	struct MHD_Response *r;
	enum MHD_Result ret;

	pthread_mutex_lock(&streams_lock);
	if (nstreams >= MAX_STREAMS) {
		pthread_mutex_unlock(&streams_lock);
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many live views open");
	}
	nstreams++;
	pthread_mutex_unlock(&streams_lock);
	sc = sse_client_new();
	r = sc ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, sc,
						     sse_client_free) : NULL;
	if (!r) {
		sse_client_free(sc);
		pthread_mutex_lock(&streams_lock);
		nstreams--;
		pthread_mutex_unlock(&streams_lock);
		return MHD_NO;
	}
	secure_headers(r, "text/event-stream");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!rq)
		return;
	if (rq->stream) {
		pthread_mutex_lock(&streams_lock);
		nstreams--;
		pthread_mutex_unlock(&streams_lock);
	}
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/* Why this request is refused, or NULL. */
static const char *refusal(struct MHD_Connection *c, const char *method, bool changes)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");

	(void)method;
	if (!h || strcmp(h, host))
		return "wrong Host (open the UI by its address, with pmctl ui)";
	if (o && strcmp(o, origin))
		return "cross-origin request refused";
	if (changes && !o)
		return "a request that changes anything must come from the UI's page (no Origin)";
	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return "cross-site request refused";
	return NULL;
}

static const struct asset *asset_for(const char *url)
{
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (size_t i = 0; i < ui_nassets; i++)
		if (!strcmp(ui_assets[i].path, url))
			return &ui_assets[i];
	return NULL;
}

/* "/api/rules/ID/move": true, and ID in @id. */
static bool rule_move_url(const char *url, char *id, size_t idlen)
{
	static const char prefix[] = "/api/rules/";
	size_t n;

	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return false;
	url += sizeof(prefix) - 1;
	n = strspn(url, "0123456789");
	if (!n || n >= idlen || strcmp(url + n, "/move"))
		return false;
	memcpy(id, url, n);
	id[n] = 0;
	return true;
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method,
			     struct request *rq, bool admin)
{
	static const char *const hist_keys[] = { "exe", "domain", "since", "verdict", "limit", "kind",
						 NULL };
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	const struct asset *a;
	char id[16];
	struct buf b;

	buf_init(&b);
	if (get && (a = asset_for(url))) {
		struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
									 MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		secure_headers(r, a->type);
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (get && !strcmp(url, "/api/events")) {
		enum MHD_Result r = events(c);

		rq->stream = r == MHD_YES;
		return r;
	}
	if (get && !strcmp(url, "/api/session")) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "admin", json_object_new_boolean(admin));
		return send_json(c, MHD_HTTP_OK, o);
	}
	if (get && !strcmp(url, "/api/status")) {
		buf_addf(&b, "status");
		return relay(c, &b, true);
	}
	if (get && !strcmp(url, "/api/flows")) {
		buf_addf(&b, "list");
		return relay(c, &b, false);
	}
	if (get && !strcmp(url, "/api/pending")) {
		buf_addf(&b, "pending");
		return relay(c, &b, false);
	}
	if (get && !strcmp(url, "/api/rules")) {
		buf_addf(&b, "rule-list");
		return relay(c, &b, false);
	}
	if (get && !strcmp(url, "/api/history")) {
		buf_addf(&b, "history");
		query_args(c, &b, hist_keys);
		return relay(c, &b, false);
	}
	if (get && !strcmp(url, "/api/series")) {
		static const char *const keys[] = { "exe", "since", NULL };

		buf_addf(&b, "history");
		req_arg(&b, "series", "1h");
		query_args(c, &b, keys);
		return relay(c, &b, false);
	}
	if (!strcmp(method, "POST") && !strcmp(url, "/api/logout")) {
		session_end(MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE));
		return send_json(c, MHD_HTTP_OK, json_object_new_object());
	}
	if (get)
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such page");
	/* Everything below changes state. */
	if (!admin)
		return send_error(c, MHD_HTTP_FORBIDDEN,
				  "this session may only look (pmctl ui was run without root or "
				  "CAP_NET_ADMIN)");
	if (rq->too_large)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (!strcmp(method, "POST") && !strcmp(url, "/api/verdict"))
		return answer(c, rq);
	if (!strcmp(method, "POST") && !strcmp(url, "/api/rules"))
		return rule_add(c, rq);
	if (!strncmp(url, "/api/rules/", 11) && strspn(url + 11, "0123456789") == strlen(url + 11) &&
	    url[11]) {
		if (!strcmp(method, "DELETE")) {
			buf_addf(&b, "rule-del");
			req_arg(&b, "id", url + 11);
			return relay(c, &b, true);
		}
		if (!strcmp(method, "PUT"))
			return rule_edit(c, rq, url + 11);
	}
	if (!strcmp(method, "POST") && rule_move_url(url, id, sizeof(id)))
		return rule_move(c, rq, id);
	return send_error(c, MHD_HTTP_NOT_FOUND, "no such action");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct request *rq = *con_cls;
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	const char *why;
	bool admin = false;

	(void)cls;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		buf_init(&rq->body);
		*con_cls = rq;
		return MHD_YES;	/* the body, if any, comes next */
	}
	if (*upload_data_size) {
		if (rq->body.len + *upload_data_size > MAX_BODY)
			rq->too_large = true;
		else
			buf_add(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	why = refusal(c, method, !get);
	if (why)
		return send_error(c, MHD_HTTP_FORBIDDEN, why);
	if (get && !strcmp(url, "/login"))
		return login(c);
	if (!session_check(MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE), &admin)) {
		if (get && !strncmp(url, "/api/", 5))
			return send_error(c, MHD_HTTP_UNAUTHORIZED, "no session: open the UI with pmctl ui");
		if (get)
			return send_text(c, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8",
					 "Not logged in. Open the UI with: pmctl ui\n");
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "no session: open the UI with pmctl ui");
	}
	return route(c, url, method, rq, admin);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen-fd", required_argument, NULL, 'l' },
		{ "control-fd", required_argument, NULL, 'c' },
		{ "events-fd", required_argument, NULL, 'e' },
		{ "origin", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int listen_fd = -1, events_fd = -1, opt;
	struct MHD_Daemon *mhd;
	sigset_t set;
	int sig;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen_fd = atoi(optarg); break;
		case 'c': ctl.fd = atoi(optarg); break;
		case 'e': events_fd = atoi(optarg); break;
		case 'o': snprintf(origin, sizeof(origin), "%s", optarg); break;
		default: return 2;
		}
	}
	if (listen_fd < 0 || ctl.fd < 0 || events_fd < 0 || strncmp(origin, "http://", 7)) {
		fprintf(stderr, "portmaster-ui: started by portmasterd only (see portmasterd(8))\n");
		return 2;
	}
	host = origin + 7;
	signal(SIGPIPE, SIG_IGN);
	/* Only the main thread takes these (sigwait below). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (sse_start(events_fd) != 0) {
		fprintf(stderr, "portmaster-ui: cannot start the event reader\n");
		return 1;
	}
	mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			       MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, NULL,
			       MHD_OPTION_LISTEN_SOCKET, listen_fd,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			       MHD_OPTION_END);
	if (!mhd) {
		fprintf(stderr, "portmaster-ui: cannot start the HTTP server\n");
		return 1;
	}
	sigwait(&set, &sig);
	/* Streams may block in their readers: leave without waiting. */
	_exit(0);
}
