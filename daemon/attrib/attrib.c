// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/portmaster.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attrib/attrib.h"
#include "attrib/procinfo.h"
#include "daemon.h"
#include "common/log.h"
#include "common/util.h"

#define CACHE_SLOTS 16384
#define HOT_PIDS 8
/* After a /proc walk that found nothing, none for this long: a socket
 * whose process is not among the recent owners stays unattributed. */
#define FULL_SCAN_INTERVAL_MS 20

struct cache_slot {
	uint64_t inode;
	pid_t pid;
	int fd;
};

#define HOT_FDS 8
/* A process that recently owned a socket, and the fd numbers its sockets
 * had: a program that closes a socket and opens the next one gets the same
 * number back, so one readlink usually finds the new socket. */
struct hot {
	pid_t pid;
	int fds[HOT_FDS];
	unsigned int nfd;
};

struct attrib {
	char proc[64];
	bool diag_broken;
	uint32_t seq;
	struct cache_slot cache[CACHE_SLOTS];
	struct hot hot[HOT_PIDS];
	unsigned int hot_next;
	uint64_t last_full_scan;
	struct procinfo *pinfo;
};

struct attrib *attrib_new(const char *proc_root)
{
	struct attrib *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	snprintf(a->proc, sizeof(a->proc), "%s", proc_root ? proc_root : "/proc");
	a->pinfo = procinfo_new(a->proc);
	return a;
}

void attrib_free(struct attrib *a)
{
	if (a)
		procinfo_free(a->pinfo);
	free(a);
}

int sockdiag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

	if (fd < 0)
		return -errno;
	/* A lookup must never stall the verdict loop. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int sockdiag_build_req(const struct flow_key *k, uint32_t seq, void *buf, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} *req = buf;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	size_t alen = k->family == AF_INET6 ? 16 : 4;

	if (len < sizeof(*req) || (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP))
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	req->nlh.nlmsg_len = sizeof(*req);
	req->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req->nlh.nlmsg_flags = NLM_F_REQUEST;
	req->nlh.nlmsg_seq = seq;
	req->r.sdiag_family = k->family;
	req->r.sdiag_protocol = k->proto;
	req->r.idiag_states = ~0U;
	req->r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	/* TCP looks the socket up as "src = local"; UDP has src and dst
	 * swapped (udp_dump_one(), "for historical reasons"). */
	if (k->proto == IPPROTO_TCP) {
		src = k->laddr; sport = k->lport;
		dst = k->raddr; dport = k->rport;
	} else {
		src = k->raddr; sport = k->rport;
		dst = k->laddr; dport = k->lport;
	}
	memcpy(req->r.id.idiag_src, src, alen);
	memcpy(req->r.id.idiag_dst, dst, alen);
	req->r.id.idiag_sport = htons(sport);
	req->r.id.idiag_dport = htons(dport);
	return (int)sizeof(*req);
}

int sockdiag_parse_reply(const void *buf, size_t len, uint32_t seq, uint32_t *uid,
			 uint64_t *inode)
{
	const struct nlmsghdr *nlh = buf;
	size_t left = len;

	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error ? e->error : -ENOENT;
		}
		if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			const struct inet_diag_msg *m = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				return -EBADMSG;
			*uid = m->idiag_uid;
			*inode = m->idiag_inode;
			return 0;
		}
	}
	return -EBADMSG;
}

int sockdiag_lookup(int fd, const struct flow_key *k, uint32_t *uid, uint64_t *inode)
{
	static uint32_t seq;
	char req[256];
	union {
		char b[8192];
		struct nlmsghdr align;
	} rep;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int n = sockdiag_build_req(k, ++seq, req, sizeof(req));
	ssize_t r;

	if (n < 0)
		return n;
	if (sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -errno;
	for (;;) {
		r = recv(fd, rep.b, sizeof(rep.b), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = sockdiag_parse_reply(rep.b, (size_t)r, seq, uid, inode);
		/* A late answer to an earlier, timed-out request: read on. */
		if (n == -EBADMSG && ((struct nlmsghdr *)rep.b)->nlmsg_seq != seq)
			continue;
		return n;
	}
}

static int hexbytes(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]))
			return -1;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* /proc/net prints each 32-bit word of an address in host byte order. */
