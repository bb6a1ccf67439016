// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict listener of a namespace: registering (which switches the
 * namespace's hooks on), its keep-alive, a clean goodbye (which switches
 * them off), its death (the fail policy until another registers) and its
 * hanging (the fail policy at once until it speaks again).
 *
 * Nothing here waits for an RCU grace period: a hook that saw the old
 * listener may still be running, but it adds a flow only to a table open
 * for that listener's generation (pm_table_add()), and the listener
 * itself is freed after a grace period by a work item.
 */
#include <linux/jiffies.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "listener.h"
#include "netns.h"
#include "verdict.h"

static void pm_listener_free_work(struct work_struct *work)
{
	struct pm_listener *l = container_of(to_rcu_work(work),
					     struct pm_listener, free_work);

	put_pid_ns(l->pidns);
	put_user_ns(l->userns);
	kfree(l);
}

static struct pm_listener *pm_listener_locked(struct pm_net *pn)
{
	return rcu_dereference_protected(pn->listener,
					 lockdep_is_held(&pn->listener_lock));
}

/* Registering again, from the listener itself, is its keep-alive. */
int pm_listener_register(struct pm_net *pn, u32 portid)
{
	struct pm_listener *l;
	int err = 0;

	mutex_lock(&pn->listener_lock);
	l = pm_listener_locked(pn);
	if (l) {
		if (l->portid != portid) {
			err = -EBUSY;
		} else {
			WRITE_ONCE(l->keepalive, true);
			pm_listener_heard(pn, portid);
		}
		goto out;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l) {
		err = -ENOMEM;
		goto out;
	}
	err = pm_net_activate(pn);
	if (err) {
		kfree(l);
		goto out;
	}
	l->portid = portid;
	l->gen = ++pn->listener_gen;
	l->pidns = get_pid_ns(task_active_pid_ns(current));
	l->userns = get_user_ns(current_user_ns());
	INIT_RCU_WORK(&l->free_work, pm_listener_free_work);
	rcu_assign_pointer(pn->listener, l);

	spin_lock_bh(&pn->table.lock);
	pn->last_heard = jiffies;
	WRITE_ONCE(pn->listener_state, PM_LISTENER_ACTIVE);
	pm_table_open(&pn->table, l->gen);
	spin_unlock_bh(&pn->table.lock);
out:
	mutex_unlock(&pn->listener_lock);
	return err;
}

/*
 * Forget the listener and resolve what it left waiting.  Under
 * listener_lock, in process context.
 */
static void pm_listener_drop(struct pm_net *pn, u8 state,
			     enum pm_resolve_reason why)
{
	struct pm_listener *l;
	LIST_HEAD(left);

	l = rcu_replace_pointer(pn->listener, NULL,
				lockdep_is_held(&pn->listener_lock));
	spin_lock_bh(&pn->table.lock);
	WRITE_ONCE(pn->listener_state, state);
	pm_table_close(&pn->table);
	pm_table_take_all(&pn->table, &left);
	spin_unlock_bh(&pn->table.lock);

	pm_report_stop(&pn->report);
	/* what it asked to remember was its own: a new listener decides anew */
	pm_remember_flush(&pn->remember);
	pm_resolve_flows(pn, &left, why);
	if (l)
		queue_rcu_work(pm_wq, &l->free_work);
}

int pm_listener_unregister(struct pm_net *pn, u32 portid)
{
	struct pm_listener *l;
	int err = 0;

	mutex_lock(&pn->listener_lock);
	l = pm_listener_locked(pn);
	if (!l || l->portid != portid) {
		err = -ENOENT;
	} else {
		pm_listener_drop(pn, PM_LISTENER_NONE, PM_RESOLVE_LISTENER_LEFT);
		/* nobody watches: the namespace pays nothing any more */
		pm_net_deactivate(pn);
	}
	mutex_unlock(&pn->listener_lock);
	return err;
}

/* A listener's socket closed while registered: it died. */
void pm_listener_released(struct net *net, u32 portid)
{
	struct pm_net *pn = pm_pernet(net);
	struct pm_listener *l;

	/* Every netlink socket in the system closes through here: be quick. */
	if (!pm_listener_is(pn, portid))
		return;

	mutex_lock(&pn->listener_lock);
	l = pm_listener_locked(pn);
	if (l && l->portid == portid) {
		pm_stat_inc(pn, PM_STAT_LISTENER_LOST);
		pm_listener_drop(pn, PM_LISTENER_LOST, PM_RESOLVE_LISTENER_LOST);
	}
	mutex_unlock(&pn->listener_lock);
}

/* At unload: the listener goes, its flows by the fail policy. */
void pm_listener_drop_all(struct pm_net *pn)
{
	mutex_lock(&pn->listener_lock);
	if (pm_listener_locked(pn))
		pm_listener_drop(pn, PM_LISTENER_NONE, PM_RESOLVE_SHUTDOWN);
	mutex_unlock(&pn->listener_lock);
}

/* Lockless: may be asked by anybody, costs nothing. */
bool pm_listener_is(struct pm_net *pn, u32 portid)
{
	const struct pm_listener *l;
	bool is;

	rcu_read_lock();
	l = rcu_dereference(pn->listener);
	is = l && l->portid == portid;
	rcu_read_unlock();
	return is;
}

u32 pm_listener_portid(struct pm_net *pn)
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

/*
 * A command from the listener's socket shows it alive: a silent one is
 * back.  Another socket's command changes nothing and takes no lock a
 * hook or the listener needs.
 */
void pm_listener_heard(struct pm_net *pn, u32 portid)
{
	if (!pm_listener_is(pn, portid))
		return;
	spin_lock_bh(&pn->table.lock);
	pn->last_heard = jiffies;
	/* only from silent: a listener dropped meanwhile stays dropped */
	if (pn->listener_state == PM_LISTENER_SILENT) {
		WRITE_ONCE(pn->listener_state, PM_LISTENER_ACTIVE);
		pn->table.open = true;
	}
	spin_unlock_bh(&pn->table.lock);
}

/**
 * pm_listener_hangs - is the listener hung, judging by flows that timed out?
 * @pn: the namespace
 * @timed_out: flows taken from the table for their timeout
 * @left: gets every other waiting flow when it is
 *
 * A flow timed out and the listener, one that sends keep-alives, has sent
 * nothing since it was announced.  Left alone, every new flow would wait
 * out the whole timeout, and a fail-open flow is asked again at its next
 * packet: the network would crawl.  Until the listener speaks again
 * (pm_listener_heard()), the fail policy decides at once.  A listener
 * that never sent a keep-alive is never judged so: its silence says
 * nothing.  Return: true when it is taken as hung.
 */
bool pm_listener_hangs(struct pm_net *pn, const struct list_head *timed_out,
		       struct list_head *left)
{
	const struct pm_listener *l;
	bool hung;

	rcu_read_lock();
	l = rcu_dereference(pn->listener);
	spin_lock_bh(&pn->table.lock);
	hung = l && READ_ONCE(l->keepalive) &&
	       pn->listener_state == PM_LISTENER_ACTIVE &&
	       pm_flows_unanswered_since(timed_out, pn->last_heard);
	if (hung) {
		WRITE_ONCE(pn->listener_state, PM_LISTENER_SILENT);
		pm_table_close(&pn->table);
		pm_table_take_all(&pn->table, left);
	}
	spin_unlock_bh(&pn->table.lock);
	rcu_read_unlock();
	if (hung)
		pm_stat_inc(pn, PM_STAT_LISTENER_SILENT);
	return hung;
}
