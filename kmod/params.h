/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PM_PARAMS_H
#define _PM_PARAMS_H

#include "netns.h"

/* Module parameters: the settings a new namespace starts with. */
extern struct pm_config pm_default_config;
extern unsigned int pm_max_held_bytes;
extern unsigned int pm_max_remembered;

#endif /* _PM_PARAMS_H */
