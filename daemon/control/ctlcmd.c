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

/* What the rules may ask of a flow's program, as captured with it. */
static void owner_fields(struct buf *b, const struct owner *o)
{
	struct buf parents;
	size_t n;
	const char *unit = o->cgroup ? cgroup_unit(o->cgroup, &n) : NULL;
	char u[256];

	if (o->have_gid)
		rec_u64(b, "gid", o->gid);
	else
		rec_str(b, "gid", "-");
	rec_u64(b, "cgroup_id", o->cgroup_id);
	rec_str(b, "cgroup", o->cgroup ? o->cgroup : "-");
	snprintf(u, sizeof(u), "%.*s", unit && n < sizeof(u) ? (int)n : 1, unit ? unit : "-");
	rec_str(b, "unit", u);
	rec_str(b, "cmdline", o->cmdline ? o->cmdline : "-");
	buf_init(&parents);
	for (const char *p = o->ancestors; p && *p; p += strlen(p) + 1)
		buf_addf(&parents, "%s%s", parents.len ? " " : "", p);
	rec_str(b, "parents", parents.len && !parents.oom ? parents.p : "-");
	buf_free(&parents);
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
	rec_str(b, "netns", e->ns && e->ns->name[0] ? e->ns->name : "-");
	rec_u64(b, "ct", f->ct_id);
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
	rec_i64(b, "ppid", f->owner.ppid);
	owner_fields(b, &f->owner);
	rec_str(b, "domain", f->domain ? f->domain : "-");
	rec_str(b, "cnames", f->cnames ? f->cnames : "-");
	rec_str(b, "verdict", verdict_str(e));
	rec_u64(b, "mark", e->mark);
	rec_u64(b, "rule", e->rule_id);
	rec_str(b, "answered", e->answered ? action_name(e->answer) : "-");
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
	rec_u64(&b, "quota_full", d->st.quota_full);
	rec_u64(&b, "not_local", d->st.not_local);
	rec_u64(&b, "redecided", d->st.redecided);
	rec_u64(&b, "recovered", d->st.recovered);
	rec_u64(&b, "netns", (uint64_t)d->nns);
	rec_u64(&b, "loop_max_us", d->st.loop_max_us);
	rec_u64(&b, "attrib_ok", d->st.attrib_ok);
	rec_u64(&b, "attrib_fail", d->st.attrib_fail);
	rec_u64(&b, "attrib_avg_ns", n ? d->st.attrib_ns / n : 0);
	rec_u64(&b, "resets", d->st.resets);
	rec_u64(&b, "reset_entries", d->st.reset_entries);
	if (d->be && d->be->stats && d->nns)
		d->be->stats(d, d->ns[0], &b);
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

/* Someone outside the portmaster group sees the flows of their own uid. */
static bool may_see(const struct peer *p, const struct flow_entry *e)
{
	return p->admin || (e->info.owner.have_uid && e->info.owner.uid == p->uid);
}

static void cmd_flows(struct pmd *d, const struct peer *p, struct buf *out, bool pending_only)
{
	struct buf b;
	uint64_t now = now_ms();
	int n = 0;

	buf_init(&b);
	/* oldest first, like a log */
	for (struct flow_entry *e = d->ft.tail; e; e = e->prev) {
		if ((pending_only && e->state != FS_PENDING) || !may_see(p, e))
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

static void rule_record(struct buf *b, const struct ruleset *rs, const struct rule *r, uint64_t now)
{
	rec_u64(b, "id", r->id);
	rec_str(b, "action", action_name(r->action));
	rec_str(b, "scope", scope_name(r->scope));
	if (r->scope == SCOPE_FOR)
		rec_u64(b, "expires_in", r->expires_ms > now ? (r->expires_ms - now + 999) / 1000 : 0);
	for (int i = 0; i < r->ncrit; i++) {
		struct buf v;

		buf_init(&v);
		crit_format(&r->crit[i], &v);
		rec_str(b, crit_name(r->crit[i].kind), v.oom ? "?" : v.p);
		buf_free(&v);
	}
	if (r->note)
		rec_str(b, "note", r->note);
	if (rs) {
		char src[PATH_MAX + 16];

		rule_source(rs, r, src, sizeof(src));
		if (src[0])
			rec_str(b, "file", src);
	}
	rec_u64(b, "hits", r->hits);
	rec_end(b);
}

/* scope=... [for=...] into r; 0, or -1 with the reply written. */
static int parse_scope(const struct proto_req *req, struct rule *r, bool *given, struct buf *out)
{
	const char *scope = proto_arg(req, "scope"), *f = proto_arg(req, "for");

	*given = scope != NULL;
	if (!scope || !strcmp(scope, "always")) {
		r->scope = SCOPE_ALWAYS;
	} else if (!strcmp(scope, "once")) {
		r->scope = SCOPE_ONCE;
	} else if (!strcmp(scope, "until-restart")) {
		r->scope = SCOPE_RESTART;
	} else if (!strcmp(scope, "for")) {
		uint64_t secs;

		if (!f || parse_duration(f, &secs) < 0) {
			reply_err(out, "usage", "scope=for needs for=DURATION (e.g. 90, 30s, 15m, 2h, 1d)");
			return -1;
		}
		r->scope = SCOPE_FOR;
		r->expires_ms = now_ms() + secs * 1000;
	} else {
		reply_err(out, "usage", "scope must be once, for, until-restart or always");
		return -1;
	}
	if (f && r->scope != SCOPE_FOR) {
		reply_err(out, "usage", "for= only goes with scope=for");
		return -1;
	}
	return 0;
}

/* Where a new rule goes: first=yes, before=ID, or the end. */
static int parse_position(struct pmd *d, const struct proto_req *req, size_t *pos,
			  struct buf *out)
{
	const char *first = proto_arg(req, "first"), *before = proto_arg(req, "before");
	const char *last = proto_arg(req, "last");
	uint32_t id;
	long i;

	if (!!first + !!before + !!last > 1) {
		reply_err(out, "usage", "give only one of first=yes, last=yes, before=ID");
		return -1;
	}
	*pos = d->rules.n;
	if ((first && strcmp(first, "yes")) || (last && strcmp(last, "yes"))) {
		reply_err(out, "usage", "first and last take only 'yes'");
		return -1;
	}
	if (first)
		*pos = 0;
	if (before) {
		if (parse_u32(before, UINT32_MAX, &id) < 0) {
			reply_err(out, "usage", "before needs a rule id");
			return -1;
		}
		i = ruleset_index(&d->rules, id);
		if (i < 0) {
			reply_err(out, "noent", "no rule %u to put it before", id);
			return -1;
		}
		*pos = (size_t)i;
	}
	return 0;
}

static bool is_position_key(const char *k)
{
	return !strcmp(k, "first") || !strcmp(k, "before") || !strcmp(k, "last");
}

/*
 * A prompt's answer with a scope becomes a rule made of the flow's own
 * fields named in match (default exe,dst,port,proto,dir).  A peer outside
 * the portmaster group answers only for its own flows, and its rules
 * always name its uid.
 */
static struct rule *rule_from_flow(const struct flow_entry *e, enum action a,
				   const char *match, bool add_uid, char *err, size_t errlen)
{
	char list[128], *save = NULL, *tok;
	struct rule *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->action = a;
	if (xsnprintf(list, sizeof(list), "%s", match ? match : "exe,dst,port,proto,dir") < 0) {
		snprintf(err, errlen, "match list too long");
		goto fail;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = crit_kind_by_name(tok);

		if (k < 0) {
			snprintf(err, errlen, "unknown match field '%s' (%s)", tok, crit_names());
			goto fail;
		}
		if (rule_crit(r, (enum crit_kind)k))
			continue;
		if (k == CRIT_PORT && !e->info.has_ports)
			continue;	/* ICMP: the rest says enough */
		if (rule_add_from_flow(r, (enum crit_kind)k, &e->info) < 0) {
			snprintf(err, errlen, "the flow has no %s to match (leave it out of match=)",
				 tok);
			goto fail;
		}
	}
	if (add_uid && !rule_crit(r, CRIT_UID) && rule_add_from_flow(r, CRIT_UID, &e->info) < 0) {
		snprintf(err, errlen, "the flow has no uid");
		goto fail;
	}
	return r;
fail:
	rule_free(r);
	return NULL;
}

static void cmd_verdict(struct pmd *d, const struct peer *p, const struct proto_req *req,
			struct buf *out)
{
	const char *ids = proto_arg(req, "id"), *act = proto_arg(req, "action");
	struct flow_entry *e;
	struct rule scope_only = { 0 }, *r = NULL;
	char err[512];
	uint32_t rid;
	uint64_t id;
	enum action a;
	bool perm, scoped;
	struct buf b;

	if (!ids || parse_u64(ids, UINT64_MAX, &id) < 0) {
		reply_err(out, "usage", "verdict needs id=FLOW-ID (a number from 'pmctl pending')");
		return;
	}
	if (parse_action(act, &a, false) < 0) {
		reply_err(out, "usage", "verdict needs action=accept|allow|block|drop");
		return;
	}
	if (!parse_bool(proto_arg(req, "permanent"), &perm)) {
		reply_err(out, "usage", "permanent must be yes or no");
		return;
	}
	for (int i = 0; i < req->nargs; i++) {
		const char *k = req->args[i].key;

		if (strcmp(k, "id") && strcmp(k, "action") && strcmp(k, "permanent") &&
		    strcmp(k, "scope") && strcmp(k, "for") && strcmp(k, "match")) {
			reply_err(out, "usage", "verdict: unknown argument '%s'", k);
			return;
		}
	}
	if (parse_scope(req, &scope_only, &scoped, out) < 0)
		return;
	if (!scoped && proto_arg(req, "match")) {
		reply_err(out, "usage", "match= needs a scope: once, for, until-restart or always");
		return;
	}
	e = flowtab_find_id(&d->ft, id);
	if (!e || e->state != FS_PENDING || !may_see(p, e)) {
		reply_err(out, "noent", "no pending flow %llu (answered, timed out, or never asked)",
			  (unsigned long long)id);
		return;
	}
	if (scoped) {
		r = rule_from_flow(e, a, proto_arg(req, "match"), !p->admin, err, sizeof(err));
		if (!r) {
			reply_err(out, "usage", "%s", err);
			return;
		}
		r->scope = scope_only.scope;
		r->expires_ms = scope_only.expires_ms;
		r->id = d->next_rule_id++;
		/* First: the latest and most specific word of the user, ahead
		 * of the broader rule that asked. */
		if (ruleset_insert(&d->rules, r, 0) < 0) {
			rule_free(r);
			reply_err(out, "busy", "too many rules");
			return;
		}
	}
	/* This connection: the answer, kept on it. */
	engine_verdict(d, e, a);
	pmd_flush(d);
	if (!r) {
		reply_ok(out, NULL, 0);
		return;
	}
	/* The rule: pending flows it matches are decided by it now (a once
	 * rule may be used up by one of them: its record is made first). */
	rid = r->id;
	buf_init(&b);
	rule_record(&b, &d->rules, r, now_ms());
	if (pmd_rules_changed(d, r->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		ruleset_del(&d->rules, rid);
		reply_err(out, "internal", "this connection is answered, but the rule was not saved: %s",
			  err);
		buf_free(&b);
		return;
	}
	reply_ok(out, &b, 1);
	buf_free(&b);
}

static void cmd_rule_list(struct pmd *d, struct buf *out)
{
	struct buf b;
	uint64_t now = now_ms();

	buf_init(&b);
	for (size_t i = 0; i < d->rules.n; i++)
		rule_record(&b, &d->rules, d->rules.v[i], now);
	reply_ok(out, &b, (int)d->rules.n);
	buf_free(&b);
}

static void cmd_rule_add(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	struct rule *r = calloc(1, sizeof(*r));
	char err[512];
	struct buf b;
	uint32_t id;
	size_t pos;
	bool given;

	if (!r) {
		reply_err(out, "internal", "out of memory");
		return;
	}
	if (parse_action(proto_arg(req, "action"), &r->action, true) < 0) {
		reply_err(out, "usage", "rule-add needs action=allow|block|drop|ask|tunnel");
		goto fail;
	}
	if (parse_scope(req, r, &given, out) < 0 || parse_position(d, req, &pos, out) < 0)
		goto fail;
	for (int i = 0; i < req->nargs; i++) {
		const char *k = req->args[i].key;

		if (!strcmp(k, "action") || !strcmp(k, "scope") || !strcmp(k, "for") ||
		    is_position_key(k))
			continue;
		if (!req->args[i].val[0]) {
			reply_err(out, "usage", "empty value for '%s'", k);
			goto fail;
		}
		if (rule_set_match(r, k, req->args[i].val, err, sizeof(err)) < 0) {
			reply_err(out, "usage", "%s", err);
			goto fail;
		}
	}
	/* an always rule lives in rules.conf: ahead of the rules.d files */
	if (r->scope == SCOPE_ALWAYS && pos > ruleset_owned_end(&d->rules))
		pos = ruleset_owned_end(&d->rules);
	r->id = d->next_rule_id++;
	if (ruleset_insert(&d->rules, r, pos) < 0) {
		reply_err(out, "busy", "too many rules");
		goto fail;
	}
	/* The reply now: a once rule may be used up by a waiting flow, and
	 * freed, before this returns. */
	id = r->id;
	buf_init(&b);
	rule_record(&b, &d->rules, r, now_ms());
	if (pmd_rules_changed(d, r->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		/* Not persisted: take it back so memory and file agree. */
		ruleset_del(&d->rules, id);
		reply_err(out, "internal", "rule not saved: %s", err);
		buf_free(&b);
		return;
	}
	reply_ok(out, &b, 1);
	buf_free(&b);
	return;
fail:
	rule_free(r);
}

/* A rule of a rules.d file is the admin's: pmctl never rewrites those. */
static bool admin_file_rule(struct pmd *d, uint32_t id, struct buf *out)
{
	const struct rule *r = ruleset_find(&d->rules, id);
	char src[PATH_MAX + 16];

	if (!r || r->scope != SCOPE_ALWAYS || r->file == 0)
		return false;
	rule_source(&d->rules, r, src, sizeof(src));
	reply_err(out, "perm", "rule %u comes from %s, which pmctl does not rewrite: "
		  "edit that file and run 'pmctl reload'", id, src);
	return true;
}

static void cmd_rule_del(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *ids = proto_arg(req, "id");
	struct rule *r;
	uint32_t id;
	size_t pos;
	char err[512];

	if (!ids || parse_u32(ids, UINT32_MAX, &id) < 0 || req->nargs != 1) {
		reply_err(out, "usage", "rule-del needs id=RULE-ID (and nothing else)");
		return;
	}
	if (admin_file_rule(d, id, out))
		return;
	r = ruleset_take(&d->rules, id, &pos);
	if (!r) {
		reply_err(out, "noent", "no rule %u", id);
		return;
	}
	/* its comments stay in the file, above the next rule */
	ruleset_keep_comments(&d->rules, r, pos);
	if (pmd_rules_changed(d, r->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		/* back where it was: the order of rules is their meaning */
		ruleset_insert(&d->rules, r, pos);
		reply_err(out, "internal", "rule kept, file not written: %s", err);
		return;
	}
	rule_free(r);
	reply_ok(out, NULL, 0);
}

static void cmd_rule_move(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *ids = proto_arg(req, "id");
	struct rule *r;
	uint32_t id;
	size_t from, to;
	char err[512];

	if (!ids || parse_u32(ids, UINT32_MAX, &id) < 0) {
		reply_err(out, "usage", "rule-move needs id=RULE-ID and first=yes, last=yes or before=ID");
		return;
	}
	for (int i = 0; i < req->nargs; i++) {
		if (strcmp(req->args[i].key, "id") && !is_position_key(req->args[i].key)) {
			reply_err(out, "usage", "rule-move: unknown argument '%s'", req->args[i].key);
			return;
		}
	}
	if (req->nargs != 2) {
		reply_err(out, "usage", "rule-move needs one of first=yes, last=yes, before=ID");
		return;
	}
	if (ruleset_index(&d->rules, id) < 0) {
		reply_err(out, "noent", "no rule %u", id);
		return;
	}
	if (admin_file_rule(d, id, out))
		return;
	if (proto_arg(req, "before") && !strcmp(proto_arg(req, "before"), ids)) {
		reply_err(out, "usage", "a rule cannot go before itself");
		return;
	}
	r = ruleset_take(&d->rules, id, &from);
	if (parse_position(d, req, &to, out) < 0) {
		ruleset_insert(&d->rules, r, from);
		return;
	}
	if (r->scope == SCOPE_ALWAYS && to > ruleset_owned_end(&d->rules))
		to = ruleset_owned_end(&d->rules);
	ruleset_insert(&d->rules, r, to);
	if (pmd_rules_changed(d, r->scope == SCOPE_ALWAYS, err, sizeof(err)) < 0) {
		ruleset_take(&d->rules, id, NULL);
		ruleset_insert(&d->rules, r, from);
		reply_err(out, "internal", "rule not moved, file not written: %s", err);
		return;
	}
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
	if ((a == ACT_BLOCK || a == ACT_DROP) && !ruleset_preset_enabled(&d->rules, "system")) {
		struct buf b;

		/* said, not refused: the admin may have rules of their own */
		buf_init(&b);
		rec_str(&b, "warning", "without the system preset, 'default block' also cuts "
			"DHCP, NTP, DNS and the package manager; enable it with "
			"'pmctl preset enable system'");
		rec_end(&b);
		reply_ok(out, &b, 1);
		buf_free(&b);
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

/* Who may: anyone, a member of group portmaster (or root), or anyone for
 * the flows of their own uid (the command checks that itself). */
enum who { ANYONE, MEMBER, OWN_FLOWS };

struct ctl_cmd {
	const char *name;
	enum who who;
	int max_args;
};

static const struct ctl_cmd cmds[] = {
	{ "status", ANYONE, 0 },
	{ "version", ANYONE, 0 },
	{ "list", OWN_FLOWS, 0 },
	{ "pending", OWN_FLOWS, 0 },
	{ "verdict", OWN_FLOWS, 6 },
	{ "rule-list", MEMBER, 0 },
	{ "rule-add", MEMBER, PROTO_MAX_ARGS },
	{ "rule-del", MEMBER, 1 },
	{ "rule-move", MEMBER, 2 },
	{ "default", MEMBER, 1 },
	{ "reload", MEMBER, 0 },
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
	if (!c && ctl_rules_handle(d, p, &req, out))
		return;
	if (!c && !p->admin && (!strcmp(req.cmd, "history") || !strcmp(req.cmd, "monitor") ||
				!strcmp(req.cmd, "ui-login"))) {
		/* everyone's traffic: for the group, not for anyone who can
		 * connect (ui-redeem checks its own caller) */
		reply_err(out, "perm", "permission denied: '%s' needs root or group portmaster",
			  req.cmd);
		return;
	}
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
	if (c->who == MEMBER && !p->admin) {
		reply_err(out, "perm", "permission denied: '%s' needs root or group portmaster",
			  c->name);
		return;
	}
	if (!strcmp(c->name, "status")) {
		cmd_status(d, out);
	} else if (!strcmp(c->name, "list")) {
		cmd_flows(d, p, out, false);
	} else if (!strcmp(c->name, "pending")) {
		cmd_flows(d, p, out, true);
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
		cmd_verdict(d, p, &req, out);
	} else if (!strcmp(c->name, "rule-add")) {
		cmd_rule_add(d, &req, out);
	} else if (!strcmp(c->name, "rule-del")) {
		cmd_rule_del(d, &req, out);
	} else if (!strcmp(c->name, "rule-move")) {
		cmd_rule_move(d, &req, out);
	} else if (!strcmp(c->name, "default")) {
		cmd_default(d, &req, out);
	} else if (!strcmp(c->name, "reload")) {
		cmd_reload(d, out);
	}
}
