// SPDX-License-Identifier: GPL-2.0
/* The commands of the control protocol (see proto.h and portmasterd(8)). */
#include <errno.h>
#include <stdarg.h>
#include <linux/portmaster.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "control/ctlcmd.h"
#include "daemon.h"
#include "history/ctacct.h"
#include "history/history.h"
#include "common/log.h"
#include "common/util.h"
#include "dns/dns.h"

#ifndef PM_VERSION
#define PM_VERSION "unknown"
#endif

#define CAP_NET_ADMIN_BIT 12

void peer_check_admin(struct peer *p, const char *proc_root)
{
	char path[64], line[256];
	FILE *f;
	unsigned long long caps = 0;
	long uid = -1;

	p->admin = p->uid == 0;
	if (p->admin || p->pid <= 0)
		return;
	snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4))
			sscanf(line + 4, "%*d %ld", &uid);	/* effective uid */
		else if (!strncmp(line, "CapEff:", 7))
			sscanf(line + 7, "%llx", &caps);
	}
	fclose(f);
	/* The pid may have been reused since connect: trust it only if it
	 * still runs as the uid the kernel gave us for the socket. */
	p->admin = uid == (long)p->uid && (caps >> CAP_NET_ADMIN_BIT) & 1;
}

#define reply_err ctl_reply_err

void ctl_reply_err(struct buf *out, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proto_error(out, code, msg);
}

static void reply_ok(struct buf *out, struct buf *body, int n)
{
	proto_ok(out, n);
	if (body && body->len)
		buf_add(out, body->p, body->len);
}

static const char *proto_str(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

static const char *verdict_str(const struct flow_entry *e)
{
	if (e->state == FS_PENDING)
		return "pending";
	if (e->dns_blocked)
		return "block";	/* its query was refused by name */
	switch (e->mark) {
	case PM_MARK_ACCEPT: case PM_MARK_ACCEPT_ALWAYS: return "allow";
	case PM_MARK_BLOCK: case PM_MARK_BLOCK_ALWAYS: return "block";
	case PM_MARK_DROP: case PM_MARK_DROP_ALWAYS: return "drop";
	case PM_MARK_REROUTE_DNS: return "reroute-dns";
	case PM_MARK_REROUTE_TUNNEL: return "reroute-tunnel";
	default: return "?";
	}
}

static void flow_record(struct buf *b, const struct flow_entry *e, uint64_t now)
{
	const struct flow_info *f = &e->info;
	char a[64], p[8];
	/* src is the side that opened the flow */
	const uint8_t *src = f->dir == PM_DIR_OUT ? f->key.laddr : f->key.raddr;
	const uint8_t *dst = f->dir == PM_DIR_OUT ? f->key.raddr : f->key.laddr;
	uint16_t sport = f->dir == PM_DIR_OUT ? f->key.lport : f->key.rport;
	uint16_t dport = f->dir == PM_DIR_OUT ? f->key.rport : f->key.lport;

	rec_u64(b, "id", e->id);
	rec_str(b, "dir", f->dir == PM_DIR_OUT ? "out" : "in");
	rec_str(b, "proto", proto_str(f->key.proto, p, sizeof(p)));
	rec_str(b, "src", addr_str(f->key.family, src, a, sizeof(a)));
	rec_u64(b, "sport", sport);
	rec_str(b, "dst", addr_str(f->key.family, dst, a, sizeof(a)));
	rec_u64(b, "dport", dport);
	rec_i64(b, "pid", f->owner.pid);
	if (f->owner.have_uid)
		rec_u64(b, "uid", f->owner.uid);
	else
		rec_str(b, "uid", "-");
	rec_str(b, "exe", f->owner.exe ? f->owner.exe : "-");
	rec_str(b, "domain", f->domain ? f->domain : "-");
	rec_str(b, "cnames", f->cnames ? f->cnames : "-");
	rec_str(b, "verdict", verdict_str(e));
	rec_u64(b, "mark", e->mark);
	rec_u64(b, "rule", e->rule_id);
	rec_u64(b, "age_ms", now - e->created_ms);
	rec_u64(b, "packets", e->pkts);
	if (e->state == FS_PENDING) {
		rec_u64(b, "held", (uint64_t)e->nheld);
		rec_u64(b, "expires_in", e->deadline_ms > now ? (e->deadline_ms - now + 999) / 1000 : 0);
	}
	rec_end(b);
}

static void cmd_status(struct pmd *d, struct buf *out)
{
	struct buf b;
	uint64_t n = d->st.attrib_ok + d->st.attrib_fail;
	static const uint16_t marks[] = { 1700, 1701, 1702, 1710, 1711, 1712, 1717, 1799 };

	buf_init(&b);
	rec_str(&b, "mode", d->be ? d->be->name : "none");
	rec_str(&b, "version", PM_VERSION);
	rec_u64(&b, "pid", (uint64_t)getpid());
	rec_u64(&b, "uptime", (now_ms() - d->started_ms) / 1000);
	rec_str(&b, "default", action_name(d->def));
	rec_u64(&b, "rules", d->rules.n);
	rec_u64(&b, "flows", d->ft.n);
	rec_u64(&b, "pending", d->ft.npending);
	rec_u64(&b, "packets", d->st.packets);
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		char k[8];

		snprintf(k, sizeof(k), "v%u", marks[i]);
		rec_u64(&b, k, d->st.verdicts[marks[i] - 1700]);
	}
	rec_u64(&b, "prompts", d->st.prompts);
	rec_u64(&b, "timeouts", d->st.timeouts);
	rec_u64(&b, "unparsable", d->st.unparsable);
	rec_u64(&b, "icmp_errors", d->st.icmp_errors);
	rec_u64(&b, "remembered", d->st.remembered);
	rec_u64(&b, "held_overflow", d->st.held_overflow);
	rec_u64(&b, "pending_full", d->st.pending_full);
	rec_u64(&b, "attrib_ok", d->st.attrib_ok);
	rec_u64(&b, "attrib_fail", d->st.attrib_fail);
	rec_u64(&b, "attrib_avg_ns", n ? d->st.attrib_ns / n : 0);
	rec_u64(&b, "resets", d->st.resets);
	rec_u64(&b, "reset_entries", d->st.reset_entries);
	if (d->be && d->be->stats)
		d->be->stats(d, &b);
	if (d->hist)
		history_stats(d->hist, &b);
	else
		rec_str(&b, "history", "off");
	ctacct_stats(d->ctacct, &b);
	dns_stats(d, &b);
	rec_end(&b);
	reply_ok(out, &b, 1);
	buf_free(&b);
}

