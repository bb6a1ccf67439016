/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the rules may ask of a flow's process beyond its executable: its
 * parent chain, cgroup (v2 id and path), command line and group, read
 * from /proc when the flow arrives (the process may be gone when a rule
 * change decides the flow again).  Where the kernel module captured the
 * parent and the cgroup id at the packet's moment, those win: the chain
 * starts from the captured parent, and the path is the captured id's,
 * found by walking the cgroup v2 hierarchy wherever it is mounted.
 */
#ifndef PM_PROCINFO_H
#define PM_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include "decide/flow.h"

struct procinfo;

/* Parents followed at most (a chain longer than this is cut). */
#define PROCINFO_MAX_ANCESTORS 16

struct procinfo *procinfo_new(const char *proc_root);
void procinfo_free(struct procinfo *p);
/* Fills what o lacks of ppid, gid, cgroup_id, cgroup, cmdline and
 * ancestors, for o->pid (> 0). */
void procinfo_fill(struct procinfo *p, struct owner *o);

/* Where cgroup v2 is mounted (the first cgroup2 line of a mountinfo
 * file); -1 when it is not. */
int cgroup2_mount(const char *mountinfo, char *out, size_t len);
/* The path (from the hierarchy's root, "/system.slice/x.service") of the
 * cgroup with this id; a bounded cache before a bounded walk.  -1: none. */
int procinfo_cgroup_path(struct procinfo *p, uint64_t id, char *out, size_t len);

#endif
