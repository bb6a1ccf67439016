// SPDX-License-Identifier: GPL-2.0
/* portmasterd.conf: KEY = VALUE lines, see portmasterd(8), CONFIGURATION. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "config.h"
#include "control/proto.h"
#include "common/util.h"

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/etc/portmaster");
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/portmaster/control.sock");
	c->mode = MODE_AUTO;
	c->iptables = IPT_AUTO;
	c->def = ACT_ALLOW;
	c->prompt_fallback = ACT_BLOCK;
	c->prompt_timeout_s = 60;
	c->remember_s = 60;
	c->max_pending = 1024;
	c->fail_policy = FAIL_UNSET;
	c->client_timeout_s = 60;
	c->event_buffer = 8u << 20;
	c->nameserver.set = true;
	c->nameserver.family = AF_INET;
	c->nameserver.addr[0] = 127;
	c->nameserver.addr[3] = 1;
	c->nameserver.port = 53;
	c->nameserver6.set = true;
	c->nameserver6.family = AF_INET6;
	c->nameserver6.addr[15] = 1;
	c->nameserver6.port = 53;
	snprintf(c->history_path, sizeof(c->history_path), "/var/lib/portmaster/history.db");
	c->history_days = 30;
	c->history_max_bytes = 1ull << 30;
	c->ui.set = true;
	c->ui.family = AF_INET;
	c->ui.addr[0] = 127;
	c->ui.addr[3] = 1;
	c->ui.port = 817;
	dns_config_defaults(&c->dns);
}

/* "512M", "1G", "4096": bytes. */
static int parse_size(const char *v, uint64_t *out)
{
	char num[32];
	size_t n = strlen(v);
	uint64_t mult = 1, x;

	if (!n || n >= sizeof(num))
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 'K': mult = 1ull << 10; break;
	case 'M': mult = 1ull << 20; break;
	case 'G': mult = 1ull << 30; break;
	default: break;
	}
	if (mult != 1)
		num[n - 1] = 0;
	if (parse_u64(num, (1ull << 50) / mult, &x) < 0)
		return -1;
	*out = x * mult;
	return 0;
}

/* The web UI listens on loopback only: anything else is refused. */
static int parse_ui(const char *v, struct endpoint *e)
{
	if (!strcmp(v, "off")) {
		memset(e, 0, sizeof(*e));
		return 0;
	}
	if (parse_hostport(v, &e->family, e->addr, &e->port) < 0 || !e->port)
		return -1;
	if (e->family == AF_INET ? e->addr[0] != 127 :
	    memcmp(e->addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16))
		return -1;
	e->set = true;
	return 0;
}

static void endpoint_from(struct endpoint *e, const struct dns_addr *a)
{
	memset(e, 0, sizeof(*e));
	e->set = true;
	e->family = a->family;
	memcpy(e->addr, a->addr, 16);
	e->port = a->port;
}

void config_finish(struct config *c)
{
	bool v4 = false, v6 = false;

	if (!c->dns.enabled)
		return;
	if (!c->reroute_dns_set)
		c->reroute_dns = true;
	for (int i = 0; i < c->dns.nlisten; i++) {
		const struct dns_addr *a = &c->dns.listen[i];

		if (a->family == AF_INET && !v4 && !c->nameserver_set)
			endpoint_from(&c->nameserver, a);
		else if (a->family == AF_INET6 && !v6 && !c->nameserver6_set)
			endpoint_from(&c->nameserver6, a);
		v4 |= a->family == AF_INET;
		v6 |= a->family == AF_INET6;
	}
}

const char *mode_name(enum pm_mode m)
{
	return m == MODE_KMOD ? "kmod" : m == MODE_NFQUEUE ? "nfqueue" : "auto";
}

static int parse_endpoint(const char *v, uint8_t want, struct endpoint *e)
{
	if (!*v || !strcmp(v, "none")) {
		memset(e, 0, sizeof(*e));
		return 0;
	}
	if (parse_hostport(v, &e->family, e->addr, &e->port) < 0 || e->family != want)
		return -1;
	e->set = true;
	return 0;
}

