/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process attribution in the fallback: socket uid and inode from the
 * kernel's socket tables (sock_diag exact lookup; /proc/net as fallback),
 * then pid and executable from /proc/PID/fd through a cache of
 * inode -> (pid, fd) that is checked before each use.
 */
#ifndef PM_ATTRIB_H
#define PM_ATTRIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "decide/flow.h"

struct attrib;
struct stats;

struct attrib *attrib_new(const char *proc_root);
void attrib_free(struct attrib *a);
/*
 * Fills what fi->owner lacks, as far as it can: the socket (uid, inode)
 * from the socket tables of the flow's namespace (diag_fd: a sock_diag
 * socket there; own_ns: it is ours, so /proc/net may stand in), then the
 * process (pid, executable, parent, cgroup) from /proc.  An inbound TCP or
 * UDP flow that no socket would take gets fi->no_socket.
 */
void attrib_lookup(struct attrib *a, int diag_fd, bool own_ns, struct flow_info *fi,
		   struct stats *st);
/* Only the socket's uid and inode. */
int attrib_socket(struct attrib *a, int diag_fd, bool own_ns, struct flow_info *fi);
/* Drops the " (deleted)" the kernel shows for a replaced executable. */
void exe_strip_deleted(char *path);
/* Completes the pid and exe of an owner whose inode is known (module mode). */
int attrib_pid_from_inode(struct attrib *a, uint64_t inode, uint32_t uid_hint,
			  bool have_uid, int32_t *pid, char **exe);

/* Building blocks, exposed for the tests. */
int sockdiag_open(void);
int sockdiag_build_req(const struct flow_key *k, uint32_t seq, void *buf, size_t len);
int sockdiag_parse_reply(const void *buf, size_t len, uint32_t seq, uint32_t *uid,
			 uint64_t *inode);
int sockdiag_lookup(int fd, const struct flow_key *k, uint32_t *uid, uint64_t *inode);

struct procnet_entry {
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint8_t state;
	uint32_t uid;
	uint64_t inode;
};
/* One line of /proc/net/{tcp,udp}[6]; -1 for the header or garbage. */
int procnet_parse_line(const char *line, int family, struct procnet_entry *e);
/* Finds k in a /proc/net table file; an exact 4-tuple match wins over a
 * socket bound to the local port with a wildcard remote. */
int procnet_find(const char *path, const struct flow_key *k, uint32_t *uid, uint64_t *inode);
/* Reads "socket:[N]" links of one process; calls back for each socket. */
int procfd_scan(const char *proc_root, pid_t pid,
		void (*cb)(void *arg, uint64_t inode, pid_t pid, int fd), void *arg);

#endif
