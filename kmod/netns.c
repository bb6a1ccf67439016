// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: settings and counters from the start; the
 * hooks, conntrack and the tables only once a listener registers, so that
 * a namespace nobody watches (every container on the machine) pays
 * nothing.  The timeouts of waiting flows, devices that go away, and the
 * namespace's own end.
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack.h>

#include "hooks.h"
#include "listener.h"
#include "netns.h"
#include "params.h"
#include "verdict.h"

/* Set at unload: the hooks stop taking new flows. */
bool pm_unloading;

/* Expiry, report batches and freeing listeners: drained at unload. */
struct workqueue_struct *pm_wq;

static unsigned int pm_net_id __read_mostly;

struct pm_net *pm_pernet(const struct net *net)
{
	return net_generic(net, pm_net_id);
}

void pm_stats_sum(struct pm_net *pn, struct pm_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct pm_stats *s = per_cpu_ptr(pn->stats, cpu);

		for (i = 0; i < PM_STAT_NR; i++)
			sum->c[i] += READ_ONCE(s->c[i]);
	}
}

void pm_config_limits(const struct pm_net *pn, struct pm_limits *l)
{
	l->max_flows = READ_ONCE(pn->config.max_pending);
	l->max_held = READ_ONCE(pn->config.max_held);
	l->max_bytes = READ_ONCE(pm_max_held_bytes);
	l->timeout = msecs_to_jiffies(READ_ONCE(pn->config.timeout_ms));
}

/*
 * Make the expiry work run by @when.  Called with the table lock held, so
 * that it cannot race with the namespace's end cancelling the work.
 */
void pm_net_kick_expiry(struct pm_net *pn, unsigned long when)
{
	long delay = (long)(when - jiffies);

	lockdep_assert_held(&pn->table.lock);
	if (!pn->table.open && !pn->table.waiting)
		return;
	if (delay <= 0)
		mod_delayed_work(pm_wq, &pn->expiry, 0);
	else
		queue_delayed_work(pm_wq, &pn->expiry, delay);
}

static void pm_net_expiry_work(struct work_struct *work)
{
	struct pm_net *pn = container_of(to_delayed_work(work), struct pm_net,
					 expiry);
	unsigned long next;
	LIST_HEAD(due);
	LIST_HEAD(rest);

	spin_lock_bh(&pn->table.lock);
	pm_table_take_expired(&pn->table, jiffies, &due, &next);
	if (next)
		pm_net_kick_expiry(pn, next);
	spin_unlock_bh(&pn->table.lock);

	if (!list_empty(&due))
		pm_listener_hangs(pn, &due, &rest);
	pm_resolve_flows(pn, &due, PM_RESOLVE_TIMEOUT);
	pm_resolve_flows(pn, &rest, PM_RESOLVE_LISTENER_SILENT);
}

/**
 * pm_net_activate - switch the namespace's hooks and conntrack on
 * @pn: the namespace, its listener_lock held
 *
 * Process context.  Return: 0 or an errno; nothing is left half on.
 */
int pm_net_activate(struct pm_net *pn)
{
	int err;

	lockdep_assert_held(&pn->listener_lock);
	if (pn->active)
		return 0;
	err = pm_table_resize(&pn->table, READ_ONCE(pn->config.max_pending));
	if (err)
		return err;
	/* Every packet must have its conntrack entry when we see it. */
	err = nf_ct_netns_get(pn->net, NFPROTO_INET);
	if (err)
		return err;
	pm_hooks_fill(pn->ops, pn);
	err = nf_register_net_hooks(pn->net, pn->ops, PM_NR_HOOKS);
	if (err)
		goto err_ct;
	pn->active = true;
	err = pm_reroute_activate(pn);
	if (err)
		goto err_hooks;
	return 0;

err_hooks:
	pn->active = false;
	nf_unregister_net_hooks(pn->net, pn->ops, PM_NR_HOOKS);
err_ct:
	nf_ct_netns_put(pn->net, NFPROTO_INET);
	return err;
}

/*
 * Switch them off again.  A hook still running on another CPU finds the
 * table closed and adds nothing; pm_net_pre_exit() and module unload
 * wait for it before anything it uses goes.
 */
