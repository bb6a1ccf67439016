// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "portmaster": registration of the verdict
 * listener, flow events, verdicts, settings and statistics.  The protocol
 * is documented in include/uapi/linux/portmaster.h.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack.h>

#include "flow_attrs.h"
#include "listener.h"
#include "mark.h"
#include "netlink.h"
#include "netns.h"
#include "pending.h"
#include "params.h"
#include "policy.h"
#include "remember.h"
#include "verdict.h"

static struct genl_family pm_family;

/* The room one FLOW_NEW message takes in an skb. */
size_t pm_netlink_flow_msg_size(const char *exe)
{
	return nlmsg_total_size(GENL_HDRLEN + pm_flow_attrs_size(exe));
}

/**
 * pm_netlink_flow_event - a PM_CMD_FLOW_NEW message for a new flow
 * @f: the flow
 * @exe: its executable, or NULL
 * @mark: the remembered verdict that decided it, or 0 for a question
 * @gfp: allocation flags
 * @id_slot: set to where the flow id goes, so that it can be written
 *	once the pending table has given it
 */
struct sk_buff *pm_netlink_flow_event(const struct pm_flow *f, const char *exe,
				      u32 mark, gfp_t gfp, u64 **id_slot)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(pm_flow_attrs_size(exe), gfp);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, 0, 0, &pm_family, 0, PM_CMD_FLOW_NEW);
	if (!hdr || pm_flow_attrs_put(msg, f, exe, mark, id_slot)) {
		nlmsg_free(msg);
		return NULL;
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/* One more FLOW_NEW message in @skb; -EMSGSIZE (and nothing) if no room. */
int pm_netlink_put_flow_msg(struct sk_buff *skb, const struct pm_flow *f,
			    const char *exe, u32 mark)
{
	void *hdr = genlmsg_put(skb, 0, 0, &pm_family, 0, PM_CMD_FLOW_NEW);

	if (!hdr)
		return -EMSGSIZE;
	if (pm_flow_attrs_put(skb, f, exe, mark, NULL)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Never blocks: a listener that cannot keep up gets an error, not a wait. */
int pm_netlink_unicast(struct net *net, struct sk_buff *msg, u32 portid)
{
	return genlmsg_unicast(net, msg, portid);
}

static struct pm_net *pm_nl_net(struct genl_info *info)
{
	return pm_pernet(genl_info_net(info));
}

static int pm_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	int err = pm_listener_register(pm_nl_net(info), info->snd_portid);

	if (err == -EBUSY)
		NL_SET_ERR_MSG(info->extack,
			       "another listener is registered in this namespace");
	return err;
}

static int pm_nl_unregister(struct sk_buff *skb, struct genl_info *info)
{
	int err = pm_listener_unregister(pm_nl_net(info), info->snd_portid);

	if (err == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "this socket is not the listener");
	return err;
}

/* Remember the verdict for flows like @f, if the listener asked. */
static void pm_nl_remember(struct pm_net *pn, const struct pm_flow *f,
			   u32 mark, const struct nlattr *attr)
{
	struct pm_remember_key key;

	if (!attr)
		return;
	pm_remember_key(f, &key);
	/* a verdict not remembered only costs later questions */
	pm_remember_add(&pn->remember, &key, mark, jiffies,
			jiffies + msecs_to_jiffies(nla_get_u32(attr)),
			READ_ONCE(pm_max_remembered), f->exe);
}

/*
 * A verdict binds the flow to its listener's socket, as a queue is bound
 * to its peer: another socket, privileged or not, cannot answer for it.
 */
static int pm_nl_verdict(struct sk_buff *skb, struct genl_info *info)
{
	struct pm_net *pn = pm_nl_net(info);
	struct pm_verdict v;
	struct pm_flow *f;
	u32 mark;
	u64 id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, PM_A_FLOW_ID) ||
	    GENL_REQ_ATTR_CHECK(info, PM_A_MARK))
		return -EINVAL;
	id = nla_get_u64(info->attrs[PM_A_FLOW_ID]);
	mark = nla_get_u32(info->attrs[PM_A_MARK]);
	err = pm_policy_check_mark(mark, info->extack);
	if (err)
		return err;
	pm_verdict_from_mark(mark, &v);
	if (info->attrs[PM_A_REMEMBER_MS] && !v.permanent) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PM_A_REMEMBER_MS],
				    "only a permanent verdict can be remembered");
		return -EINVAL;
	}
	if (!pm_listener_is(pn, info->snd_portid)) {
		NL_SET_ERR_MSG(info->extack,
			       "only the registered listener gives verdicts");
		return -EPERM;
	}
	pm_listener_heard(pn, info->snd_portid);

	spin_lock_bh(&pn->table.lock);
	f = pm_table_find_id(&pn->table, id);
	if (f)	/* no other verdict, timeout or dump finds it now */
		pm_table_take(&pn->table, f);
	spin_unlock_bh(&pn->table.lock);
	if (!f) {
		NL_SET_ERR_MSG(info->extack, "no such pending flow");
		return -ENOENT;
	}
	pm_nl_remember(pn, f, mark, info->attrs[PM_A_REMEMBER_MS]);
	pm_stat_inc(pn, PM_STAT_VERDICTS + pm_verdict_index(mark));
	pm_carry_out(pn, f, &v);
	return 0;
}

