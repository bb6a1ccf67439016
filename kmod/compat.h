/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels portmaster.ko is built for (Debian's
 * 6.1 and 6.12), in one place, so that the rest of the code has no
 * version checks.
 */
#ifndef _PM_COMPAT_H
#define _PM_COMPAT_H

#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>

/*
 * get_mm_exe_file() is not exported.  The executable is reached through
 * mm->exe_file under RCU; how a reference is taken safely changed when
 * struct file became SLAB_TYPESAFE_BY_RCU (6.7): get_file_rcu() then
 * took the __rcu pointer itself.  Kbuild tests the header for that form
 * (PM_GET_FILE_RCU_PTR) rather than trusting a version number, which a
 * distribution's backports would make wrong.
 */
static inline struct file *pm_get_mm_exe_file(struct mm_struct *mm)
{
	struct file *exe;

	rcu_read_lock();
#ifdef PM_GET_FILE_RCU_PTR
	exe = get_file_rcu(&mm->exe_file);
#else
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
#endif
	rcu_read_unlock();
	return exe;
}

enum pm_ct_update {
	PM_CT_GO,	/* carry on with the packet */
	PM_CT_DROP,
	PM_CT_STOLEN,	/* conntrack took the packet: do not touch it */
};

extern bool pm_ct_update_says_verdict;
int pm_compat_probe(void);

/*
 * What nfnetlink_queue does to a held packet before it goes on: let
 * conntrack bring its entry up to date (on 6.1, join a later packet's
 * unconfirmed entry to the confirmed one, redoing its NAT; on both,
 * confirm for a userspace helper).  nf_ct_hook->update() answered 0 or
 * a negative errno until 6.7, a netfilter verdict since, with the same
 * prototype; pm_compat_probe() tells which at load.
 * Called under rcu_read_lock().
 */
static inline enum pm_ct_update pm_ct_update(struct net *net,
					     struct sk_buff *skb)
{
	const struct nf_ct_hook *hook = rcu_dereference(nf_ct_hook);
	int ret;

	if (!hook)
		return PM_CT_GO;
	ret = hook->update(net, skb);
	if (!pm_ct_update_says_verdict)
		return ret < 0 ? PM_CT_DROP : PM_CT_GO;
	switch (ret & NF_VERDICT_MASK) {
	case NF_ACCEPT:
		return PM_CT_GO;
	case NF_STOLEN:
		return PM_CT_STOLEN;
	default:
		return PM_CT_DROP;
	}
}

#endif /* _PM_COMPAT_H */
