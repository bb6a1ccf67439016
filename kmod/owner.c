// SPDX-License-Identifier: GPL-2.0
/*
 * Who owns a flow.  The socket gives uid, gid and inode.  The process is
 * named only where the packet is sent from the owning task's own context
 * (a connect() or sendmsg() call): then current is the sender, and its
 * pid, comm and executable are read at that instant, so a process that
 * sends one datagram and exits is still named.  Nothing here sleeps or
 * walks the process table.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/kdev_t.h>
#include <linux/net.h>
#include <linux/netfilter.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <net/sock.h>
#include <net/netfilter/nf_socket.h>

#include "compat.h"
#include "owner.h"

void pm_owner_from_sock(struct sock *sk, struct user_namespace *ns,
			struct pm_owner *o)
{
	struct socket *sock;

	if (!sk || !sk_fullsock(sk))
		return;

	/* sk_socket and its file go away under this lock on close */
	read_lock_bh(&sk->sk_callback_lock);
	sock = sk->sk_socket;
	if (sock && sock->file) {
		o->uid = from_kuid_munged(ns, sk->sk_uid);
		o->gid = from_kgid_munged(ns, sock->file->f_cred->fsgid);
		o->inode = SOCK_INODE(sock)->i_ino;
		o->flags |= PM_OWNER_SOCKET;
	}
	read_unlock_bh(&sk->sk_callback_lock);
#ifdef CONFIG_SOCK_CGROUP_DATA
	/* the cgroup the socket was created in: a unit, a container, an app */
	o->cgroup_id = cgroup_id(sock_cgroup_ptr(&sk->sk_cgrp_data));
	o->flags |= PM_OWNER_CGROUP;
#endif
}

/*
 * True when current is the task that sends the packet: process context
 * (a softirq may run on behalf of anybody) and a user task.
 */
bool pm_owner_in_sender_context(void)
{
	return in_task() && current->mm && !(current->flags & PF_KTHREAD);
}

void pm_owner_from_current(struct pid_namespace *ns, struct pm_owner *o)
{
	o->pid = task_pid_nr_ns(current, ns);
	o->tgid = task_tgid_nr_ns(current, ns);
	if (!o->pid)	/* not visible from the listener's namespace */
		return;
	rcu_read_lock();
	o->ppid = task_tgid_nr_ns(rcu_dereference(current->real_parent), ns);
	rcu_read_unlock();
	strscpy(o->comm, current->comm, sizeof(o->comm));
	o->flags |= PM_OWNER_TASK;
}

/**
 * pm_owner_exe - the executable of current: its identity, and its path
 * @o: gets the executable's inode and device
 * @buf: scratch space for the path, or NULL for none
 * @buflen: its size
 *
 * Return: a pointer into @buf; NULL when there is no path to tell;
 * ERR_PTR(-ENAMETOOLONG) when @buf is too small for it.
 */
char *pm_owner_exe(struct pm_owner *o, char *buf, int buflen)
{
	struct inode *inode;
	struct file *exe;
	char *path = NULL;

	if (!current->mm)
		return NULL;
	exe = pm_get_mm_exe_file(current->mm);
	if (!exe)
		return NULL;
	inode = file_inode(exe);
	o->exe.ino = inode->i_ino;
	o->exe.dev = new_encode_dev(inode->i_sb->s_dev);
	o->exe.generation = inode->i_generation;
	o->exe.ctime_ns = ({
		struct timespec64 ts = inode_get_ctime(inode);

		timespec64_to_ns(&ts);
	});
	if (buf) {
		path = d_path(&exe->f_path, buf, buflen);
		if (IS_ERR(path) && PTR_ERR(path) != -ENAMETOOLONG)
			path = NULL;
	}
	fput(exe);
	return path;
}

/*
 * The local socket an incoming packet is for: established, or the
 * listener of a new connection.  Returns a reference (sock_gen_put()).
 */
struct sock *pm_owner_lookup_local(struct net *net, const struct sk_buff *skb,
				   const struct net_device *in, u8 nfproto)
{
	switch (nfproto) {
	case NFPROTO_IPV4:
		return nf_sk_lookup_slow_v4(net, skb, in);
#if IS_ENABLED(CONFIG_IPV6)
	case NFPROTO_IPV6:
		return nf_sk_lookup_slow_v6(net, skb, in);
#endif
	default:
		return NULL;
	}
}