static int parse_addr(const char *s, int family, uint8_t addr[16], uint16_t *port)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	const char *colon = strchr(s, ':');
	unsigned int p;
	uint8_t raw[16];

	if (!colon || (size_t)(colon - s) != alen * 2)
		return -1;
	if (hexbytes(s, alen, raw) < 0)
		return -1;
	for (size_t w = 0; w < alen / 4; w++) {
		uint32_t v = (uint32_t)raw[w * 4] << 24 | (uint32_t)raw[w * 4 + 1] << 16 |
			     (uint32_t)raw[w * 4 + 2] << 8 | raw[w * 4 + 3];

		/* the word's bytes in host order are the address bytes */
		memcpy(addr + w * 4, &v, 4);
	}
	if (strlen(colon + 1) < 4 || sscanf(colon + 1, "%4x", &p) != 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int procnet_parse_line(const char *line, int family, struct procnet_entry *e)
{
	char local[64], remote[64];
	unsigned int st;
	unsigned long uid;
	unsigned long long inode;
	int n;

	memset(e, 0, sizeof(*e));
	n = sscanf(line, " %*u: %63s %63s %x %*s %*s %*s %lu %*d %llu", local, remote, &st, &uid,
		   &inode);
	if (n != 5 || uid > UINT32_MAX)
		return -1;
	if (parse_addr(local, family, e->laddr, &e->lport) < 0 ||
	    parse_addr(remote, family, e->raddr, &e->rport) < 0)
		return -1;
	e->state = (uint8_t)st;
	e->uid = (uint32_t)uid;
	e->inode = inode;
	return 0;
}

static bool is_any(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

int procnet_find(const char *path, const struct flow_key *k, uint32_t *uid, uint64_t *inode)
{
	size_t alen = k->family == AF_INET6 ? 16 : 4;
	FILE *f = fopen(path, "re");
	char line[512];
	bool found_wild = false;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct procnet_entry e;

		if (procnet_parse_line(line, k->family, &e) < 0 || e.lport != k->lport)
			continue;
		if (!memcmp(e.laddr, k->laddr, alen) && !memcmp(e.raddr, k->raddr, alen) &&
		    e.rport == k->rport) {
			*uid = e.uid;
			*inode = e.inode;
			fclose(f);
			return 0;
		}
		if (!found_wild && is_any(e.raddr, alen) && e.rport == 0 &&
		    (is_any(e.laddr, alen) || !memcmp(e.laddr, k->laddr, alen))) {
			*uid = e.uid;
			*inode = e.inode;
			found_wild = true;
		}
	}
	fclose(f);
	return found_wild ? 0 : -ENOENT;
}

int procfd_scan(const char *proc_root, pid_t pid,
		void (*cb)(void *arg, uint64_t inode, pid_t pid, int fd), void *arg)
{
	char path[128], link[64];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		ssize_t len;
		unsigned long long ino;
		char *end;
		long fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end || fd < 0 || fd > INT32_MAX)
			continue;
		len = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (len < 9)
			continue;
		link[len] = 0;
		if (strncmp(link, "socket:[", 8) || sscanf(link + 8, "%llu]", &ino) != 1)
			continue;
		cb(arg, ino, pid, (int)fd);
		n++;
	}
	closedir(dir);
	return n;
}

static void cache_put(void *arg, uint64_t inode, pid_t pid, int fd)
{
	struct attrib *a = arg;
	struct cache_slot *s = &a->cache[inode % CACHE_SLOTS];

	s->inode = inode;
	s->pid = pid;
	s->fd = fd;
}

/* A cached owner is trusted only if the process still has the socket. */
static pid_t cache_get(struct attrib *a, uint64_t inode)
{
	struct cache_slot *s = &a->cache[inode % CACHE_SLOTS];
	char lp[128], link[64], want[40];
	ssize_t len;

	if (s->inode != inode || !s->pid)
		return 0;
	snprintf(lp, sizeof(lp), "%s/%d/fd/%d", a->proc, (int)s->pid, s->fd);
	len = readlink(lp, link, sizeof(link) - 1);
	if (len < 0)
		goto stale;
	link[len] = 0;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)inode);
	if (strcmp(link, want))
		goto stale;
	return s->pid;
