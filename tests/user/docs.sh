#!/bin/bash
# The man pages render without warnings and document what the code has.
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/tests/lib/tap.sh"
for p in portmasterd pmctl; do
	if ! command -v man >/dev/null; then
		tap_skip "$p(8) renders without warnings" "man is not installed"
		continue
	fi
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$here/man/$p.8" 2>&1 >/dev/null)
	tap_is "$p(8) renders without warnings" "$w" ""
done
missing=
for c in status list pending verdict "rule add" "rule list" "rule del" "rule move" default history \
	monitor top ui notify preset apps; do
	grep -qE "^\.BI? (.*[ \"])?\"?${c%% *}( |\$)" "$here/man/pmctl.8" || missing="$missing $c"
	grep -q "\"${c%% *}\"" "$here/daemon/pmctl/pmctl.c" || missing="$missing (code:$c)"
done
tap_is "every pmctl command is in the code's table and in pmctl(8)" "$missing" ""
missing=
for k in mode iptables default prompt_timeout prompt_fallback remember max_pending nameserver \
	reroute_dns tunnel socket history history_days history_max_size ui resolver upstream \
	resolv_conf tls_ca prevent_bypass doh_list blocklist blocked_answer dns_cache_entries \
	dns_max_queries fail_policy netns client_timeout event_buffer presets; do
	grep -q "\"$k\"" "$here/daemon/config.c" "$here/daemon/dns/dnsconf.c" &&
		grep -q "^\.B.*$k" "$here/man/portmasterd.8" &&
		grep -q "$k" "$here/config/portmasterd.conf" || missing="$missing $k"
done
tap_is "every configuration key is parsed, documented and in the default file" "$missing" ""
tap_is "the systemd unit waits for READY (Type=notify), which the daemon sends" \
	"$(grep -c '^Type=notify$' "$here/packaging/portmasterd.service.in") $(grep -c 'READY=1' "$here/daemon/main.c")" "1 2"
tap_done
