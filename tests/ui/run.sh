#!/bin/bash
# The web UI as a person uses it, in Debian's headless Chromium driven by
# playwright-core (npm, into tests/ui/node_modules; no browser download):
# the fallback in network namespaces as in tests/host, portmasterd with
# its UI on 127.0.0.1:817 inside the client namespace, and the browser
# there too.  ui.mjs prints TAP; screenshots go to build/results/ui-*.png.
# usage: run.sh [BINDIR]
set -u
[ $# -ge 1 ] && BIN=$1
. "$(dirname "$0")/../host/lib.sh"
UI_DIR=$TOP/tests/ui
export RESULTS=${PM_RESULTS:-$TOP/build/results}
mkdir -p "$RESULTS"

reason=$(host_skip_reason)
[ -z "$reason" ] && ! command -v chromium >/dev/null && reason="chromium missing (make deps)"
[ -z "$reason" ] && ! command -v node >/dev/null && reason="node missing (make deps)"
[ -z "$reason" ] && [ ! -x "$BIN/portmaster-ui" ] && reason="no $BIN/portmaster-ui (make daemon)"
if [ -z "$reason" ] && [ ! -d "$UI_DIR/node_modules/playwright-core" ]; then
	# The lock file pins it; the browser is Debian's, never downloaded.
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$UI_DIR" --no-audit --no-fund \
		>"$WORK/npm.log" 2>&1 || reason="npm ci in tests/ui failed: $(tail -n 1 "$WORK/npm.log")"
fi
if [ -n "$reason" ]; then
	tap_skip "web UI in Chromium" "$reason"
	tap_done
	exit 0
fi
if ! setup_netns || ! start_servers; then
	tap_fail "set up namespaces, veth and servers"
	tap_done
	exit 1
fi
# The UI's process runs as nobody: it must reach its own binary.
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$BIN/portmaster-ui"; then
	mkdir -p "$WORK/bin" && cp "$BIN"/portmasterd "$BIN"/portmaster-ui "$BIN"/pmctl "$WORK/bin/" &&
		BIN=$WORK/bin PMD=$WORK/bin/portmasterd PMCTL=$WORK/bin/pmctl
fi

# Names for the domain tests: dnsmasq in the server namespace is
# portmasterd's upstream, and the client's programs ask portmasterd.
DNS=
if command -v dnsmasq >/dev/null; then
	ip netns exec "$S" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=10.77.0.2 --pid-file= --user=root --address=/ui.test/10.77.0.2 \
		>/dev/null 2>&1 &
	PIDS+=($!)
	if wait_port "$S" udp 53; then
		mkdir -p "$CONF" "/etc/netns/$C"
		echo "upstream = 10.77.0.2" >"$CONF/portmasterd.conf"
		echo "nameserver 127.0.0.17" >"/etc/netns/$C/resolv.conf"
		DNS=1
	fi
fi

# The browser lives in the daemon's namespace: 127.0.0.1 there is the UI.
PMD=$PMD PMCTL=$PMCTL WORK=$WORK CONF=$CONF SOCK=$SOCK DNS=$DNS \
	ip netns exec "$C" node "$UI_DIR/ui.mjs" "$@"
rc=$?
rm -rf "/etc/netns/$C"
ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
exit $rc