/* Where a dump of the waiting flows is: a place in their id order. */
static int pm_nl_flows_start(struct netlink_callback *cb)
{
	struct pm_net *pn = pm_pernet(sock_net(cb->skb->sk));
	struct pm_order *cursor;

	cursor = kzalloc(sizeof(*cursor), GFP_KERNEL);
	if (!cursor)
		return -ENOMEM;
	spin_lock_bh(&pn->table.lock);
	pm_table_cursor_start(&pn->table, cursor);
	spin_unlock_bh(&pn->table.lock);
	cb->args[0] = (long)cursor;
	return 0;
}

static int pm_nl_put_waiting(struct sk_buff *skb, struct netlink_callback *cb,
			     const struct pm_flow *f)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &pm_family, NLM_F_MULTI, PM_CMD_GET_FLOWS);
	if (!hdr)
		return -EMSGSIZE;
	if (pm_flow_attrs_put(skb, f, f->exe, 0, NULL) ||
	    nla_put_u32(skb, PM_A_AGE_MS,
			jiffies_to_msecs(jiffies - f->created)) ||
	    nla_put_u32(skb, PM_A_HELD, f->held)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Each flow is visited once: the cursor stays after the last one sent. */
static int pm_nl_flows_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pm_net *pn = pm_pernet(sock_net(skb->sk));
	struct pm_order *cursor = (struct pm_order *)cb->args[0];
	struct pm_flow *f;

	spin_lock_bh(&pn->table.lock);
	while ((f = pm_table_cursor_peek(&pn->table, cursor)) &&
	       !pm_nl_put_waiting(skb, cb, f))
		pm_table_cursor_pass(&pn->table, cursor, f);
	spin_unlock_bh(&pn->table.lock);
	return skb->len;
}

static int pm_nl_flows_done(struct netlink_callback *cb)
{
	struct pm_net *pn = pm_pernet(sock_net(cb->skb->sk));
	struct pm_order *cursor = (struct pm_order *)cb->args[0];

	if (!cursor)
		return 0;
	spin_lock_bh(&pn->table.lock);
	pm_table_cursor_end(&pn->table, cursor);
	spin_unlock_bh(&pn->table.lock);
	kfree(cursor);
	return 0;
}

/* Which attribute carries each counter. */
static const u16 pm_stat_attr[PM_STAT_VERDICTS] = {
	[PM_STAT_PACKETS] = PM_STATS_A_PACKETS,
	[PM_STAT_INTERCEPTED] = PM_STATS_A_INTERCEPTED,
	[PM_STAT_FAST_PATH] = PM_STATS_A_FAST_PATH,
	[PM_STAT_TIMEOUTS] = PM_STATS_A_TIMEOUTS,
	[PM_STAT_TABLE_FULL] = PM_STATS_A_TABLE_FULL,
	[PM_STAT_QUEUE_FULL] = PM_STATS_A_QUEUE_FULL,
	[PM_STAT_EVENT_FAILED] = PM_STATS_A_EVENT_FAILED,
	[PM_STAT_POLICY_ACCEPT] = PM_STATS_A_POLICY_ACCEPT,
	[PM_STAT_POLICY_DROP] = PM_STATS_A_POLICY_DROP,
	[PM_STAT_LISTENER_LOST] = PM_STATS_A_LISTENER_LOST,
	[PM_STAT_REMEMBERED] = PM_STATS_A_REMEMBERED,
	[PM_STAT_LISTENER_SILENT] = PM_STATS_A_LISTENER_SILENT,
	[PM_STAT_QUOTA_FULL] = PM_STATS_A_QUOTA_FULL,
	[PM_STAT_NO_MEMORY] = PM_STATS_A_NO_MEMORY,
	[PM_STAT_NOT_LOCAL] = PM_STATS_A_NOT_LOCAL,
	[PM_STAT_NO_ROUTE] = PM_STATS_A_NO_ROUTE,
};