void pm_net_deactivate(struct pm_net *pn)
{
	lockdep_assert_held(&pn->listener_lock);
	if (!pn->active)
		return;
	pn->active = false;
	pm_reroute_deactivate(pn);
	nf_unregister_net_hooks(pn->net, pn->ops, PM_NR_HOOKS);
	nf_ct_netns_put(pn->net, NFPROTO_INET);
}

/* Packets held for a device that goes away would pin it forever. */
void pm_net_dev_down(struct net_device *dev)
{
	struct pm_net *pn = pm_pernet(dev_net(dev));
	LIST_HEAD(gone);

	spin_lock_bh(&pn->table.lock);
	pm_table_take_dev(&pn->table, dev, &gone);
	spin_unlock_bh(&pn->table.lock);
	pm_resolve_flows(pn, &gone, PM_RESOLVE_DEV_DOWN);
}

static int pm_net_init(struct net *net)
{
	struct pm_net *pn = pm_pernet(net);

	pn->net = net;
	pm_table_init(&pn->table, 0);
	pm_remember_init(&pn->remember);
	pm_report_init(&pn->report, net);
	pn->config = pm_default_config;
	mutex_init(&pn->listener_lock);
	RCU_INIT_POINTER(pn->listener, NULL);
	RCU_INIT_POINTER(pn->reroutes, NULL);
	pn->listener_state = PM_LISTENER_NONE;
	INIT_DELAYED_WORK(&pn->expiry, pm_net_expiry_work);

	pn->stats = alloc_percpu(struct pm_stats);
	return pn->stats ? 0 : -ENOMEM;
}

/*
 * Before the namespace's devices go, and at unload: resolve every held
 * packet (by the fail policy at unload, dropped when the namespace dies)
 * while our hook entries still exist to continue from, then unregister
 * them.  The netns core waits for an RCU grace period between pre_exit
 * and exit, so no hook of ours still runs when pm_net_exit() frees what
 * they use (nf_unregister_net_hooks() does not wait for them).
 */
static void pm_net_pre_exit(struct net *net)
{
	struct pm_net *pn = pm_pernet(net);
	LIST_HEAD(left);

	pm_listener_drop_all(pn);
	spin_lock_bh(&pn->table.lock);
	pm_table_close(&pn->table);
	pm_table_take_all(&pn->table, &left);
	spin_unlock_bh(&pn->table.lock);
	cancel_delayed_work_sync(&pn->expiry);
	pm_resolve_flows(pn, &left, PM_RESOLVE_SHUTDOWN);

	mutex_lock(&pn->listener_lock);
	pm_net_deactivate(pn);
	mutex_unlock(&pn->listener_lock);
}

static void pm_net_exit(struct net *net)
{
	struct pm_net *pn = pm_pernet(net);

	cancel_delayed_work_sync(&pn->expiry);
	pm_report_stop(&pn->report);
	pm_remember_destroy(&pn->remember);
	pm_reroute_destroy(pn);
	pm_table_destroy(&pn->table);
	free_percpu(pn->stats);
}

static struct pernet_operations pm_net_ops = {
	.init = pm_net_init,
	.pre_exit = pm_net_pre_exit,
	.exit = pm_net_exit,
	.id = &pm_net_id,
	.size = sizeof(struct pm_net),
};

static int pm_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	/*
	 * Unregistering the notifier replays a DOWN for every device: at
	 * unload the held packets are resolved by policy instead (pre_exit).
	 */
	if (READ_ONCE(pm_unloading))
		return NOTIFY_DONE;
	if (event == NETDEV_DOWN || event == NETDEV_UNREGISTER)
		pm_net_dev_down(dev);
	return NOTIFY_DONE;
}

static struct notifier_block pm_netdev_notifier = {
	.notifier_call = pm_netdev_event,
};

int pm_netns_init(void)
{
	int err;

	pm_wq = alloc_workqueue("portmaster", 0, 0);
	if (!pm_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&pm_net_ops);
	if (err)
		goto err_wq;
	err = register_netdevice_notifier(&pm_netdev_notifier);
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&pm_net_ops);
err_wq:
	destroy_workqueue(pm_wq);
	return err;
}

void pm_netns_exit(void)
{
	unregister_netdevice_notifier(&pm_netdev_notifier);
	unregister_pernet_subsys(&pm_net_ops);
	/* listeners are freed after a grace period: let those run */
	rcu_barrier();
	destroy_workqueue(pm_wq);
}
