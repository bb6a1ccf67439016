/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_POLICY_H
#define _PM_POLICY_H

#include <net/netlink.h>
#include <linux/portmaster.h>

/* What each command accepts; anything else is refused (strict). */
extern const struct nla_policy pm_nla_none[PM_A_MAX + 1];
extern const struct nla_policy pm_nla_verdict[PM_A_MAX + 1];
extern const struct nla_policy pm_nla_set_config[PM_A_MAX + 1];
extern const struct nla_policy pm_nla_config[PM_CONFIG_A_MAX + 1];
extern const struct nla_policy pm_nla_reroute[PM_REROUTE_A_MAX + 1];

int pm_policy_check_mark(u32 mark, struct netlink_ext_ack *extack);

#endif /* _PM_POLICY_H */
