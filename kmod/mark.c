// SPDX-License-Identifier: GPL-2.0
/*
 * The 17xx mark scheme of Portmaster's iptables integration, as verdicts.
 * 1700-1702 decide the packets at hand only; 1710-1712, 1717 and 1799 are
 * kept on the connection.
 */
#include "mark.h"

static const struct pm_verdict pm_verdicts[PM_NR_VERDICTS] = {
	{ PM_MARK_ACCEPT, PM_ACTION_ACCEPT, false, false },
	{ PM_MARK_BLOCK, PM_ACTION_REJECT, false, false },
	{ PM_MARK_DROP, PM_ACTION_DROP, false, false },
	{ PM_MARK_ACCEPT_ALWAYS, PM_ACTION_ACCEPT, true, false },
	{ PM_MARK_BLOCK_ALWAYS, PM_ACTION_REJECT, true, false },
	{ PM_MARK_DROP_ALWAYS, PM_ACTION_DROP, true, false },
	{ PM_MARK_REROUTE_TUNNEL, PM_ACTION_ACCEPT, true, true },
	{ PM_MARK_REROUTE_DNS, PM_ACTION_ACCEPT, true, true },
};

int pm_verdict_index(u32 mark)
{
	int i;

	for (i = 0; i < PM_NR_VERDICTS; i++)
		if (pm_verdicts[i].mark == mark)
			return i;
	return -1;
}

u32 pm_verdict_mark(int index)
{
	if (index < 0 || index >= PM_NR_VERDICTS)
		return PM_MARK_UNDECIDED;
	return pm_verdicts[index].mark;
}

bool pm_verdict_from_mark(u32 mark, struct pm_verdict *v)
{
	int i = pm_verdict_index(mark);

	if (i < 0)
		return false;
	*v = pm_verdicts[i];
	return true;
}

bool pm_mark_is_permanent(u32 mark)
{
	switch (mark) {
	case PM_MARK_ACCEPT_ALWAYS:
	case PM_MARK_BLOCK_ALWAYS:
	case PM_MARK_DROP_ALWAYS:
	case PM_MARK_REROUTE_TUNNEL:
	case PM_MARK_REROUTE_DNS:
		return true;
	default:
		return false;
	}
}

void pm_verdict_from_policy(u8 policy, struct pm_verdict *v)
{
	v->mark = PM_MARK_UNDECIDED;
	v->action = policy == PM_FAIL_CLOSED ? PM_ACTION_DROP : PM_ACTION_ACCEPT;
	v->permanent = false;
	v->mark_packet = false;
}