/* "netns = NAME [NAME...]": names of `ip netns` (/run/netns/NAME) or
 * absolute paths of namespace files. */
static int parse_netns(struct config *c, const char *v)
{
	char copy[1024], *save = NULL, *tok;

	c->nnetns = 0;
	if (xsnprintf(copy, sizeof(copy), "%s", v) < 0)
		return -1;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *dst;

		if (c->nnetns >= CONFIG_MAX_NETNS || strlen(tok) >= sizeof(c->netns[0]))
			return -1;
		if (tok[0] != '/' && (strchr(tok, '/') || !strcmp(tok, ".") || !strcmp(tok, "..")))
			return -1;
		dst = c->netns[c->nnetns++];
		snprintf(dst, sizeof(c->netns[0]), "%s", tok);
	}
	return 0;
}

/* "presets = NAME [NAME...]": presets of rules.d that are on. */
static int parse_presets(struct config *c, const char *v)
{
	char copy[1024], *save = NULL, *tok;

	c->npresets = 0;
	if (xsnprintf(copy, sizeof(copy), "%s", v) < 0)
		return -1;
	for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (c->npresets >= RULESET_MAX_PRESETS || strlen(tok) >= sizeof(c->presets[0]))
			return -1;
		for (const char *p = tok; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
				return -1;
		snprintf(c->presets[c->npresets], sizeof(c->presets[0]), "%s", tok);
		c->preset_list[c->npresets] = c->presets[c->npresets];
		c->npresets++;
	}
	c->preset_list[c->npresets] = NULL;
	return 0;
}

