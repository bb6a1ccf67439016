// SPDX-License-Identifier: GPL-2.0
/*
 * The commands for seeing: "history" (answered later, from the history's
 * query thread), "monitor" (a stream of events).  Records as elsewhere in
 * the protocol (proto.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/control.h"
#include "control/ctlcmd.h"
#include "daemon.h"
#include "events/events.h"
#include "history/history.h"
#include "ui/uiproc.h"
#include "common/util.h"

struct pending_reply {
	struct pmd *d;
	uint64_t handle;
};

static void history_done(void *arg, struct buf *recs, long n, const char *err)
{
	struct pending_reply *pr = arg;
	struct buf out;

	buf_init(&out);
	if (n < 0) {
		ctl_reply_err(&out, "internal", "history: %s", err ? err : "query failed");
	} else {
		proto_ok(&out, n);
		if (recs->len)
			buf_add(&out, recs->p, recs->len);
	}
	if (out.oom) {
		buf_free(&out);
		ctl_reply_err(&out, "internal", "history: out of memory");
	}
	control_complete(pr->d, pr->handle, out.p ? out.p : "", out.len);
	buf_free(&out);
	free(pr);
}

static bool known_verdict(const char *v)
{
	static const char *const names[] = { "allow", "block", "drop", "reroute-dns",
					     "reroute-tunnel" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i]))
			return true;
	return false;
}

static void cmd_history(struct pmd *d, const struct peer *p, const struct proto_req *req,
			struct buf *out)
{
	struct hquery q = { .flows = true, .dns = true, .limit = 1000 };
	struct pending_reply *pr;
	int r;

	if (!d->hist) {
		ctl_reply_err(out, "noent", "the history is off (history = off in portmasterd.conf) "
			      "or could not start; see the daemon's log");
		return;
	}
	for (int i = 0; i < req->nargs; i++) {
		const char *k = req->args[i].key, *v = req->args[i].val;
		uint64_t secs;

		if (!strcmp(k, "exe")) {
			if (v[0] != '/' || xsnprintf(q.exe, sizeof(q.exe), "%s", v) < 0)
				goto usage_exe;
		} else if (!strcmp(k, "domain")) {
			if (!*v || xsnprintf(q.domain, sizeof(q.domain), "%s", v) < 0)
				goto usage;
		} else if (!strcmp(k, "verdict")) {
			if (!known_verdict(v))
				goto usage_verdict;
			snprintf(q.verdict, sizeof(q.verdict), "%s", v);
		} else if (!strcmp(k, "since")) {
			uint64_t now = wall_ms();

			if (parse_duration(v, &secs) < 0)
				goto usage_since;
			q.since_ms = now > secs * 1000 ? now - secs * 1000 : 0;
		} else if (!strcmp(k, "limit")) {
			if (parse_u32(v, 100000, &q.limit) < 0 || !q.limit)
				goto usage;
		} else if (!strcmp(k, "kind")) {
			q.flows = !strcmp(v, "flows") || !strcmp(v, "all");
			q.dns = !strcmp(v, "dns") || !strcmp(v, "all");
			if (!q.flows && !q.dns)
				goto usage;
		} else if (!strcmp(k, "series")) {
			if (parse_duration(v, &secs) < 0)
				goto usage_since;
			q.series_ms = secs * 1000;
		} else {
			ctl_reply_err(out, "usage", "history: unknown argument '%s'", k);
			return;
		}
	}
	pr = malloc(sizeof(*pr));
	if (!pr) {
		ctl_reply_err(out, "internal", "out of memory");
		return;
	}
	pr->d = d;
	pr->handle = p->handle;
	r = history_query(d->hist, &q, history_done, pr);
	if (r < 0) {
		free(pr);
		ctl_reply_err(out, "busy", "history: %s", r == -EBUSY ? "too many queries at once" :
			      "out of memory");
		return;
	}
	control_defer(d, p->handle);
	return;
usage_exe:
	ctl_reply_err(out, "usage", "history: exe= needs an absolute path");
	return;
usage_verdict:
	ctl_reply_err(out, "usage", "history: verdict= must be allow, block, drop, reroute-dns "
		      "or reroute-tunnel");
	return;
usage_since:
	ctl_reply_err(out, "usage", "history: a duration is like 90, 30s, 15m, 2h or 1d");
	return;
usage:
	ctl_reply_err(out, "usage", "history [exe=PATH] [domain=D] [since=DURATION] [verdict=V] "
		      "[limit=N] [kind=flows|dns|all] [series=DURATION]");
}

static void cmd_monitor(struct pmd *d, const struct peer *p, const struct proto_req *req,
			struct buf *out)
{
	uint32_t mask = 0;
	const char *ev = proto_arg(req, "events");

	if (req->nargs > (ev ? 1 : 0)) {
		ctl_reply_err(out, "usage", "monitor [events=flow,prompt,answer,end,dns,traffic] "
			      "(traffic: each second, per program)");
		return;
	}
	if (!ev) {
		mask = EV_MASK_DEFAULT;
	} else {
		char list[128], *save = NULL;

		if (xsnprintf(list, sizeof(list), "%s", ev) < 0) {
			ctl_reply_err(out, "usage", "monitor: events= too long");
			return;
		}
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			enum ev_type type;

			if (event_type_parse(t, &type) < 0) {
				ctl_reply_err(out, "usage", "monitor: unknown event '%s' (flow, prompt, "
					      "answer, end, dns, traffic)", t);
				return;
			}
			mask |= EV_MASK(type);
		}
	}
	if (!d->events || control_stream(d, p->handle, mask) < 0) {
		ctl_reply_err(out, "internal", "monitor: no event stream here");
		return;
	}
	proto_ok(out, 0);
}

/* pmctl ui: a one-time login URL, for the rights of who asks. */
static void cmd_ui_login(struct pmd *d, const struct peer *p, const struct proto_req *req,
			 struct buf *out)
{
	char url[256];

