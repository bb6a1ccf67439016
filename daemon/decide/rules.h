/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_RULES_H
#define PM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decide/flow.h"

enum action { ACT_ALLOW, ACT_BLOCK, ACT_DROP, ACT_ASK, ACT__COUNT };
enum scope { SCOPE_ONCE, SCOPE_FOR, SCOPE_RESTART, SCOPE_ALWAYS };

enum rule_match {
	RM_EXE = 1 << 0,
	RM_UID = 1 << 1,
	RM_DST = 1 << 2,
	RM_PORT = 1 << 3,
	RM_PROTO = 1 << 4,
	RM_DIR = 1 << 5,
	RM_DOMAIN = 1 << 6,
};

struct rule {
	uint32_t id;
	enum action action;
	enum scope scope;
	uint64_t expires_ms;	/* SCOPE_FOR: monotonic deadline */
	uint32_t match;		/* enum rule_match bits */
	char *exe;
	uint32_t uid;
	uint8_t family, plen;
	uint8_t addr[16];
	uint16_t port;
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (any ICMP) */
	uint8_t dir;
	char *domain;		/* a pattern, see dns/names.h */
	uint64_t hits;
};

struct ruleset {
	struct rule **v;
	size_t n, cap;
	bool have_default;	/* the file had a "default" line */
	enum action def;
};

const char *action_name(enum action a);
int action_parse(const char *s, enum action *a);
const char *scope_name(enum scope s);

/* Sets one KEY=VALUE match of a rule; the message goes to err. */
int rule_set_match(struct rule *r, const char *key, const char *val, char *err, size_t errlen);
void rule_free(struct rule *r);
struct rule *rule_dup(const struct rule *r);
bool rule_match(const struct rule *r, const struct flow_info *f);
/* Does matching this rule need the flow's owner (exe or uid)? */
bool rule_needs_owner(const struct rule *r);
/* "allow exe=/usr/bin/curl port=443" (values percent-encoded). */
char *rule_format(const struct rule *r);

/*
 * Parses one line of a rules file.  Returns 0 for a rule (filled into r),
 * 1 for a "default ACTION" line (into *def), 2 for a blank or comment line,
 * -1 for an error described in err.
 */
int rule_parse_line(const char *line, struct rule *r, enum action *def,
		    char *err, size_t errlen);

void ruleset_init(struct ruleset *rs);
void ruleset_clear(struct ruleset *rs);
int ruleset_add(struct ruleset *rs, struct rule *r);	/* takes r */
int ruleset_del(struct ruleset *rs, uint32_t id);
struct rule *ruleset_find(struct ruleset *rs, uint32_t id);
/* First live rule that matches; expired rules are skipped. */
struct rule *ruleset_match(struct ruleset *rs, const struct flow_info *f, uint64_t now);
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
/* Writes the always rules (and the default when set) atomically. */
int ruleset_save(const struct ruleset *rs, const char *path, char *err, size_t errlen);

#endif
