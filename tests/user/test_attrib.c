// SPDX-License-Identifier: GPL-2.0
/* Attribution: /proc/net parsing (fixtures and live), sock_diag requests
 * and replies (hand-built and live), /proc/PID/fd, and a whole lookup of
 * one of our own sockets. */
#include "test_common.h"
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attrib/attrib.h"
#include "attrib/procinfo.h"
#include "daemon.h"

static void test_procnet_line(void **state)
{
	struct procnet_entry e;
	uint8_t lo[4] = { 127, 0, 0, 1 };

	(void)state;
	assert_int_equal(procnet_parse_line("   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 "
					    "00:00000000 00000000  1000        0 23456 1 0", AF_INET, &e), 0);
	assert_memory_equal(e.laddr, lo, 4);
	assert_int_equal(e.lport, 40000);
	assert_int_equal(e.rport, 8080);
	assert_int_equal(e.uid, 1000);
	assert_int_equal(e.inode, 23456);
	assert_int_equal(e.state, 1);
	assert_int_equal(procnet_parse_line("  sl  local_address rem_address   st", AF_INET, &e), -1);
	assert_int_equal(procnet_parse_line("   1: 0100007G:9C40 0100007F:1F90 01 0 0 0 1 0 2", AF_INET, &e), -1);
	assert_int_equal(procnet_parse_line("   1: 0100007F9C40 0100007F:1F90 01 0 0 0 1 0 2", AF_INET, &e), -1);
	assert_int_equal(procnet_parse_line("", AF_INET, &e), -1);
}

static struct flow_key key4(const char *l, uint16_t lp, const char *r, uint16_t rp, uint8_t proto)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.proto = proto;
	inet_pton(AF_INET, l, k.laddr);
	inet_pton(AF_INET, r, k.raddr);
	k.lport = lp;
	k.rport = rp;
	return k;
}

static void test_procnet_fixture(void **state)
{
	struct flow_key k;
	uint32_t uid;
	uint64_t inode;

	(void)state;
	/* exact 4-tuple */
	k = key4("127.0.0.1", 40000, "127.0.0.1", 8080, IPPROTO_TCP);
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp", &k, &uid, &inode), 0);
	assert_int_equal(inode, 23456);
	assert_int_equal(uid, 1000);
	/* inbound to a listener: the established child wins over the listener */
	k = key4("127.0.0.1", 8080, "127.0.0.1", 40000, IPPROTO_TCP);
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp", &k, &uid, &inode), 0);
	assert_int_equal(inode, 34567);
	k = key4("127.0.0.1", 8080, "127.0.0.1", 40001, IPPROTO_TCP);
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp", &k, &uid, &inode), 0);
	assert_int_equal(inode, 12345);
	/* wildcard listener on 0.0.0.0:22 */
	k = key4("10.1.1.1", 22, "10.9.9.9", 5555, IPPROTO_TCP);
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp", &k, &uid, &inode), 0);
	assert_int_equal(inode, 45678);
	k = key4("10.1.1.1", 23, "10.9.9.9", 5555, IPPROTO_TCP);
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp", &k, &uid, &inode), -ENOENT);
	assert_int_equal(procnet_find(FIXTURES "/nonexistent", &k, &uid, &inode), -ENOENT);

	memset(&k, 0, sizeof(k));
	k.family = AF_INET6;
	k.proto = IPPROTO_TCP;
	inet_pton(AF_INET6, "fd00::1", k.laddr);
	inet_pton(AF_INET6, "fd00::2", k.raddr);
	k.lport = 50000;
	k.rport = 80;
	assert_int_equal(procnet_find(FIXTURES "/proc_net_tcp6", &k, &uid, &inode), 0);
	assert_int_equal(inode, 888);
	assert_int_equal(uid, 1001);
}