static int pm_nl_put_stats(struct sk_buff *msg, struct pm_net *pn)
{
	struct nlattr *nest, *verdicts;
	unsigned int pending, held;
	struct pm_stats s;
	int i;

	pm_stats_sum(pn, &s);
	spin_lock_bh(&pn->table.lock);
	pending = pn->table.waiting;
	held = pn->table.packets;
	spin_unlock_bh(&pn->table.lock);

	nest = nla_nest_start(msg, PM_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < PM_STAT_VERDICTS; i++)
		if (nla_put_u64_64bit(msg, pm_stat_attr[i], s.c[i], PM_STATS_A_PAD))
			return -EMSGSIZE;
	if (nla_put_u64_64bit(msg, PM_STATS_A_PENDING, pending, PM_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, PM_STATS_A_HELD, held, PM_STATS_A_PAD))
		return -EMSGSIZE;
	/* the verdicts by mark: the attribute type is the mark itself */
	verdicts = nla_nest_start(msg, PM_STATS_A_VERDICTS);
	if (!verdicts)
		return -EMSGSIZE;
	for (i = 0; i < PM_NR_VERDICTS; i++)
		if (nla_put_u64_64bit(msg, pm_verdict_mark(i),
				      s.c[PM_STAT_VERDICTS + i], PM_STATS_A_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, verdicts);
	nla_nest_end(msg, nest);
	if (nla_put_u32(msg, PM_A_LISTENER, pm_listener_portid(pn)) ||
	    nla_put_u8(msg, PM_A_LISTENER_STATE, READ_ONCE(pn->listener_state)))
		return -EMSGSIZE;
	return 0;
}

static int pm_nl_put_config(struct sk_buff *msg, struct pm_net *pn)
{
	struct nlattr *nest = nla_nest_start(msg, PM_A_CONFIG);

	if (!nest ||
	    nla_put_u8(msg, PM_CONFIG_A_FAIL_POLICY, READ_ONCE(pn->config.fail_policy)) ||
	    nla_put_u32(msg, PM_CONFIG_A_TIMEOUT_MS, READ_ONCE(pn->config.timeout_ms)) ||
	    nla_put_u32(msg, PM_CONFIG_A_MAX_PENDING, READ_ONCE(pn->config.max_pending)) ||
	    nla_put_u32(msg, PM_CONFIG_A_MAX_HELD, READ_ONCE(pn->config.max_held)) ||
	    pm_reroute_put_config(msg, pn))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* A reply to @info carrying what @fill puts in it. */
static int pm_nl_reply(struct genl_info *info, u8 cmd,
		       int (*fill)(struct sk_buff *msg, struct pm_net *pn))
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pm_family, 0, cmd);
	if (!hdr || fill(msg, pm_nl_net(info))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int pm_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	pm_listener_heard(pm_nl_net(info), info->snd_portid);
	return pm_nl_reply(info, PM_CMD_GET_STATS, pm_nl_put_stats);
}

static int pm_nl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	pm_listener_heard(pm_nl_net(info), info->snd_portid);
	return pm_nl_reply(info, PM_CMD_GET_CONFIG, pm_nl_put_config);
}