static void cmd_flows(struct pmd *d, struct buf *out, bool pending_only)
{
	struct buf b;
	uint64_t now = now_ms();
	int n = 0;

	buf_init(&b);
	/* oldest first, like a log */
	for (struct flow_entry *e = d->ft.tail; e; e = e->prev) {
		if (pending_only && e->state != FS_PENDING)
			continue;
		flow_record(&b, e, now);
		n++;
	}
	if (b.oom) {
		reply_err(out, "internal", "out of memory");
	} else {
		reply_ok(out, &b, n);
	}
	buf_free(&b);
}

static int parse_action(const char *s, enum action *a, bool allow_ask)
{
	if (!s)
		return -1;
	if (!strcmp(s, "accept"))
		s = "allow";
	if (action_parse(s, a) < 0 || (!allow_ask && *a == ACT_ASK))
		return -1;
	return 0;
}

static bool parse_bool(const char *s, bool *v)
{
	if (!s) {
		*v = false;
		return true;
	}
	if (!strcmp(s, "yes") || !strcmp(s, "1")) {
		*v = true;
		return true;
	}
	if (!strcmp(s, "no") || !strcmp(s, "0")) {
		*v = false;
		return true;
	}
	return false;
}

static void cmd_verdict(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *ids = proto_arg(req, "id"), *act = proto_arg(req, "action");
	uint64_t id;
	enum action a;
	bool perm;
	int r;

	if (!ids || parse_u64(ids, UINT64_MAX, &id) < 0) {
		reply_err(out, "usage", "verdict needs id=FLOW-ID (a number from 'pmctl pending')");
		return;
	}
	if (parse_action(act, &a, false) < 0) {
		reply_err(out, "usage", "verdict needs action=accept|block|drop");
		return;
	}
	if (!parse_bool(proto_arg(req, "permanent"), &perm)) {
		reply_err(out, "usage", "permanent must be yes or no");
		return;
	}
	for (int i = 0; i < req->nargs; i++) {
		const char *k = req->args[i].key;

		if (strcmp(k, "id") && strcmp(k, "action") && strcmp(k, "permanent")) {
			reply_err(out, "usage", "verdict: unknown argument '%s'", k);
			return;
		}
	}
	r = engine_verdict(d, id, a, perm);
	if (r == -ENOENT) {
		reply_err(out, "noent", "no pending flow %llu (answered, timed out, or never asked)",
			  (unsigned long long)id);
		return;
	}
	reply_ok(out, NULL, 0);
}