static void test_sockdiag_messages(void **state)
{
	struct flow_key k = key4("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP);
	char buf[256];
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} *req = (void *)buf;
	union {
		char b[256];
		struct nlmsghdr h;
	} rep;
	struct nlmsghdr *nlh = &rep.h;
	uint32_t uid;
	uint64_t inode;

	(void)state;
	assert_int_equal(sockdiag_build_req(&k, 7, buf, sizeof(buf)), (int)sizeof(*req));
	assert_int_equal(req->r.sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(ntohs(req->r.id.idiag_sport), 40000);
	assert_int_equal(ntohs(req->r.id.idiag_dport), 80);
	/* UDP's lookup has source and destination swapped */
	k.proto = IPPROTO_UDP;
	assert_true(sockdiag_build_req(&k, 7, buf, sizeof(buf)) > 0);
	assert_int_equal(ntohs(req->r.id.idiag_sport), 80);
	k.proto = IPPROTO_ICMP;
	assert_int_equal(sockdiag_build_req(&k, 7, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sockdiag_build_req(&k, 7, buf, 8), -EINVAL);

	memset(&rep, 0, sizeof(rep));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg));
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_seq = 7;
	((struct inet_diag_msg *)NLMSG_DATA(nlh))->idiag_uid = 1000;
	((struct inet_diag_msg *)NLMSG_DATA(nlh))->idiag_inode = 4242;
	assert_int_equal(sockdiag_parse_reply(rep.b, nlh->nlmsg_len, 7, &uid, &inode), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(inode, 4242);
	/* another request's answer, a short message, an error */
	assert_int_equal(sockdiag_parse_reply(rep.b, nlh->nlmsg_len, 8, &uid, &inode), -EBADMSG);
	nlh->nlmsg_len = NLMSG_LENGTH(4);
	assert_int_equal(sockdiag_parse_reply(rep.b, nlh->nlmsg_len, 7, &uid, &inode), -EBADMSG);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	((struct nlmsgerr *)NLMSG_DATA(nlh))->error = -ENOENT;
	assert_int_equal(sockdiag_parse_reply(rep.b, nlh->nlmsg_len, 7, &uid, &inode), -ENOENT);
	assert_int_equal(sockdiag_parse_reply(rep.b, 3, 7, &uid, &inode), -EBADMSG);
}

struct pair {
	int srv, cli, acc;
	uint16_t sport, cport;
};

static void tcp_pair(struct pair *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	p->srv = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(p->srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->srv, 4), 0);
	getsockname(p->srv, (struct sockaddr *)&a, &len);
	p->sport = ntohs(a.sin_port);
	p->cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(p->cli, (struct sockaddr *)&a, sizeof(a)), 0);
	p->acc = accept(p->srv, NULL, NULL);
	len = sizeof(a);
	getsockname(p->cli, (struct sockaddr *)&a, &len);
	p->cport = ntohs(a.sin_port);
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	fstat(fd, &st);
	return st.st_ino;
}

static void test_sockdiag_live(void **state)
{
	int fd = sockdiag_open();
	struct pair p;
	struct flow_key k;
	uint32_t uid;
	uint64_t inode;

	(void)state;
	if (fd < 0)
		skip();
	tcp_pair(&p);
	k = key4("127.0.0.1", p.cport, "127.0.0.1", p.sport, IPPROTO_TCP);
	assert_int_equal(sockdiag_lookup(fd, &k, &uid, &inode), 0);
	assert_int_equal(inode, inode_of(p.cli));
	assert_int_equal(uid, getuid());
	k = key4("127.0.0.1", p.sport, "127.0.0.1", p.cport, IPPROTO_TCP);
	assert_int_equal(sockdiag_lookup(fd, &k, &uid, &inode), 0);
	assert_int_equal(inode, inode_of(p.acc));
	/* nobody there */
	k = key4("127.0.0.1", 1, "127.0.0.1", 2, IPPROTO_TCP);
	assert_int_equal(sockdiag_lookup(fd, &k, &uid, &inode), -ENOENT);
	{
		/* UDP: a bound socket receiving from anyone */
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		bind(u, (struct sockaddr *)&a, sizeof(a));
		getsockname(u, (struct sockaddr *)&a, &len);
		k = key4("127.0.0.1", ntohs(a.sin_port), "127.0.0.1", 33333, IPPROTO_UDP);
		assert_int_equal(sockdiag_lookup(fd, &k, &uid, &inode), 0);
		assert_int_equal(inode, inode_of(u));
		close(u);
	}
	/* the same through /proc/net */
	k = key4("127.0.0.1", p.cport, "127.0.0.1", p.sport, IPPROTO_TCP);
	assert_int_equal(procnet_find("/proc/net/tcp", &k, &uid, &inode), 0);
	assert_int_equal(inode, inode_of(p.cli));
	close(p.cli);
	close(p.acc);
	close(p.srv);
	close(fd);
}

static void found(void *arg, uint64_t inode, pid_t pid, int fd)
{
	uint64_t *want = arg;

	if (inode == want[0] && pid == getpid())
		want[1] = (uint64_t)fd;
}

