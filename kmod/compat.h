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

#endif /* _PM_COMPAT_H */
