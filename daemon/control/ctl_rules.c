// SPDX-License-Identifier: GPL-2.0
/*
 * The commands on the rules as files: presets (rules.d files that apply
 * once enabled), export of the rules in effect, and import of a rules
 * file, which pmctl sends in pieces of whole lines: every piece is parsed
 * as it comes, the first error (FILE:LINE) drops the import, and only the
 * last piece applies it, all at once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include "control/ctlcmd.h"
#include "daemon.h"
#include "decide/apps.h"
#include "common/log.h"
#include "common/util.h"

#define reply_err ctl_reply_err
/* An import's file, at most (as a rules file). */
#define IMPORT_MAX (16u << 20)

static const char *u64_str(uint64_t v)
{
	static char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	return s;
}

static void reply_ok(struct buf *out, struct buf *body, int n)
{
	proto_ok(out, n);
	if (body && body->len)
		buf_add(out, body->p, body->len);
}

static bool known_preset(const struct ruleset *rs, const char *name)
{
	for (int i = 0; i < rs->npresets; i++)
		if (!strcmp(rs->presets[i], name))
			return true;
	return false;
}

static void cmd_preset(struct pmd *d, const struct proto_req *req, struct buf *out)
{
	const char *action = proto_arg(req, "action"), *name = proto_arg(req, "name");
	char err[1024];
	bool on;

	if (!action || !strcmp(action, "list")) {
		struct buf b;
		int n = 0;

		buf_init(&b);
		for (int i = 0; i < d->rules.npresets; i++, n++) {
			rec_str(&b, "name", d->rules.presets[i]);
			rec_str(&b, "enabled", ruleset_preset_by_config(&d->rules, d->rules.presets[i]) ?
				"yes (portmasterd.conf)" :
				ruleset_preset_enabled(&d->rules, d->rules.presets[i]) ? "yes" : "no");
			rec_end(&b);
		}
		/* enabled in rules.conf, but its file is gone */
		for (int i = 0; i < d->rules.nenabled; i++) {
			if (known_preset(&d->rules, d->rules.enabled[i]))
				continue;
			rec_str(&b, "name", d->rules.enabled[i]);
			rec_str(&b, "enabled", "yes (no file in rules.d)");
			rec_end(&b);
			n++;
		}
		reply_ok(out, &b, n);
		buf_free(&b);
		return;
	}
	if (strcmp(action, "enable") && strcmp(action, "disable")) {
		reply_err(out, "usage", "preset needs action=list|enable|disable");
		return;
	}
	on = !strcmp(action, "enable");
	if (!name) {
		reply_err(out, "usage", "preset %s needs name=NAME", action);
		return;
	}
	if (on && !known_preset(&d->rules, name)) {
		reply_err(out, "noent", "no preset '%s' in %s (a file there whose first line is "
			  "'preset %s')", name, d->rules_dir, name);
		return;
	}
	if (!on && ruleset_preset_by_config(&d->rules, name)) {
		reply_err(out, "inval", "preset '%s' is on by portmasterd.conf (presets = ...): "
			  "turn it off there", name);
		return;
	}
	if (ruleset_preset_set(&d->rules, name, on) < 0) {
		reply_err(out, "usage", "bad preset name '%s'", name);
		return;
	}
	/* rules.conf says so, then every file is read again: the preset's
	 * rules come and go with it */
	if (!d->no_persist && ruleset_save(&d->rules, d->rules_path, err, sizeof(err)) < 0) {
		ruleset_preset_set(&d->rules, name, !on);
		reply_err(out, "internal", "preset unchanged: %s", err);
		return;
	}
	if (!d->no_persist && pmd_reload(d, err, sizeof(err)) < 0) {
		reply_err(out, "inval", "preset %s in rules.conf, but the rules were not read "
			  "again: %s", on ? "enabled" : "disabled", err);
		return;
	}
	reply_ok(out, NULL, 0);
}

static void cmd_export(struct pmd *d, struct buf *out)
{
	char *text = ruleset_text(&d->rules, false), *save = NULL;
	struct buf b;
	int n = 0;

	if (!text) {
		reply_err(out, "internal", "out of memory");
		return;
	}
	buf_init(&b);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		rec_str(&b, "line", l);
		rec_end(&b);
	}
	free(text);
	if (b.oom) {
		buf_free(&b);
		reply_err(out, "internal", "out of memory");
		return;
	}
	reply_ok(out, &b, n);
	buf_free(&b);
}

/* One import at a time, by one client. */
static struct {
	bool active;
	uint64_t token;
	unsigned int next_line;
	size_t bytes;
	uint64_t started_ms;
	struct ruleset rs;
	uint32_t ids;
} imp;

static void import_drop(void)
{
	if (imp.active)
		ruleset_clear(&imp.rs);
	imp.active = false;
}

static bool exists(const struct ruleset *rs, const struct rule *r)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i]->scope == SCOPE_ALWAYS && rule_same(rs->v[i], r))
			return true;
	return false;
}

/* All of it, or nothing: the rules of rules.conf gain the imported ones
 * (those not there already), at their end. */