	if (req->nargs) {
		ctl_reply_err(out, "usage", "ui-login takes no arguments");
		return;
	}
	if (ui_login_url(d, p->admin, url, sizeof(url)) < 0) {
		ctl_reply_err(out, "noent", "the web UI is off (ui = off in portmasterd.conf, or it "
			      "could not start: see the daemon's log)");
		return;
	}
	proto_ok(out, 1);
	rec_str(out, "url", url);
	rec_str(out, "admin", p->admin ? "yes" : "no");
	rec_end(out);
}

/* The UI process only: a token from a login URL, used up. */
static void cmd_ui_redeem(struct pmd *d, const struct peer *p, const struct proto_req *req,
			  struct buf *out)
{
	const char *token = proto_arg(req, "token");
	bool admin;

	if (!p->ui) {
		ctl_reply_err(out, "perm", "ui-redeem is for the web UI's own connection");
		return;
	}
	if (!token || req->nargs != 1) {
		ctl_reply_err(out, "usage", "ui-redeem needs token=TOKEN");
		return;
	}
	if (ui_redeem(d, token, &admin) < 0) {
		ctl_reply_err(out, "perm", "unknown, used or expired login token");
		return;
	}
	proto_ok(out, 1);
	rec_str(out, "admin", admin ? "yes" : "no");
	rec_end(out);
}

bool ctl_views_handle(struct pmd *d, const struct peer *p, const struct proto_req *req,
		      struct buf *out)
{
	if (!strcmp(req->cmd, "ui-login")) {
		cmd_ui_login(d, p, req, out);
		return true;
	}
	if (!strcmp(req->cmd, "ui-redeem")) {
		cmd_ui_redeem(d, p, req, out);
		return true;
	}
	if (!strcmp(req->cmd, "history"))
		cmd_history(d, p, req, out);
	else if (!strcmp(req->cmd, "monitor"))
		cmd_monitor(d, p, req, out);
	else
		return false;
	return true;
}