static void test_procfd_and_lookup(void **state)
{
	struct pair p;
	struct flow_info fi;
	struct attrib *a = attrib_new("/proc");
	struct stats st;
	int diag = sockdiag_open();
	uint64_t want[2];
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct timespec t0, t1;

	(void)state;
	self[n] = 0;
	tcp_pair(&p);
	want[0] = inode_of(p.cli);
	want[1] = 0;
	assert_true(procfd_scan("/proc", getpid(), found, want) > 0);
	assert_int_equal(want[1], (uint64_t)p.cli);
	assert_true(procfd_scan("/proc", 0x7fffffff, found, want) < 0);

	memset(&fi, 0, sizeof(fi));
	memset(&st, 0, sizeof(st));
	fi.key = key4("127.0.0.1", p.cport, "127.0.0.1", p.sport, IPPROTO_TCP);
	attrib_lookup(a, diag, true, &fi, &st);
	assert_int_equal(fi.owner.pid, getpid());
	assert_int_equal(fi.owner.inode, inode_of(p.cli));
	assert_non_null(fi.owner.exe);
	assert_string_equal(fi.owner.exe, self);
	/* and what the rules ask: parent chain, cgroup, command line, group */
	assert_int_equal(fi.owner.ppid, getppid());
	{
		char mnt[4096], pexe[4096], cmd[4096] = "", path[8192];
		ssize_t k;
		FILE *f;
		size_t got;

		snprintf(path, sizeof(path), "/proc/%d/exe", (int)getppid());
		k = readlink(path, pexe, sizeof(pexe) - 1);
		if (k > 0) {
			pexe[k] = 0;
			assert_non_null(fi.owner.ancestors);
			assert_string_equal(fi.owner.ancestors, pexe);
		}
		f = fopen("/proc/self/cmdline", "r");
		got = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		assert_true(got > 0);
		assert_non_null(fi.owner.cmdline);
		assert_memory_equal(fi.owner.cmdline, cmd, strlen(cmd));	/* argv[0] */
		assert_true(fi.owner.have_gid);
		assert_int_equal(fi.owner.gid, getegid());
		/* cgroup v2 wherever it is mounted (beside v1 on hybrid hosts) */
		if (cgroup2_mount("/proc/self/mountinfo", mnt, sizeof(mnt)) == 0) {
			struct stat cg;
			struct procinfo *pi = procinfo_new("/proc");

			assert_non_null(fi.owner.cgroup);
			assert_int_equal(fi.owner.cgroup[0], '/');
			snprintf(path, sizeof(path), "%s%s", mnt, fi.owner.cgroup);
			assert_int_equal(stat(path, &cg), 0);
			assert_int_equal(fi.owner.cgroup_id, (uint64_t)cg.st_ino);
			/* and back from the id (module mode), by a walk */
			assert_int_equal(procinfo_cgroup_path(pi, cg.st_ino, path, sizeof(path)), 0);
			assert_string_equal(path, fi.owner.cgroup);
			assert_int_equal(procinfo_cgroup_path(pi, 1ULL << 60, path, sizeof(path)), -1);
			procinfo_free(pi);
		}
	}
	owner_release(&fi.owner);
	/* inbound to a port nothing listens on: no socket would take it */
	memset(&fi, 0, sizeof(fi));
	fi.dir = 1;
	fi.key = key4("127.0.0.1", 1, "127.0.0.1", 40000, IPPROTO_TCP);
	attrib_lookup(a, diag, true, &fi, &st);
	assert_true(fi.no_socket);
	/* but to one that listens, there is */
	memset(&fi, 0, sizeof(fi));
	fi.dir = 1;
	fi.key = key4("127.0.0.1", p.sport, "127.0.0.1", 40000, IPPROTO_TCP);
	attrib_lookup(a, diag, true, &fi, &st);
	assert_false(fi.no_socket);
	assert_int_equal(fi.owner.inode, inode_of(p.srv));
	free(fi.owner.exe);
	/* now cached: the second lookup is the common case; time it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++) {
		memset(&fi, 0, sizeof(fi));
		fi.key = key4("127.0.0.1", p.cport, "127.0.0.1", p.sport, IPPROTO_TCP);
		attrib_lookup(a, diag, true, &fi, &st);
		assert_int_equal(fi.owner.pid, getpid());
		free(fi.owner.exe);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# one cached attribution lookup: %.1f us\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1000.0 / 1000);
	/* the cache is checked before use: a closed socket is not ours */
	close(p.cli);
	memset(&fi, 0, sizeof(fi));
	fi.key = key4("127.0.0.1", p.cport, "127.0.0.1", p.sport, IPPROTO_TCP);
	attrib_lookup(a, diag, true, &fi, &st);
	assert_int_equal(fi.owner.pid, 0);
	close(p.acc);
	close(p.srv);
	close(diag);
	attrib_free(a);
}

/*
 * A program replaced on disk while it runs (a package upgrade) is named by
 * its path, without the " (deleted)" that /proc/PID/exe shows.
 */
