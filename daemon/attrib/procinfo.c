// SPDX-License-Identifier: GPL-2.0
/* A flow's process beyond its executable (see procinfo.h). */
#include <dirent.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attrib/attrib.h"
#include "attrib/procinfo.h"
#include "common/util.h"

/* Read again after this long. */
#define INFO_MS 1000
#define INFO_SLOTS 256
#define PATH_SLOTS 256
/* A walk of the cgroup tree looks at this many directories at most. */
#define WALK_MAX 20000
#define CMDLINE_MAX 4096
#define ANCESTORS_MAX 8192

/*
 * Reading them costs more than the rest of an attribution together (four
 * files and a walk up the process tree); a program opening many
 * connections would pay it for each.  Kept per pid for a second: a
 * process seldom changes parent or cgroup, and never within the second
 * it starts talking.
 */
struct info {
	pid_t pid;
	int32_t ppid;
	bool have_gid;
	uint32_t gid;
	uint64_t cgroup_id;
	char *cgroup, *cmdline, *ancestors;	/* malloc'd; NULL: unknown */
	size_t alen;
	bool cmdline_cut, ancestors_cut;
	uint64_t at_ms;
};

struct path_slot {
	uint64_t id;
	char *path;
};

struct procinfo {
	char proc[64];
	char root[PATH_MAX];	/* the cgroup v2 mount; "": none */
	struct info info[INFO_SLOTS];
	struct path_slot paths[PATH_SLOTS];
};

int cgroup2_mount(const char *mountinfo, char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen(mountinfo, "re");
	int r = -1;

	if (!f)
		return -1;
	/* "36 25 0:30 / /sys/fs/cgroup/unified rw,... shared:9 - cgroup2 cgroup2 rw" */
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2") ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		/* octal escapes (\040 for a space) are left: such a mount is
		 * not where anyone puts cgroup2 */
		if (xsnprintf(out, len, "%s", mnt) == 0)
			r = 0;
	}
	fclose(f);
	return r;
}

struct procinfo *procinfo_new(const char *proc_root)
{
	struct procinfo *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->proc, sizeof(p->proc), "%s", proc_root ? proc_root : "/proc");
	p->root[0] = 0;
	if (cgroup2_mount("/proc/self/mountinfo", p->root, sizeof(p->root)) < 0) {
		/* "ip netns exec" gives us a /sys of our own, without it; init
		 * still sees the host's, and so do we through its root */
		char m[PATH_MAX - 16];

		if (cgroup2_mount("/proc/1/mountinfo", m, sizeof(m)) == 0)
			snprintf(p->root, sizeof(p->root), "/proc/1/root%s", m);
	}
	return p;
}

static void info_clear(struct info *i)
{
	free(i->cgroup);
	free(i->cmdline);
	free(i->ancestors);
	memset(i, 0, sizeof(*i));
}

