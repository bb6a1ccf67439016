/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_OWNER_H
#define _PM_OWNER_H

#include <linux/types.h>
#include <linux/sched.h>

struct sock;
struct sk_buff;
struct net;
struct net_device;
struct pid_namespace;
struct user_namespace;

#define PM_OWNER_SOCKET	BIT(0)	/* uid, gid, inode */
#define PM_OWNER_TASK	BIT(1)	/* pid, tgid, ppid, comm */
#define PM_OWNER_CGROUP	BIT(2)	/* cgroup_id */

/*
 * An executable, told apart from one that replaced it: a package upgrade
 * may give the new file the old one's inode number, or rewrite it in
 * place, but not with the same generation and change time.
 */
struct pm_exe_id {
	u64 ino;
	u64 ctime_ns;
	u32 dev;
	u32 generation;
};

/* The local end of a flow: its socket, and the task that sent on it. */
struct pm_owner {
	u32 flags;
	u32 uid;
	u32 gid;
	u64 inode;
	u64 cgroup_id;
	u32 pid;
	u32 tgid;
	u32 ppid;
	char comm[TASK_COMM_LEN];
	struct pm_exe_id exe;	/* with PM_OWNER_TASK; zero when unknown */
};

void pm_owner_from_sock(struct sock *sk, struct user_namespace *ns,
			struct pm_owner *o);
bool pm_owner_in_sender_context(void);
void pm_owner_from_current(struct pid_namespace *ns, struct pm_owner *o);
char *pm_owner_exe(struct pm_owner *o, char *buf, int buflen);
struct sock *pm_owner_lookup_local(struct net *net, const struct sk_buff *skb,
				   const struct net_device *in, u8 nfproto);

#endif /* _PM_OWNER_H */
