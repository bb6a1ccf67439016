// SPDX-License-Identifier: GPL-2.0
/*
 * A flow as netlink attributes: what FLOW_NEW, the batched reports and
 * the GET_FLOWS dump say about it (include/uapi/linux/portmaster.h), and
 * the most room that can take.  On its own, so that KUnit can hold the
 * writer to its bound.
 */
#include <linux/portmaster.h>
#include <net/netlink.h>

#include "flow_attrs.h"
#include "pending.h"

/*
 * The most a flow's attributes take, every optional one counted.  It is
 * the only room check pm_flow_attrs_put() makes: an attribute written there
 * and not counted here would run past the skb (skb_over_panic()), not
 * fail with -EMSGSIZE.
 */
size_t pm_flow_attrs_size(const char *exe)
{
	size_t size = nla_total_size_64bit(sizeof(u64)) +	/* FLOW_ID */
		      nla_total_size(sizeof(u32)) * 2 +		/* CT_ID, IFINDEX */
		      nla_total_size(sizeof(u8)) * 5 +		/* DIR ... ICMP */
		      nla_total_size(sizeof(struct in6_addr)) * 2 +
		      nla_total_size(sizeof(u16)) * 2 +		/* ports */
		      nla_total_size(0) +			/* OWNER */
		      nla_total_size(sizeof(u32)) * 5 +
		      nla_total_size_64bit(sizeof(u64)) * 2 +	/* INODE, CGROUP */
		      nla_total_size(TASK_COMM_LEN) +
		      nla_total_size(sizeof(u32)) * 3;		/* AGE, HELD, MARK */

	if (exe)
		size += nla_total_size(strlen(exe) + 1);
	return size;
}

/*
 * A flow's attributes go in after one check that the largest flow fits
 * (pm_flow_attrs_size()): one message goes out for every new flow,
 * remembered ones included, and the nla_put() family would check the
 * room again for each of its attributes.  __nla_put() is nla_put()
 * without that check.
 */
static void pm_nl_fill_u8(struct sk_buff *skb, int type, u8 value)
{
	__nla_put(skb, type, sizeof(value), &value);
}

static void pm_nl_fill_u16(struct sk_buff *skb, int type, u16 value)
{
	__nla_put(skb, type, sizeof(value), &value);
}

static void pm_nl_fill_u32(struct sk_buff *skb, int type, u32 value)
{
	__nla_put(skb, type, sizeof(value), &value);
}

static void pm_nl_fill_u64(struct sk_buff *skb, int type, u64 value,
			   int padattr)
{
	__nla_put_64bit(skb, type, sizeof(value), &value, padattr);
}

static void pm_nl_fill_string(struct sk_buff *skb, int type, const char *s)
{
	__nla_put(skb, type, strlen(s) + 1, s);
}

static void pm_nl_fill_owner(struct sk_buff *skb, const struct pm_owner *o,
			     const char *exe)
{
	struct nlattr *nest;

	if (!o->flags)
		return;
	nest = (struct nlattr *)skb_tail_pointer(skb);
	__nla_put(skb, PM_A_OWNER | NLA_F_NESTED, 0, NULL);
	if (o->flags & PM_OWNER_SOCKET) {
		pm_nl_fill_u32(skb, PM_OWNER_A_UID, o->uid);
		pm_nl_fill_u32(skb, PM_OWNER_A_GID, o->gid);
		pm_nl_fill_u64(skb, PM_OWNER_A_INODE, o->inode,
			       PM_OWNER_A_PAD);
	}
	if (o->flags & PM_OWNER_CGROUP)
		pm_nl_fill_u64(skb, PM_OWNER_A_CGROUP_ID, o->cgroup_id,
			       PM_OWNER_A_PAD);
	if (o->flags & PM_OWNER_TASK) {
		pm_nl_fill_u32(skb, PM_OWNER_A_PID, o->pid);
		pm_nl_fill_u32(skb, PM_OWNER_A_TGID, o->tgid);
		pm_nl_fill_u32(skb, PM_OWNER_A_PPID, o->ppid);
		pm_nl_fill_string(skb, PM_OWNER_A_COMM, o->comm);
		if (exe)
			pm_nl_fill_string(skb, PM_OWNER_A_EXE, exe);
	}
	nla_nest_end(skb, nest);
}

/*
 * The attributes of a flow, shared by FLOW_NEW and the GET_FLOWS dump.
 * A flow the kernel decided itself has its mark and no id.
 */
int pm_flow_attrs_put(struct sk_buff *skb, const struct pm_flow *f,
		      const char *exe, u32 mark, u64 **id_slot)
{
	const struct pm_flow_info *i = &f->info;
	int alen = i->family == AF_INET ? sizeof(struct in_addr) :
					  sizeof(struct in6_addr);
	struct nlattr *id;

	if ((size_t)skb_tailroom(skb) < pm_flow_attrs_size(exe))
		return -EMSGSIZE;
	if (mark) {
		pm_nl_fill_u32(skb, PM_A_MARK, mark);
	} else {
		id = __nla_reserve_64bit(skb, PM_A_FLOW_ID, sizeof(u64),
					 PM_A_PAD);
		memcpy(nla_data(id), &f->id, sizeof(u64));
		if (id_slot)
			*id_slot = nla_data(id);
	}
	pm_nl_fill_u32(skb, PM_A_CT_ID, i->ct_id);
	pm_nl_fill_u8(skb, PM_A_DIRECTION, i->direction);
	pm_nl_fill_u8(skb, PM_A_FAMILY, i->family);
	pm_nl_fill_u8(skb, PM_A_PROTOCOL, i->protocol);
	__nla_put(skb, PM_A_SRC_ADDR, alen, &i->saddr);
	__nla_put(skb, PM_A_DST_ADDR, alen, &i->daddr);
	pm_nl_fill_u32(skb, PM_A_IFINDEX, i->ifindex);
	if (i->flags & PM_FLOW_PORTS) {
		pm_nl_fill_u16(skb, PM_A_SRC_PORT, i->sport);
		pm_nl_fill_u16(skb, PM_A_DST_PORT, i->dport);
	}
	if (i->flags & PM_FLOW_ICMP) {
		pm_nl_fill_u8(skb, PM_A_ICMP_TYPE, i->icmp_type);
		pm_nl_fill_u8(skb, PM_A_ICMP_CODE, i->icmp_code);
	}
	pm_nl_fill_owner(skb, &f->owner, exe);
	return 0;
}