static void rule_record(struct buf *b, const struct rule *r, uint64_t now)
{
	char a[64];

	rec_u64(b, "id", r->id);
	rec_str(b, "action", action_name(r->action));
	rec_str(b, "scope", scope_name(r->scope));
	if (r->scope == SCOPE_FOR)
		rec_u64(b, "expires_in", r->expires_ms > now ? (r->expires_ms - now + 999) / 1000 : 0);
	if (r->match & RM_EXE)
		rec_str(b, "exe", r->exe);
	if (r->match & RM_UID)
		rec_u64(b, "uid", r->uid);
	if (r->match & RM_DST) {
		char p[80];

		addr_str(r->family, r->addr, a, sizeof(a));
		snprintf(p, sizeof(p), "%s/%u", a, r->plen);
		rec_str(b, "dst", p);
	}
	if (r->match & RM_PORT)
		rec_u64(b, "port", r->port);
	if (r->match & RM_PROTO)
		rec_str(b, "proto", r->proto == IPPROTO_TCP ? "tcp" :
			r->proto == IPPROTO_UDP ? "udp" : "icmp");
	if (r->match & RM_DIR)
		rec_str(b, "dir", r->dir ? "in" : "out");
	if (r->match & RM_DOMAIN)
		rec_str(b, "domain", r->domain);
	rec_u64(b, "hits", r->hits);
	rec_end(b);
}

static void cmd_rule_list(struct pmd *d, struct buf *out)
{
	struct buf b;
	uint64_t now = now_ms();

	buf_init(&b);
	for (size_t i = 0; i < d->rules.n; i++)
		rule_record(&b, d->rules.v[i], now);
	reply_ok(out, &b, (int)d->rules.n);
	buf_free(&b);
}