static int pm_nl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[PM_CONFIG_A_MAX + 1];
	struct pm_net *pn = pm_nl_net(info);
	int err;

	pm_listener_heard(pn, info->snd_portid);
	if (GENL_REQ_ATTR_CHECK(info, PM_A_CONFIG))
		return -EINVAL;
	err = nla_parse_nested(tb, PM_CONFIG_A_MAX, info->attrs[PM_A_CONFIG],
			       pm_nla_config, info->extack);
	if (err)
		return err;
	/* first what can fail, so that an error changes nothing */
	err = pm_reroute_set(pn, tb[PM_CONFIG_A_REROUTE_DNS],
			     tb[PM_CONFIG_A_REROUTE_TUNNEL], info->extack);
	if (err)
		return err;
	if (tb[PM_CONFIG_A_FAIL_POLICY])
		WRITE_ONCE(pn->config.fail_policy,
			   nla_get_u8(tb[PM_CONFIG_A_FAIL_POLICY]));
	if (tb[PM_CONFIG_A_MAX_PENDING]) {
		u32 max = nla_get_u32(tb[PM_CONFIG_A_MAX_PENDING]);

		/* the hash tables follow the bound (kept if memory is short) */
		if (pn->table.bits)
			pm_table_resize(&pn->table, max);
		WRITE_ONCE(pn->config.max_pending, max);
	}
	if (tb[PM_CONFIG_A_MAX_HELD])
		WRITE_ONCE(pn->config.max_held,
			   nla_get_u32(tb[PM_CONFIG_A_MAX_HELD]));
	if (tb[PM_CONFIG_A_TIMEOUT_MS]) {
		WRITE_ONCE(pn->config.timeout_ms,
			   nla_get_u32(tb[PM_CONFIG_A_TIMEOUT_MS]));
		/* pending flows keep their deadline; look again anyway */
		spin_lock_bh(&pn->table.lock);
		pm_net_kick_expiry(pn, jiffies);
		spin_unlock_bh(&pn->table.lock);
	}
	return 0;
}

static int pm_nl_put_reset_count(struct sk_buff *msg, u32 count)
{
	return nla_put_u32(msg, PM_A_RESET_COUNT, count);
}

static int pm_nl_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	u32 count;

	pm_listener_heard(pm_nl_net(info), info->snd_portid);
	/* forgotten first, so that no flow is decided by an old verdict */
	pm_remember_flush(&pm_nl_net(info)->remember);
	count = pm_reset_marks(genl_info_net(info));

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pm_family, 0, PM_CMD_RESET);
	if (!hdr || pm_nl_put_reset_count(msg, count)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_ops pm_ops[] = {
	{
		.cmd = PM_CMD_REGISTER,
		.doit = pm_nl_register,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		.cmd = PM_CMD_UNREGISTER,
		.doit = pm_nl_unregister,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		.cmd = PM_CMD_VERDICT,
		.doit = pm_nl_verdict,
		.policy = pm_nla_verdict,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		/* flows name other users' programs and peers: admin only */
		.cmd = PM_CMD_GET_FLOWS,
		.start = pm_nl_flows_start,
		.dumpit = pm_nl_flows_dump,
		.done = pm_nl_flows_done,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		/* the listener's state and its flows' counts: admin only */
		.cmd = PM_CMD_GET_STATS,
		.doit = pm_nl_get_stats,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		.cmd = PM_CMD_GET_CONFIG,
		.doit = pm_nl_get_config,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		.cmd = PM_CMD_SET_CONFIG,
		.doit = pm_nl_set_config,
		.policy = pm_nla_set_config,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	}, {
		.cmd = PM_CMD_RESET,
		.doit = pm_nl_reset,
		.policy = pm_nla_none,
		.maxattr = PM_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family pm_family __ro_after_init = {
	.name = PORTMASTER_GENL_NAME,
	.version = PORTMASTER_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = pm_ops,
	.n_ops = ARRAY_SIZE(pm_ops),
};

/* A listener's socket closing without PM_CMD_UNREGISTER: it died. */
static int pm_nl_notify(struct notifier_block *nb, unsigned long event,
			void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		pm_listener_released(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block pm_nl_notifier = {
	.notifier_call = pm_nl_notify,
};

int pm_netlink_init(void)
{
	int err;

	err = netlink_register_notifier(&pm_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&pm_family);
	if (err)
		netlink_unregister_notifier(&pm_nl_notifier);
	return err;
}

void pm_netlink_exit(void)
{
	genl_unregister_family(&pm_family);
	netlink_unregister_notifier(&pm_nl_notifier);
}
