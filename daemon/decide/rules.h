/* SPDX-License-Identifier: GPL-2.0 */
/* Rules: a list of criteria and an action, first match wins. */
#ifndef PM_RULES_H
#define PM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decide/criteria.h"
#include "decide/flow.h"

/* tunnel: allowed, through the tunnel entry (1717) */
enum action { ACT_ALLOW, ACT_BLOCK, ACT_DROP, ACT_ASK, ACT_TUNNEL, ACT__COUNT };
enum scope { SCOPE_ONCE, SCOPE_FOR, SCOPE_RESTART, SCOPE_ALWAYS };

/* One of each kind at most: every kind asks one thing of a flow. */
#define RULE_MAX_CRIT CRIT__COUNT

struct rule {
	uint32_t id;
	enum action action;
	enum scope scope;
	uint64_t expires_ms;	/* SCOPE_FOR: monotonic deadline */
	int ncrit;
	struct criterion crit[RULE_MAX_CRIT];	/* sorted by kind */
	uint64_t hits;
	char *note;		/* note=TEXT: why it is there; malloc'd, NULL: none */
	/* Where an always rule was read: the ruleset's files[file], line;
	 * file 0 is rules.conf, the file pmctl writes. */
	uint16_t file;
	uint32_t line;
	/* The comment and blank lines above it in rules.conf: written back
	 * with it, so that the admin's comments survive pmctl. */
	char *pre;
};

#define RULESET_MAX_FILES 256
#define RULESET_MAX_PRESETS 16

struct rindex;

struct ruleset {
	struct rule **v;
	size_t n, cap;
	bool have_default;	/* rules.conf had a "default" line */
	enum action def;
	/* rules.conf first, then rules.d/NAME.conf in lexical order */
	char *files[RULESET_MAX_FILES];
	int nfiles;
	char *def_pre, *tail;	/* rules.conf's comments before "default", at its end */
	/* Presets: a rules.d file whose first line is "preset NAME" applies
	 * only once rules.conf says "enable NAME" (pmctl preset enable). */
	char *enabled[RULESET_MAX_PRESETS];
	int nenabled;
	/* ... or portmasterd.conf's "presets" (not written to rules.conf) */
	char *cfg_enabled[RULESET_MAX_PRESETS];
	int ncfg_enabled;
	char *presets[RULESET_MAX_PRESETS];	/* those found in rules.d */
	int npresets;
	/* The index for matching (rindex.c), rebuilt after any change. */
	struct rindex *idx;
	bool idx_stale;
};

const char *action_name(enum action a);
int action_parse(const char *s, enum action *a);
const char *scope_name(enum scope s);

/* Adds one KEY=VALUE criterion to a rule; the message goes to err. */
int rule_set_match(struct rule *r, const char *key, const char *val, char *err, size_t errlen);
/* Adds the flow's own value of kind k; -1 when the flow lacks it. */
int rule_add_from_flow(struct rule *r, enum crit_kind k, const struct flow_info *f);
/* The rule's criterion of kind k, or NULL. */
const struct criterion *rule_crit(const struct rule *r, enum crit_kind k);
void rule_free(struct rule *r);
/* Frees what a struct rule on the stack owns. */
void rule_release(struct rule *r);
struct rule *rule_dup(const struct rule *r);
bool rule_match(const struct rule *r, const struct flow_info *f);
/* Does matching this rule need the flow's owner (exe or uid)? */
bool rule_needs_owner(const struct rule *r);
/* "allow exe=/usr/bin/curl port=443" (values percent-encoded). */
char *rule_format(const struct rule *r);
/* Same action and criteria: what a rules file line says. */
bool rule_same(const struct rule *a, const struct rule *b);

/*
 * Parses one line of a rules file.  Returns 0 for a rule (filled into r),
 * 1 for a "default ACTION" line (into *def), 2 for a blank or comment line,
 * -1 for an error described in err.
 */
int rule_parse_line(const char *line, struct rule *r, enum action *def,
		    char *err, size_t errlen);

void ruleset_init(struct ruleset *rs);
void ruleset_clear(struct ruleset *rs);
int ruleset_add(struct ruleset *rs, struct rule *r);	/* takes r, at the end */
/* Takes r, at position pos (0: first; n or more: last). */
int ruleset_insert(struct ruleset *rs, struct rule *r, size_t pos);
int ruleset_del(struct ruleset *rs, uint32_t id);
/* Unlinks the rule with this id and returns it (the caller owns it). */
struct rule *ruleset_take(struct ruleset *rs, uint32_t id, size_t *pos);
struct rule *ruleset_find(struct ruleset *rs, uint32_t id);
/* Position of a rule, or -1. */
long ruleset_index(const struct ruleset *rs, uint32_t id);
/* First live rule that matches; expired rules are skipped. */
struct rule *ruleset_match(struct ruleset *rs, const struct flow_info *f, uint64_t now);
/* The same, once rules only for a new flow (one not decided before). */
struct rule *ruleset_first(struct ruleset *rs, const struct flow_info *f, uint64_t now,
			   bool new_flow);