stale:
	s->inode = 0;
	return 0;
}

static void hot_add(struct attrib *a, pid_t pid, int fd)
{
	struct hot *h = NULL;

	for (unsigned int i = 0; i < HOT_PIDS; i++)
		if (a->hot[i].pid == pid)
			h = &a->hot[i];
	if (!h) {
		h = &a->hot[a->hot_next++ % HOT_PIDS];
		memset(h, 0, sizeof(*h));
		h->pid = pid;
	}
	for (unsigned int i = 0; i < h->nfd && i < HOT_FDS; i++)
		if (h->fds[i] == fd)
			return;
	h->fds[h->nfd++ % HOT_FDS] = fd;
}

static bool pid_uid_ok(struct attrib *a, pid_t pid, bool have_uid, uint32_t uid)
{
	char p[128];
	struct stat st;

	if (!have_uid)
		return true;
	snprintf(p, sizeof(p), "%s/%d", a->proc, (int)pid);
	return stat(p, &st) == 0 && st.st_uid == uid;
}

/* Is fd of pid the socket with this inode?  One readlink. */
static bool fd_is(struct attrib *a, pid_t pid, int fd, uint64_t inode)
{
	char lp[128], link[64], want[40];
	ssize_t len;

	snprintf(lp, sizeof(lp), "%s/%d/fd/%d", a->proc, (int)pid, fd);
	len = readlink(lp, link, sizeof(link) - 1);
	if (len < 0)
		return false;
	link[len] = 0;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)inode);
	return !strcmp(link, want);
}

static int cmp_desc(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/*
 * Every process, newest (highest pid) first, until the socket is found:
 * an unknown owner is most often a process that just started (a curl),
 * so this usually stops after a few.  Every socket seen goes to the cache.
 */
static pid_t scan_all(struct attrib *a, uint64_t inode, bool have_uid, uint32_t uid)
{
	pid_t *pids = NULL, found = 0;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir = opendir(a->proc);

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		long p;
		char *end;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0 || p > INT32_MAX)
			continue;
		if (n == cap) {
			pid_t *np = realloc(pids, (cap = cap ? cap * 2 : 256) * sizeof(*pids));

			if (!np)
				break;
			pids = np;
		}
		pids[n++] = (pid_t)p;
	}
	closedir(dir);
	if (n)
		qsort(pids, n, sizeof(*pids), cmp_desc);
	for (size_t i = 0; i < n && !found; i++) {
		if (!pid_uid_ok(a, pids[i], have_uid, uid))
			continue;
		procfd_scan(a->proc, pids[i], cache_put, a);
		found = cache_get(a, inode);
	}
	free(pids);
	return found;
}

static pid_t find_pid(struct attrib *a, uint64_t inode, bool have_uid, uint32_t uid, int *fdp)
{
	struct cache_slot *slot;
	uint64_t now;
	pid_t pid;

	pid = cache_get(a, inode);
	if (pid)
		goto found;
	/* Recent owners first: a process that opens one connection usually
	 * opens the next, often on the fd number of the last one. */
	for (unsigned int i = 0; i < HOT_PIDS; i++) {
		struct hot *h = &a->hot[(a->hot_next - 1 - i) % HOT_PIDS];

		for (unsigned int k = 0; h->pid && k < h->nfd && k < HOT_FDS; k++) {
			if (fd_is(a, h->pid, h->fds[k], inode)) {
				cache_put(a, inode, h->pid, h->fds[k]);
				pid = h->pid;
				goto found;
			}
		}
	}
	for (unsigned int i = 0; i < HOT_PIDS; i++) {
		struct hot *h = &a->hot[i];

		if (!h->pid || !pid_uid_ok(a, h->pid, have_uid, uid))
			continue;
		if (procfd_scan(a->proc, h->pid, cache_put, a) < 0) {
			memset(h, 0, sizeof(*h));
			continue;
		}
		pid = cache_get(a, inode);
		if (pid)
			goto found;
	}
	now = now_ms();
	if (a->last_full_scan && now - a->last_full_scan < FULL_SCAN_INTERVAL_MS)
		return 0;
	pid = scan_all(a, inode, have_uid, uid);
	if (!pid) {
		/* Walked everything in vain: not again for a while. */
		a->last_full_scan = now;
		return 0;
	}
found:
	slot = &a->cache[inode % CACHE_SLOTS];
	*fdp = slot->fd;
	return pid;
}