static void cmd_rule_add(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	struct rule *r = calloc(1, sizeof(*r));
	const char *scope = proto_arg(req, "scope");
	char err[512];
	struct buf b;

	if (!r) {
		reply_err(out, "internal", "out of memory");
		return;
	}
	if (parse_action(proto_arg(req, "action"), &r->action, true) < 0) {
		reply_err(out, "usage", "rule-add needs action=allow|block|drop|ask");
		goto fail;
	}
	if (!scope || !strcmp(scope, "always")) {
		r->scope = SCOPE_ALWAYS;
	} else if (!strcmp(scope, "once")) {
		r->scope = SCOPE_ONCE;
	} else if (!strcmp(scope, "until-restart")) {
		r->scope = SCOPE_RESTART;
	} else if (!strcmp(scope, "for")) {
		uint64_t secs;
		const char *f = proto_arg(req, "for");

		if (!f || parse_duration(f, &secs) < 0) {
			reply_err(out, "usage", "scope=for needs for=DURATION (e.g. 90, 30s, 15m, 2h, 1d)");
			goto fail;
		}
		r->scope = SCOPE_FOR;
		r->expires_ms = now_ms() + secs * 1000;
	} else {
		reply_err(out, "usage", "scope must be once, for, until-restart or always");
		goto fail;
	}
	for (int i = 0; i < req->nargs; i++) {
		const char *k = req->args[i].key;

		if (!strcmp(k, "action") || !strcmp(k, "scope"))
			continue;
		if (!strcmp(k, "for")) {
			if (r->scope != SCOPE_FOR) {
				reply_err(out, "usage", "for= only goes with scope=for");
				goto fail;
			}
			continue;
		}
		if (!req->args[i].val[0]) {
			reply_err(out, "usage", "empty value for '%s'", k);
			goto fail;
		}
		if (rule_set_match(r, k, req->args[i].val, err, sizeof(err)) < 0) {
			reply_err(out, "usage", "%s", err);
			goto fail;
		}
	}
	r->id = d->next_rule_id++;
	if (ruleset_add(&d->rules, r) < 0) {
		reply_err(out, "busy", "too many rules");
		goto fail;
	}
	if (pmd_rules_changed(d, r->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		/* Not persisted: take it back so memory and file agree. */
		ruleset_del(&d->rules, r->id);
		reply_err(out, "internal", "rule not saved: %s", err);
		return;
	}
	buf_init(&b);
	rule_record(&b, r, now_ms());
	reply_ok(out, &b, 1);
	buf_free(&b);
	return;
fail:
	rule_free(r);
}

static void cmd_rule_del(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *ids = proto_arg(req, "id");
	struct rule *r, *saved;
	uint32_t id;
	char err[512];

	if (!ids || parse_u32(ids, UINT32_MAX, &id) < 0 || req->nargs != 1) {
		reply_err(out, "usage", "rule-del needs id=RULE-ID (and nothing else)");
		return;
	}
	r = ruleset_find(&d->rules, id);
	if (!r) {
		reply_err(out, "noent", "no rule %u", id);
		return;
	}
	saved = rule_dup(r);
	ruleset_del(&d->rules, id);
	if (pmd_rules_changed(d, saved && saved->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		if (saved)
			ruleset_add(&d->rules, saved);
		reply_err(out, "internal", "rule kept, file not written: %s", err);
		return;
	}
	rule_free(saved);
	reply_ok(out, NULL, 0);
}

static void cmd_default(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	enum action a, old = d->def;
	bool had = d->rules.have_default;
	enum action olddef = d->rules.def;
	char err[512];

	if (parse_action(proto_arg(req, "action"), &a, true) < 0 || req->nargs != 1) {
		reply_err(out, "usage", "default needs action=allow|block|drop|ask");
		return;
	}
	d->def = a;
	d->rules.have_default = true;
	d->rules.def = a;
	if (pmd_rules_changed(d, true, err, sizeof(err)) < 0) {
		d->def = old;
		d->rules.have_default = had;
		d->rules.def = olddef;
		reply_err(out, "internal", "default unchanged: %s", err);
		return;
	}
	reply_ok(out, NULL, 0);
}

static void cmd_reload(struct pmd *d, struct buf *out)
{
	char err[1024];

	if (pmd_reload(d, err, sizeof(err)) < 0) {
		reply_err(out, "inval", "%s (kept the current rules)", err);
		return;
	}
	reply_ok(out, NULL, 0);
}

struct ctl_cmd {
	const char *name;
	bool changes_state;
	int max_args;
};

static const struct ctl_cmd cmds[] = {
	{ "status", false, 0 },
	{ "list", false, 0 },
	{ "pending", false, 0 },
	{ "rule-list", false, 0 },
	{ "version", false, 0 },
	{ "verdict", true, 3 },
	{ "rule-add", true, PROTO_MAX_ARGS },
	{ "rule-del", true, 1 },
	{ "default", true, 1 },
	{ "reload", true, 0 },
};

void ctl_handle(struct pmd *d, const struct peer *p, char *line, struct buf *out)
{
	const struct ctl_cmd *c = NULL;
	struct proto_req req;
	const char *err;

	if (proto_parse_req(line, &req, &err) < 0) {
		d->st.ctl_errors++;
		reply_err(out, "usage", "%s", err);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, req.cmd))
			c = &cmds[i];
	if (!c && ctl_views_handle(d, p, &req, out))
		return;
	if (!c) {
		d->st.ctl_errors++;
		reply_err(out, "usage", "unknown command '%s'", req.cmd);
		return;
	}
	if (req.nargs > c->max_args) {
		d->st.ctl_errors++;
		reply_err(out, "usage", "too many arguments for '%s'", c->name);
		return;
	}
	if (c->changes_state && !p->admin) {
		reply_err(out, "perm", "permission denied: '%s' needs root or CAP_NET_ADMIN", c->name);
		return;
	}
	if (!strcmp(c->name, "status")) {
		cmd_status(d, out);
	} else if (!strcmp(c->name, "list")) {
		cmd_flows(d, out, false);
	} else if (!strcmp(c->name, "pending")) {
		cmd_flows(d, out, true);
	} else if (!strcmp(c->name, "rule-list")) {
		cmd_rule_list(d, out);
	} else if (!strcmp(c->name, "version")) {
		struct buf b;

		buf_init(&b);
		rec_str(&b, "version", PM_VERSION);
		rec_end(&b);
		reply_ok(out, &b, 1);
		buf_free(&b);
	} else if (!strcmp(c->name, "verdict")) {
		cmd_verdict(d, &req, out);
	} else if (!strcmp(c->name, "rule-add")) {
		cmd_rule_add(d, &req, out);
	} else if (!strcmp(c->name, "rule-del")) {
		cmd_rule_del(d, &req, out);
	} else if (!strcmp(c->name, "default")) {
		cmd_default(d, &req, out);
	} else if (!strcmp(c->name, "reload")) {
		cmd_reload(d, out);
	}
}
