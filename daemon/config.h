/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PM_CONFIG_H
#define PM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/limits.h>
#include "decide/rules.h"
#include "dns/dnsconf.h"

enum pm_mode { MODE_AUTO, MODE_KMOD, MODE_NFQUEUE };
enum ipt_backend { IPT_AUTO, IPT_LEGACY, IPT_NFT };
/* Unset: the module keeps its own setting; the fallback fails closed. */
enum fail_policy { FAIL_UNSET, FAIL_OPEN, FAIL_CLOSED };

#define CONFIG_MAX_NETNS 15

struct endpoint {
	bool set;
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

struct config {
	char dir[PATH_MAX];		/* --config */
	char socket_path[PATH_MAX];
	enum pm_mode mode;
	enum ipt_backend iptables;
	enum action def;		/* default action for unmatched flows */
	enum action prompt_fallback;	/* when a prompt times out */
	uint32_t prompt_timeout_s;
	uint32_t remember_s;		/* module mode: flows like a rule-decided one */
	uint32_t max_pending;
	bool reroute_dns;
	struct endpoint nameserver, nameserver6, tunnel, tunnel6;
	enum fail_policy fail_policy;
	/* Other network namespaces to watch besides our own. */
	/* "presets = system": rules.d presets on, whatever rules.conf says */
	char presets[RULESET_MAX_PRESETS][32];
	const char *preset_list[RULESET_MAX_PRESETS + 1];	/* into presets, NULL-terminated */
	int npresets;
	char netns[CONFIG_MAX_NETNS][128];
	int nnetns;
	uint32_t client_timeout_s;	/* control socket: idle clients are closed */
	uint32_t event_buffer;		/* module mode: the listener's receive buffer */
	char history_path[PATH_MAX];	/* "": no history */
	uint32_t history_days;
	uint64_t history_max_bytes;
	struct endpoint ui;		/* loopback address and port; !set: off */
	/* set in the file: kept as given, not derived from the resolver */
	bool reroute_dns_set, nameserver_set, nameserver6_set;
	struct dns_config dns;		/* the resolver (dns/) */
};

void config_defaults(struct config *c);
/* Reads DIR/portmasterd.conf when it exists; errors as "FILE:LINE: msg". */
int config_load(struct config *c, const char *path, char *err, size_t errlen);
int config_load_mem(struct config *c, const char *name, const char *text,
		    char *err, size_t errlen);
const char *mode_name(enum pm_mode m);
/* After loading: while the resolver is on, stray DNS goes to it (unless
 * reroute_dns or nameserver say otherwise). */
void config_finish(struct config *c);

#endif