static void import_commit(struct pmd *d, struct buf *out)
{
	struct ruleset *rs = &d->rules;
	uint32_t first_id = d->next_rule_id;
	bool had = rs->have_default, presets = false;
	enum action olddef = rs->def, oldd = d->def;
	char *old_enabled[RULESET_MAX_PRESETS];
	int old_n = rs->nenabled, added = 0, skipped = 0;
	char err[1024];
	struct buf b;

	for (int i = 0; i < old_n; i++)
		old_enabled[i] = strdup(rs->enabled[i]);
	for (size_t i = 0; i < imp.rs.n; i++) {
		struct rule *r = imp.rs.v[i];
		struct rule *c;

		if (exists(rs, r)) {
			skipped++;
			continue;
		}
		c = rule_dup(r);
		if (!c || ruleset_insert(rs, c, ruleset_owned_end(rs)) < 0) {
			rule_free(c);
			reply_err(out, "busy", "too many rules; nothing imported");
			goto undo;
		}
		c->id = d->next_rule_id++;
		c->file = 0;
		c->line = 0;
		c->scope = SCOPE_ALWAYS;
		added++;
	}
	if (imp.rs.have_default) {
		rs->have_default = true;
		rs->def = imp.rs.def;
		d->def = imp.rs.def;
	}
	for (int i = 0; i < imp.rs.nenabled; i++) {
		presets |= !ruleset_preset_enabled(rs, imp.rs.enabled[i]);
		if (ruleset_preset_set(rs, imp.rs.enabled[i], true) < 0) {
			reply_err(out, "busy", "too many presets; nothing imported");
			goto undo;
		}
	}
	if (pmd_rules_changed(d, true, err, sizeof(err)) < 0) {
		reply_err(out, "internal", "nothing imported: %s", err);
		goto undo;
	}
	if (presets && !d->no_persist && pmd_reload(d, err, sizeof(err)) < 0)
		pm_warn("import: rules.d not read again: %s", err);
	buf_init(&b);
	rec_u64(&b, "added", (uint64_t)added);
	rec_u64(&b, "skipped", (uint64_t)skipped);
	rec_end(&b);
	reply_ok(out, &b, 1);
	buf_free(&b);
	goto out;
undo:
	for (size_t i = 0; i < rs->n;) {
		if (rs->v[i]->id >= first_id && rs->v[i]->scope == SCOPE_ALWAYS && !rs->v[i]->line)
			ruleset_del(rs, rs->v[i]->id);
		else
			i++;
	}
	rs->have_default = had;
	rs->def = olddef;
	d->def = oldd;
	while (rs->nenabled)
		free(rs->enabled[--rs->nenabled]);
	for (int i = 0; i < old_n; i++)
		if (old_enabled[i])
			ruleset_preset_set(rs, old_enabled[i], true);
out:
	for (int i = 0; i < old_n; i++)
		free(old_enabled[i]);
	import_drop();
}

static void cmd_import(struct pmd *d, const struct peer *p, const struct proto_req *req,
		       struct buf *out)
{
	const char *name = proto_arg(req, "name"), *text = proto_arg(req, "text");
	const char *lines = proto_arg(req, "line"), *last = proto_arg(req, "last");
	const char *tok = proto_arg(req, "token");
	uint32_t line;
	uint64_t token = 0;
	char err[1024];
	struct buf b;

	if (!name || !text || !lines || parse_u32(lines, UINT32_MAX, &line) < 0 || !line ||
	    (last && strcmp(last, "yes"))) {
		reply_err(out, "usage", "rule-import needs name=FILE line=N text=LINES [last=yes]");
		return;
	}
	if (tok && parse_u64(tok, UINT64_MAX, &token) < 0) {
		reply_err(out, "usage", "rule-import: bad token");
		return;
	}
	if (line == 1) {
		/* whoever starts one takes over: a client that died
		 * half-way blocks nobody */
		import_drop();
		imp = (typeof(imp)){ .active = true, .next_line = 1, .started_ms = now_ms(),
				     .ids = 1 };
		if (getrandom(&imp.token, sizeof(imp.token), 0) != sizeof(imp.token))
			imp.token = now_ms() ^ ((uint64_t)p->pid << 32);
		ruleset_init(&imp.rs);
	} else if (!imp.active || imp.token != token || imp.next_line != line ||
		   now_ms() - imp.started_ms > 60000) {
		reply_err(out, "inval", "rule-import: no import going on that goes on at line %u "
			  "(pieces come in order, from line 1, within a minute)", line);
		return;
	}
	imp.bytes += strlen(text);
	if (imp.bytes > IMPORT_MAX) {
		import_drop();
		reply_err(out, "inval", "%s: larger than 16 MiB; nothing imported", name);
		return;
	}
	if (ruleset_load_chunk(&imp.rs, name, text, strlen(text), line, &imp.ids, err,
			       sizeof(err)) < 0) {
		import_drop();
		reply_err(out, "inval", "%s; nothing imported", err);
		return;
	}
	/* a piece is whole lines: the next starts after its last newline */
	for (const char *c = text; *c; c++)
		imp.next_line += *c == '\n';
	if (text[0] && text[strlen(text) - 1] != '\n')
		imp.next_line++;
	if (last) {
		import_commit(d, out);
		return;
	}
	buf_init(&b);
	rec_str(&b, "token", u64_str(imp.token));
	rec_end(&b);
	reply_ok(out, &b, 1);
	buf_free(&b);
}

bool ctl_rules_handle(struct pmd *d, const struct peer *p, const struct proto_req *req,
		      struct buf *out)
{
	static const char *const cmds[] = { "preset", "rule-export", "rule-import", "apps" };
	bool ours = false;

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		ours |= !strcmp(req->cmd, cmds[i]);
	if (!ours)
		return false;
	if (!p->admin) {
		reply_err(out, "perm", "permission denied: '%s' needs root or group portmaster",
			  req->cmd);
		return true;
	}
	if (!strcmp(req->cmd, "preset"))
		cmd_preset(d, req, out);
	else if (!strcmp(req->cmd, "rule-export"))
		cmd_export(d, out);
	else if (!strcmp(req->cmd, "rule-import"))
		cmd_import(d, p, req, out);
	else
		apps_reply(d, req, out);
	return true;
}
