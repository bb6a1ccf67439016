// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the hooks, conntrack kept on, the pending
 * table, the listener, settings and counters.  A namespace with no
 * listener is left alone; one whose listener died, or hangs, follows the
 * fail policy.
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack.h>

#include "hooks.h"
#include "netns.h"
#include "params.h"
#include "verdict.h"

/* Set at unload: the hooks stop taking new flows. */
bool pm_unloading;

static unsigned int pm_net_id __read_mostly;

/* One per namespace, holding what the registered hooks point to. */
struct pm_net_hooks {
	struct pm_net pn;
	struct nf_hook_ops ops[PM_NR_HOOKS];
};

struct pm_net *pm_net(const struct net *net)
{
	return &((struct pm_net_hooks *)net_generic(net, pm_net_id))->pn;
}

static struct nf_hook_ops *pm_net_ops(struct pm_net *pn)
{
	return container_of(pn, struct pm_net_hooks, pn)->ops;
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
 * that it cannot race with the table being closed and the work cancelled.
 */
void pm_net_kick_expiry(struct pm_net *pn, unsigned long when)
{
	long delay = (long)(when - jiffies);

	lockdep_assert_held(&pn->table.lock);
	if (pn->table.closed)
		return;
	if (delay <= 0)
		mod_delayed_work(system_wq, &pn->expiry, 0);
	else
		queue_delayed_work(system_wq, &pn->expiry, delay);
}

/*
 * A flow timed out and the listener, one that sends keep-alives, has sent
 * nothing since it was announced: the listener hangs.  Left alone, every
 * new flow would wait out the whole timeout, and a fail-open flow is
 * asked again at its next packet: the network would crawl.  Until the
 * listener speaks again (pm_net_heard()), the fail policy decides at once.
 * A listener that never sent a keep-alive is never judged so: its silence
 * says nothing.
 */
static bool pm_net_hung(struct pm_net *pn, const struct list_head *timed_out)
{
	const struct pm_listener *l;
	bool hung;

	mutex_lock(&pn->listener_lock);
	l = rcu_dereference_protected(pn->listener,
				      lockdep_is_held(&pn->listener_lock));
	hung = l && l->keepalive &&
	       pn->listener_state == PM_LISTENER_ACTIVE &&
	       pm_flows_unanswered_since(timed_out, pn->last_heard);
	if (hung) {
		WRITE_ONCE(pn->listener_state, PM_LISTENER_SILENT);
		pm_stat_inc(pn, PM_STAT_LISTENER_SILENT);
	}
	mutex_unlock(&pn->listener_lock);
	return hung;
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

	if (!list_empty(&due) && pm_net_hung(pn, &due)) {
		/* no hook still adds a flow for the listener it saw active */
		synchronize_rcu();
		spin_lock_bh(&pn->table.lock);
		pm_table_take_all(&pn->table, &rest);
		spin_unlock_bh(&pn->table.lock);
	}
	pm_resolve_flows(pn, &due, PM_RESOLVE_TIMEOUT);
	pm_resolve_flows(pn, &rest, PM_RESOLVE_LISTENER_SILENT);
}

u32 pm_net_listener_portid(struct pm_net *pn)
{
	const struct pm_listener *l;
	u32 portid = 0;

	rcu_read_lock();
	l = rcu_dereference(pn->listener);
	if (l)
		portid = l->portid;
	rcu_read_unlock();
	return portid;
}

static void pm_net_heard_locked(struct pm_net *pn)
{
	lockdep_assert_held(&pn->listener_lock);
	pn->last_heard = jiffies;
	if (pn->listener_state == PM_LISTENER_SILENT)
		WRITE_ONCE(pn->listener_state, PM_LISTENER_ACTIVE);
}

/*
 * A command from the listener's socket shows it alive: a silent one is
 * back.  Under the lock, so that it cannot slip between pm_net_hung()'s
 * look at last_heard and its verdict (commands are serialised by genl
 * anyway: the lock costs nothing more).
 */
void pm_net_heard(struct pm_net *pn, u32 portid)
{
	const struct pm_listener *l;

	mutex_lock(&pn->listener_lock);
	l = rcu_dereference_protected(pn->listener,
				      lockdep_is_held(&pn->listener_lock));
	if (l && l->portid == portid)
		pm_net_heard_locked(pn);
	mutex_unlock(&pn->listener_lock);
}

/* Registering again, from the listener itself, is its keep-alive. */
int pm_net_register(struct pm_net *pn, u32 portid)
{
	struct pm_listener *l;
	int err = 0;

	mutex_lock(&pn->listener_lock);
	l = rcu_dereference_protected(pn->listener,
				      lockdep_is_held(&pn->listener_lock));
	if (l) {
		if (l->portid != portid) {
			err = -EBUSY;
		} else {
			l->keepalive = true;
			pm_net_heard_locked(pn);
		}
		goto out;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	l->portid = portid;
	l->pidns = get_pid_ns(task_active_pid_ns(current));
	pn->last_heard = jiffies;
	rcu_assign_pointer(pn->listener, l);
	WRITE_ONCE(pn->listener_state, PM_LISTENER_ACTIVE);
out:
	mutex_unlock(&pn->listener_lock);
	return err;
}

/*
 * Forget the listener and resolve what it left pending.  After the grace
 * period no hook can still be adding a flow for it.
 */
static void pm_net_drop_listener(struct pm_net *pn, u8 state,
				 enum pm_resolve_reason why)
{
	struct pm_listener *l;
	LIST_HEAD(left);

	l = rcu_replace_pointer(pn->listener, NULL,
				lockdep_is_held(&pn->listener_lock));
	WRITE_ONCE(pn->listener_state, state);
	synchronize_rcu();
	pm_report_stop(&pn->report);
	/* what it asked to remember was its own: a new listener decides anew */
	pm_remember_flush(&pn->remember);
	if (l) {
		put_pid_ns(l->pidns);
		kfree(l);
	}

	spin_lock_bh(&pn->table.lock);
	pm_table_take_all(&pn->table, &left);
	spin_unlock_bh(&pn->table.lock);
	pm_resolve_flows(pn, &left, why);
}

int pm_net_unregister(struct pm_net *pn, u32 portid)
{
	struct pm_listener *l;
	int err = 0;

	mutex_lock(&pn->listener_lock);
	l = rcu_dereference_protected(pn->listener,
				      lockdep_is_held(&pn->listener_lock));
	if (!l || l->portid != portid)
		err = -ENOENT;
	else
		pm_net_drop_listener(pn, PM_LISTENER_NONE,
				     PM_RESOLVE_LISTENER_LEFT);
	mutex_unlock(&pn->listener_lock);
	return err;
}

void pm_net_listener_released(struct net *net, u32 portid)
{
	struct pm_net *pn = pm_net(net);
	struct pm_listener *l;

	/* Every netlink socket in the system closes through here: be quick. */
	if (pm_net_listener_portid(pn) != portid)
		return;

	mutex_lock(&pn->listener_lock);
	l = rcu_dereference_protected(pn->listener,
				      lockdep_is_held(&pn->listener_lock));
	if (l && l->portid == portid) {
		pm_stat_inc(pn, PM_STAT_LISTENER_LOST);
		pm_net_drop_listener(pn, PM_LISTENER_LOST,
				     PM_RESOLVE_LISTENER_LOST);
	}
	mutex_unlock(&pn->listener_lock);
}

/* Packets held for a device that goes away would pin it forever. */
void pm_net_dev_down(struct net_device *dev)
{
	struct pm_net *pn = pm_net(dev_net(dev));
	LIST_HEAD(gone);

	spin_lock_bh(&pn->table.lock);
	pm_table_take_dev(&pn->table, dev, &gone);
	spin_unlock_bh(&pn->table.lock);
	pm_resolve_flows(pn, &gone, PM_RESOLVE_DEV_DOWN);
}

static int pm_net_init(struct net *net)
{
	struct pm_net *pn = pm_net(net);
	int err;

	pn->net = net;
	pm_table_init(&pn->table);
	pm_remember_init(&pn->remember);
	pm_report_init(&pn->report, net);
	pn->config = pm_default_config;
	mutex_init(&pn->listener_lock);
	RCU_INIT_POINTER(pn->listener, NULL);
	pn->listener_state = PM_LISTENER_NONE;
	INIT_DELAYED_WORK(&pn->expiry, pm_net_expiry_work);

	pn->stats = alloc_percpu(struct pm_stats);
	if (!pn->stats)
		return -ENOMEM;

	/* Every packet must have its conntrack entry when we see it. */
	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		goto err_stats;

	pm_hooks_fill(pm_net_ops(pn), pn);
	err = nf_register_net_hooks(net, pm_net_ops(pn), PM_NR_HOOKS);
	if (err)
		goto err_ct;
	return 0;

err_ct:
	nf_ct_netns_put(net, NFPROTO_INET);
err_stats:
	free_percpu(pn->stats);
	return err;
}

/*
 * Before the namespace's devices go: resolve every held packet (by the
 * fail policy at unload, dropped when the namespace dies) while our hook
 * entry still exists to continue from.
 */
static void pm_net_pre_exit(struct net *net)
{
	struct pm_net *pn = pm_net(net);
	LIST_HEAD(left);

	spin_lock_bh(&pn->table.lock);
	pn->table.closed = true;
	pm_table_take_all(&pn->table, &left);
	spin_unlock_bh(&pn->table.lock);
	cancel_delayed_work_sync(&pn->expiry);
	pm_resolve_flows(pn, &left, PM_RESOLVE_SHUTDOWN);
}

static void pm_net_exit(struct net *net)
{
	struct pm_net *pn = pm_net(net);
	struct pm_listener *l;

	nf_unregister_net_hooks(net, pm_net_ops(pn), PM_NR_HOOKS);
	nf_ct_netns_put(net, NFPROTO_INET);
	pm_report_stop(&pn->report);	/* the hooks are gone: no more reports */
	pm_remember_flush(&pn->remember);

	/* No hook runs any more (unregistering waited for them). */
	l = rcu_dereference_protected(pn->listener, true);
	if (l) {
		put_pid_ns(l->pidns);
		kfree(l);
	}
	free_percpu(pn->stats);
}

static struct pernet_operations pm_net_ops_pernet = {
	.init = pm_net_init,
	.pre_exit = pm_net_pre_exit,
	.exit = pm_net_exit,
	.id = &pm_net_id,
	.size = sizeof(struct pm_net_hooks),
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

	err = register_pernet_subsys(&pm_net_ops_pernet);
	if (err)
		return err;
	err = register_netdevice_notifier(&pm_netdev_notifier);
	if (err)
		unregister_pernet_subsys(&pm_net_ops_pernet);
	return err;
}

void pm_netns_exit(void)
{
	unregister_netdevice_notifier(&pm_netdev_notifier);
	unregister_pernet_subsys(&pm_net_ops_pernet);
}