static void test_replaced_executable(void **state)
{
	char path[] = "/tmp/pm-sleep.XXXXXX";
	struct attrib *a = attrib_new("/proc");
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), src, dst, pipefd[2];
	char buf[65536], *exe = NULL, self[32];
	int32_t pid = 0;
	ssize_t n;
	pid_t child;

	(void)state;
	src = open("/bin/sleep", O_RDONLY);
	dst = mkstemp(path);
	assert_true(src >= 0 && dst >= 0);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		assert_int_equal(write(dst, buf, (size_t)n), n);
	close(src);
	fchmod(dst, 0755);
	close(dst);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	child = fork();
	if (child == 0) {
		/* the socket survives the exec */
		fcntl(s, F_SETFD, 0);
		execl(path, path, "30", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* wait for the exec: the pipe closes on it (CLOEXEC) ... */
	assert_int_equal(read(pipefd[0], buf, 1), 0);
	close(pipefd[0]);
	/* ... a little more for the exec itself to complete */
	for (int i = 0; i < 100; i++) {
		snprintf(self, sizeof(self), "/proc/%d/exe", (int)child);
		n = readlink(self, buf, sizeof(buf) - 1);
		if (n > 0 && !strncmp(buf, path, strlen(path)))
			break;
		usleep(10000);
	}
	unlink(path);
	{
		uint64_t ino = inode_of(s);

		close(s);
		assert_int_equal(attrib_pid_from_inode(a, ino, 0, false, &pid, &exe), 0);
	}
	assert_int_equal(pid, child);
	assert_non_null(exe);
	assert_string_equal(exe, path);
	free(exe);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	attrib_free(a);
	{
		char p2[] = "/usr/bin/x (deleted)", p3[] = "/usr/bin/y";

		exe_strip_deleted(p2);
		exe_strip_deleted(p3);
		assert_string_equal(p2, "/usr/bin/x");
		assert_string_equal(p3, "/usr/bin/y");
	}
}


/* A fake /proc: pid N's parent is N-1, down to first (whose parent is
 * 0); its cmdline is len bytes. */
static void fake_proc(const char *root, int first, int last, size_t cmdlen)
{
	char path[512], target[64];

	for (int pid = first; pid <= last; pid++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%d", root, pid);
		assert_int_equal(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
		snprintf(target, sizeof(target), "/bin/p%d", pid);
		assert_int_equal(symlink(target, path), 0);
		snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
		f = fopen(path, "w");
		fprintf(f, "%d (a (b) c) S %d 1 1\n", pid, pid == first ? 0 : pid - 1);
		fclose(f);
		snprintf(path, sizeof(path), "%s/%d/cmdline", root, pid);
		f = fopen(path, "w");
		for (size_t i = 0; i < cmdlen; i++)
			fputc(i % 10 == 9 ? 0 : 'x', f);
		fclose(f);
	}
}

/* Past its bounds (16 parents, 4 KiB of command line) attribution says
 * it cut them off, so that a block rule cannot be dodged by padding. */
static void test_procinfo_bounds(void **state)
{
	char root[] = "/tmp/pm-proc-XXXXXX", cmd[600];
	struct procinfo *pi;
	struct owner o;

	(void)state;
	assert_non_null(mkdtemp(root));
	fake_proc(root, 100, 130, 100);		/* 30 parents */
	fake_proc(root, 200, 205, 5000);	/* 5 parents, a long command line */
	pi = procinfo_new(root);
	memset(&o, 0, sizeof(o));
	o.pid = 130;
	procinfo_fill(pi, &o);
	assert_int_equal(o.ppid, 129);
	assert_string_equal(o.ancestors, "/bin/p129");
	assert_true(o.ancestors_cut);
	assert_false(o.cmdline_cut);
	assert_int_equal(strlen(o.cmdline), 99);	/* the trailing NUL goes */
	{
		size_t n = 0;

		for (const char *a = o.ancestors; *a; a += strlen(a) + 1)
			n++;
		assert_int_equal(n, PROCINFO_MAX_ANCESTORS);
	}
	owner_release(&o);
	memset(&o, 0, sizeof(o));
	o.pid = 205;
	procinfo_fill(pi, &o);
	assert_false(o.ancestors_cut);
	assert_true(o.cmdline_cut);
	assert_int_equal(strlen(o.cmdline), 4095);
	/* the kernel's parent wins over /proc's */
	owner_release(&o);
	memset(&o, 0, sizeof(o));
	o.pid = 205;
	o.ppid = 110;
	procinfo_fill(pi, &o);
	assert_string_equal(o.ancestors, "/bin/p110");
	assert_false(o.ancestors_cut);	/* 110 ... 100: 11 */
	owner_release(&o);
	procinfo_free(pi);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procinfo_bounds),
		cmocka_unit_test(test_procnet_line),
		cmocka_unit_test(test_procnet_fixture),
		cmocka_unit_test(test_sockdiag_messages),
		cmocka_unit_test(test_sockdiag_live),
		cmocka_unit_test(test_procfd_and_lookup),
		cmocka_unit_test(test_replaced_executable),
	};

	return RUN("attrib", tests);
}