static int set_key(struct config *c, const char *k, const char *v, char *msg, size_t len)
{
	int r = dns_config_key(&c->dns, k, v, msg, len);

	if (r)
		return r < 0 ? -1 : 0;
	if (!strcmp(k, "mode")) {
		if (!strcmp(v, "auto"))
			c->mode = MODE_AUTO;
		else if (!strcmp(v, "kmod"))
			c->mode = MODE_KMOD;
		else if (!strcmp(v, "nfqueue"))
			c->mode = MODE_NFQUEUE;
		else
			goto bad;
	} else if (!strcmp(k, "iptables")) {
		if (!strcmp(v, "auto"))
			c->iptables = IPT_AUTO;
		else if (!strcmp(v, "legacy"))
			c->iptables = IPT_LEGACY;
		else if (!strcmp(v, "nft"))
			c->iptables = IPT_NFT;
		else
			goto bad;
	} else if (!strcmp(k, "default")) {
		if (action_parse(v, &c->def) < 0)
			goto bad;
	} else if (!strcmp(k, "prompt_fallback")) {
		if (action_parse(v, &c->prompt_fallback) < 0 || c->prompt_fallback == ACT_ASK ||
		    c->prompt_fallback == ACT_TUNNEL)
			goto bad;
	} else if (!strcmp(k, "prompt_timeout")) {
		uint64_t s;

		if (parse_duration(v, &s) < 0 || s > 86400)
			goto bad;
		c->prompt_timeout_s = (uint32_t)s;
	} else if (!strcmp(k, "remember")) {
		uint64_t s = 0;

		/* 0: the module asks about every flow */
		if ((strcmp(v, "0") && parse_duration(v, &s) < 0) || s > 86400)
			goto bad;
		c->remember_s = (uint32_t)s;
	} else if (!strcmp(k, "max_pending")) {
		if (parse_u32(v, 65536, &c->max_pending) < 0 || !c->max_pending)
			goto bad;
	} else if (!strcmp(k, "reroute_dns")) {
		if (!strcmp(v, "yes"))
			c->reroute_dns = true;
		else if (!strcmp(v, "no"))
			c->reroute_dns = false;
		else
			goto bad;
		c->reroute_dns_set = true;
	} else if (!strcmp(k, "nameserver")) {
		if (parse_endpoint(v, AF_INET, &c->nameserver) < 0)
			goto bad;
		c->nameserver_set = true;
	} else if (!strcmp(k, "nameserver6")) {
		if (parse_endpoint(v, AF_INET6, &c->nameserver6) < 0)
			goto bad;
		c->nameserver6_set = true;
	} else if (!strcmp(k, "tunnel")) {
		if (parse_endpoint(v, AF_INET, &c->tunnel) < 0)
			goto bad;
	} else if (!strcmp(k, "tunnel6")) {
		if (parse_endpoint(v, AF_INET6, &c->tunnel6) < 0)
			goto bad;
	} else if (!strcmp(k, "fail_policy")) {
		if (!strcmp(v, "open"))
			c->fail_policy = FAIL_OPEN;
		else if (!strcmp(v, "closed"))
			c->fail_policy = FAIL_CLOSED;
		else
			goto bad;
	} else if (!strcmp(k, "presets")) {
		if (parse_presets(c, v) < 0)
			goto bad;
	} else if (!strcmp(k, "netns")) {
		if (parse_netns(c, v) < 0)
			goto bad;
	} else if (!strcmp(k, "client_timeout")) {
		uint64_t s = 0;

		/* 0: never */
		if ((strcmp(v, "0") && parse_duration(v, &s) < 0) || s > 86400)
			goto bad;
		c->client_timeout_s = (uint32_t)s;
	} else if (!strcmp(k, "event_buffer")) {
		if (parse_u32(v, 1u << 30, &c->event_buffer) < 0 || c->event_buffer < 4096)
			goto bad;
	} else if (!strcmp(k, "history")) {
		if (!strcmp(v, "off"))
			c->history_path[0] = 0;
		else if (v[0] != '/' || xsnprintf(c->history_path, sizeof(c->history_path), "%s", v) < 0)
			goto bad;
	} else if (!strcmp(k, "history_days")) {
		if (parse_u32(v, 3650, &c->history_days) < 0 || !c->history_days)
			goto bad;
	} else if (!strcmp(k, "history_max_size")) {
		if (parse_size(v, &c->history_max_bytes) < 0)
			goto bad;
	} else if (!strcmp(k, "ui")) {
		if (parse_ui(v, &c->ui) < 0) {
			snprintf(msg, len, "bad value '%s' for 'ui': a loopback ADDR:PORT "
				 "(127.0.0.1:817, [::1]:817) or off", v);
			return -1;
		}
	} else if (!strcmp(k, "socket")) {
		if (v[0] != '/' || xsnprintf(c->socket_path, sizeof(c->socket_path), "%s", v) < 0 ||
		    strlen(v) >= 108)
			goto bad;
	} else {
		snprintf(msg, len, "unknown key '%s'", k);
		return -1;
	}
	return 0;
bad:
	snprintf(msg, len, "bad value '%s' for '%s'", v, k);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int config_load_mem(struct config *c, const char *name, const char *text,
		    char *err, size_t errlen)
{
	unsigned int lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024], msg[512], *k, *v, *eq;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long", name, lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected KEY = VALUE", name, lineno);
			return -1;
		}
		*eq = 0;
		k = trim(k);
		v = eq + 1;
		/* "KEY = VALUE  # why": a comment after the value */
		for (char *h = strchr(v, '#'); h; h = strchr(h + 1, '#')) {
			if (h == v || h[-1] == ' ' || h[-1] == '\t') {
				*h = 0;
				break;
			}
		}
		v = trim(v);
		if (set_key(c, k, v, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct buf b;
	char chunk[4096];
	size_t n;
	int r;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
		buf_add(&b, chunk, n);
	if (ferror(f) || b.oom) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	if (b.p && strlen(b.p) != b.len) {
		snprintf(err, errlen, "%s: NUL byte in file", path);
		buf_free(&b);
		return -1;
	}
	r = config_load_mem(c, path, b.p ? b.p : "", err, errlen);
	buf_free(&b);
	return r;
}
