// SPDX-License-Identifier: GPL-2.0
/*
 * What the headers cannot tell about the running kernel, asked of it once
 * at load (see compat.h).
 */
#include <linux/skbuff.h>
#include <net/net_namespace.h>

#include "compat.h"

bool pm_ct_update_says_verdict;

/*
 * nf_ct_hook->update() on a packet with no conntrack entry answers "go
 * on": 0 where it speaks errno, NF_ACCEPT (1) where it speaks verdicts.
 */
int pm_compat_probe(void)
{
	const struct nf_ct_hook *hook;
	struct sk_buff *skb;
	int ret = 0;

	skb = alloc_skb(0, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	rcu_read_lock();
	hook = rcu_dereference(nf_ct_hook);
	if (hook)
		ret = hook->update(&init_net, skb);
	rcu_read_unlock();
	kfree_skb(skb);
	pm_ct_update_says_verdict = ret == NF_ACCEPT;
	return 0;
}