void procinfo_free(struct procinfo *p)
{
	if (!p)
		return;
	for (int i = 0; i < INFO_SLOTS; i++)
		info_clear(&p->info[i]);
	for (int i = 0; i < PATH_SLOTS; i++)
		free(p->paths[i].path);
	free(p);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* The parent: the fourth field of /proc/PID/stat, after "(comm)", whose
 * name may hold spaces and parentheses itself. */
static int32_t read_ppid(struct procinfo *p, pid_t pid)
{
	char path[128], buf[512], *rp;
	int ppid = 0;

	snprintf(path, sizeof(path), "%s/%d/stat", p->proc, (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1 || ppid < 0)
		return 0;
	return ppid;
}

static bool read_gid(struct procinfo *p, pid_t pid, uint32_t *gid)
{
	char path[128], buf[2048], *g;
	unsigned int real, eff;

	snprintf(path, sizeof(path), "%s/%d/status", p->proc, (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	g = strstr(buf, "\nGid:");
	if (!g || sscanf(g + 5, "%u %u", &real, &eff) != 2)
		return false;
	*gid = eff;
	return true;
}

/* The arguments joined by spaces, as a person reads a command line. */
static char *read_cmdline(struct procinfo *p, pid_t pid, bool *cut)
{
	char path[128], buf[CMDLINE_MAX + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/cmdline", p->proc, (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return NULL;	/* a kernel thread, or gone */
	/* one byte more than we keep tells a longer one */
	*cut = n > CMDLINE_MAX - 1;
	if (*cut)
		n = CMDLINE_MAX - 1;
	while (n && !buf[n - 1])
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	return strdup(buf);
}

/* The v2 path from /proc/PID/cgroup ("0::/system.slice/x.service"). */
static char *read_cgroup(struct procinfo *p, pid_t pid)
{
	char path[128], buf[8192], *line, *nl;

	snprintf(path, sizeof(path), "%s/%d/cgroup", p->proc, (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return NULL;
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(line, "0::/", 4))
			return strdup(line + 3);
	}
	return NULL;
}

static uint64_t cgroup_inode(struct procinfo *p, const char *cg)
{
	char path[PATH_MAX * 2];
	struct stat st;

	if (!p->root[0] || !cg)
		return 0;
	snprintf(path, sizeof(path), "%s%s", p->root, cg);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Executables of the parent, its parent, ... as NUL-terminated strings
 * ending with an empty one. */
static char *read_ancestors(struct procinfo *p, int32_t ppid, size_t *alen, bool *cut)
{
	char *out = malloc(ANCESTORS_MAX), path[128], exe[PATH_MAX];
	size_t len = 0;

	if (!out)
		return NULL;
	*cut = false;
	for (int depth = 0; ppid > 0; depth++) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%d/exe", p->proc, (int)ppid);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0)
			break;	/* a kernel thread, or gone: the chain ends */
		exe[n] = 0;
		exe_strip_deleted(exe);
		n = (ssize_t)strlen(exe);
		if (depth == PROCINFO_MAX_ANCESTORS || len + (size_t)n + 2 > ANCESTORS_MAX) {
			*cut = true;	/* there is more than we keep */
			break;
		}
		memcpy(out + len, exe, (size_t)n + 1);
		len += (size_t)n + 1;
		ppid = ppid == 1 ? 0 : read_ppid(p, ppid);
	}
	out[len++] = 0;
	*alen = len;
	return out;
}

static char *dup_mem(const char *s, size_t n)
{
	char *d = s ? malloc(n) : NULL;

	if (d)
		memcpy(d, s, n);
	return d;
}

/* A cgroup directory with this inode, under dir (of the mount); bounded. */
static int walk(const char *root, char *rel, size_t len, uint64_t id, int *budget, int depth)
{
	char path[PATH_MAX * 2];
	DIR *d;
	struct dirent *e;
	size_t base = strlen(rel);
	int r = -1;

	if (depth > 32)
		return -1;
	snprintf(path, sizeof(path), "%s%s", root, rel);
	d = opendir(path);
	if (!d)
		return -1;
	while (r < 0 && (e = readdir(d)) && --*budget > 0) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (xsnprintf(rel + base, len - base, "/%s", e->d_name) < 0)
			continue;
		if (e->d_ino == id)
			r = 0;
		else
			r = walk(root, rel, len, id, budget, depth + 1);
		if (r < 0)
			rel[base] = 0;
	}
	closedir(d);
	return r;
}

int procinfo_cgroup_path(struct procinfo *p, uint64_t id, char *out, size_t len)
{
	struct path_slot *s = &p->paths[id % PATH_SLOTS];
	char rel[PATH_MAX];
	int budget = WALK_MAX;
	struct stat st;

	if (!id || !p->root[0])
		return -1;
	if (s->id == id && s->path)
		return xsnprintf(out, len, "%s", s->path);
	if (stat(p->root, &st) == 0 && st.st_ino == id)
		snprintf(rel, sizeof(rel), "/");
	else if ((rel[0] = 0, walk(p->root, rel, sizeof(rel), id, &budget, 0)) < 0)
		return -1;
	free(s->path);
	s->id = id;
	s->path = strdup(rel);
	return xsnprintf(out, len, "%s", rel);
}

static void refresh(struct procinfo *p, struct info *i, pid_t pid)
{
	info_clear(i);
	i->pid = pid;
	i->ppid = read_ppid(p, pid);
	i->have_gid = read_gid(p, pid, &i->gid);
	i->cgroup = read_cgroup(p, pid);
	i->cgroup_id = cgroup_inode(p, i->cgroup);
	i->cmdline = read_cmdline(p, pid, &i->cmdline_cut);
	i->ancestors = read_ancestors(p, i->ppid, &i->alen, &i->ancestors_cut);
	i->at_ms = now_ms();
}

void procinfo_fill(struct procinfo *p, struct owner *o)
{
	struct info *i;

	if (!p || o->pid <= 0)
		return;
	i = &p->info[(unsigned int)o->pid % INFO_SLOTS];
	if (i->pid != o->pid || now_ms() - i->at_ms >= INFO_MS)
		refresh(p, i, o->pid);
	if (!o->have_gid && i->have_gid) {
		o->gid = i->gid;
		o->have_gid = true;
	}
	if (!o->cmdline && i->cmdline) {
		o->cmdline = strdup(i->cmdline);
		o->cmdline_cut = i->cmdline_cut;
	}
	if (!o->ancestors) {
		if (!o->ppid || o->ppid == i->ppid) {
			o->ppid = i->ppid;
			o->ancestors = dup_mem(i->ancestors, i->alen);
			o->ancestors_cut = i->ancestors_cut;
		} else {
			/* the parent the kernel saw when the packet left */
			size_t n;

			o->ancestors = read_ancestors(p, o->ppid, &n, &o->ancestors_cut);
		}
	}
	if (!o->cgroup) {
		char path[PATH_MAX];

		if (!o->cgroup_id) {
			o->cgroup_id = i->cgroup_id;
			o->cgroup = i->cgroup ? strdup(i->cgroup) : NULL;
		} else if (o->cgroup_id == i->cgroup_id && i->cgroup) {
			/* the kernel's id, and the process still there */
			o->cgroup = strdup(i->cgroup);
		} else if (procinfo_cgroup_path(p, o->cgroup_id, path, sizeof(path)) == 0) {
			o->cgroup = strdup(path);
		}
	}
}
