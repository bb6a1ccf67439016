/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_LISTENER_H
#define _PM_LISTENER_H

#include <linux/list.h>
#include <linux/types.h>

struct net;
struct pm_net;

int pm_listener_register(struct pm_net *pn, u32 portid);
int pm_listener_unregister(struct pm_net *pn, u32 portid);
void pm_listener_released(struct net *net, u32 portid);
bool pm_listener_is(struct pm_net *pn, u32 portid);
u32 pm_listener_portid(struct pm_net *pn);
void pm_listener_heard(struct pm_net *pn, u32 portid);
bool pm_listener_hangs(struct pm_net *pn, const struct list_head *timed_out,
		       struct list_head *left);
void pm_listener_drop_all(struct pm_net *pn);

#endif /* _PM_LISTENER_H */