/*
 * A program replaced on disk (a package upgrade) still runs the old file:
 * the kernel shows its path with " (deleted)".  The rules mean the path.
 */
void exe_strip_deleted(char *path)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(path), s = sizeof(suffix) - 1;

	if (n > s && !strcmp(path + n - s, suffix))
		path[n - s] = 0;
}

static char *read_exe(struct attrib *a, pid_t pid)
{
	char p[128], buf[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%d/exe", a->proc, (int)pid);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	exe_strip_deleted(buf);
	return strdup(buf);
}

int attrib_pid_from_inode(struct attrib *a, uint64_t inode, uint32_t uid_hint,
			  bool have_uid, int32_t *pid, char **exe)
{
	int fd = -1;
	pid_t p = find_pid(a, inode, have_uid, uid_hint, &fd);

	if (!p)
		return -ENOENT;
	hot_add(a, p, fd);
	*pid = p;
	if (exe && !*exe)
		*exe = read_exe(a, p);
	return 0;
}

static int table_lookup(struct attrib *a, int diag_fd, bool own_ns, const struct flow_key *k,
			uint32_t *uid, uint64_t *inode)
{
	char path[128];
	int r;

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (diag_fd >= 0 && !a->diag_broken) {
		r = sockdiag_lookup(diag_fd, k, uid, inode);
		if (r != -EOPNOTSUPP && r != -EINVAL && r != -EAGAIN)
			return r;
		if (r != -EAGAIN) {
			pm_warn("sock_diag lookup unsupported here (%s): using /proc/net",
				strerror(-r));
			a->diag_broken = true;
		}
	}
	/* /proc/net shows the tables of our own namespace only */
	if (!own_ns)
		return -EAGAIN;
	snprintf(path, sizeof(path), "%s/net/%s%s", a->proc,
		 k->proto == IPPROTO_TCP ? "tcp" : "udp", k->family == AF_INET6 ? "6" : "");
	return procnet_find(path, k, uid, inode);
}

int attrib_socket(struct attrib *a, int diag_fd, bool own_ns, struct flow_info *fi)
{
	uint32_t uid;
	uint64_t inode = 0;
	int r;

	if (!a)
		return -ENOENT;
	r = table_lookup(a, diag_fd, own_ns, &fi->key, &uid, &inode);
	if (r == 0) {
		fi->owner.uid = uid;
		fi->owner.have_uid = true;
		fi->owner.inode = inode;
	}
	return r;
}

void attrib_lookup(struct attrib *a, int diag_fd, bool own_ns, struct flow_info *fi,
		   struct stats *st)
{
	struct timespec t0, t1;
	struct owner *o = &fi->owner;
	/* module mode names most owners itself: time only real work */
	bool work = !o->inode || !o->pid || !o->exe;

	if (!a)
		return;
	if (work)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!o->inode) {
		uint32_t uid;
		uint64_t inode = 0;
		int r = table_lookup(a, diag_fd, own_ns, &fi->key, &uid, &inode);

		if (r == 0) {
			o->uid = uid;
			o->have_uid = true;
			o->inode = inode;
		} else if (r == -ENOENT && fi->dir == PM_DIR_IN) {
			fi->no_socket = true;
		}
	}
	if (o->inode && !o->pid)
		attrib_pid_from_inode(a, o->inode, o->uid, o->have_uid, &o->pid, &o->exe);
	if (o->pid > 0) {
		if (!o->exe)
			o->exe = read_exe(a, o->pid);
		procinfo_fill(a->pinfo, o);
	}
	if (o->pid)
		st->attrib_ok++;
	else
		st->attrib_fail++;
	if (!work)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->attrib_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
				    (t1.tv_nsec - t0.tv_nsec));
}