/*
 * The module remembers a verdict for flows with the same executable, uid,
 * direction, protocol, peer address and service port.  A rule that asks
 * anything else (command line, parent, unit, cgroup, group, local address,
 * ICMP type, domain) may decide two such flows differently: while one
 * exists, no verdict may be remembered.
 */
bool rule_beyond_remember_key(const struct rule *r);
bool ruleset_beyond_remember_key(struct ruleset *rs);
/* The rules changed in place (order, contents): the index is rebuilt. */
void ruleset_touch(struct ruleset *rs);
/* Where the rules of rules.conf end: an always rule pmctl adds goes at
 * most here (the rules.d files come after it). */
size_t ruleset_owned_end(const struct ruleset *rs);
/* A rule about to be deleted hands its comments on to the next rule of
 * rules.conf (or the end of the file). */
void ruleset_keep_comments(struct ruleset *rs, struct rule *r, size_t pos);
/* "rules.d/10-system.conf:12" for a rule read from a file; "" for one
 * that lives in memory. */
void rule_source(const struct ruleset *rs, const struct rule *r, char *out, size_t len);
bool ruleset_preset_enabled(const struct ruleset *rs, const char *name);
/* Turns a preset on or off in rules.conf's "enable" lines (saved by
 * ruleset_save; the rules.d file is read again by a reload). */
int ruleset_preset_set(struct ruleset *rs, const char *name, bool on);
bool ruleset_needs_owner(const struct ruleset *rs);
/* Removes the expired SCOPE_FOR rules; returns how many. */
int ruleset_expire(struct ruleset *rs, uint64_t now);

/*
 * Loads a rules file into rs (scope always).  A missing file is an empty
 * ruleset.  On error returns -1 with "FILE:LINE: message" in err and rs
 * left empty.
 */
int ruleset_load(struct ruleset *rs, const char *path, uint32_t *next_id,
		 char *err, size_t errlen);
int ruleset_load_mem(struct ruleset *rs, const char *name, const char *text,
		     size_t len, uint32_t *next_id, char *err, size_t errlen);
/* Appends the lines of one piece of a file (its first line numbered
 * first_line) to rs as rules.conf's: pmctl rule import sends a file in
 * pieces.  On error -1, "NAME:LINE: message", and rs as it was before
 * save for what this piece added (the caller drops rs). */
int ruleset_load_chunk(struct ruleset *rs, const char *name, const char *text, size_t len,
		       unsigned int first_line, uint32_t *next_id, char *err, size_t errlen);
/*
 * Loads rules.conf (conf) and then DIR/NAME.conf in lexical order into rs;
 * the files of a preset that rules.conf does not enable are checked but
 * not applied.  On any error: -1, "FILE:LINE: message", rs empty.
 */
int ruleset_load_all(struct ruleset *rs, const char *conf, const char *dir, uint32_t *next_id,
		     char *err, size_t errlen);
/* The same, with the presets portmasterd.conf enables (NULL-terminated;
 * NULL: none). */
int ruleset_load_dirs(struct ruleset *rs, const char *conf, const char *dir,
		      const char *const *presets, uint32_t *next_id, char *err, size_t errlen);
/* Is a preset on by portmasterd.conf (which pmctl cannot turn off)? */
bool ruleset_preset_by_config(const struct ruleset *rs, const char *name);
/* The rules file text: owned_only, rules.conf as ruleset_save writes it;
 * else every always rule of every file, in order (pmctl rule export).
 * malloc'd; NULL: out of memory. */
char *ruleset_text(const struct ruleset *rs, bool owned_only);
/* Writes rules.conf atomically: its own always rules (never those of
 * rules.d), the enabled presets, the default when set, and the comments
 * it was read with. */
int ruleset_save(const struct ruleset *rs, const char *path, char *err, size_t errlen);

/*
 * SIGHUP: the rules of a freshly read file (fresh, scope always) replace
 * the always rules of cur.  A line the file still has keeps its rule's id,
 * hits and place; rules that live only in memory keep theirs relative to
 * the rules around them; the file decides the order of its own rules.
 * New lines get ids from *next_id.
 * Both are consumed; the result is in cur.  -1 on allocation failure (cur
 * unchanged, fresh freed).
 */
int ruleset_merge_reload(struct ruleset *cur, struct ruleset *fresh, uint32_t *next_id);

#endif
