#!/bin/bash
# pmctl top in a real terminal (tmux): it lists the program that makes
# connections with its counts and bytes, and q quits it.  TAP on stdout.
# usage: top.sh [BINDIR]
set -u
[ $# -ge 1 ] && BIN=$1
. "$(dirname "$0")/../host/lib.sh"

reason=$(host_skip_reason)
[ -z "$reason" ] && ! command -v tmux >/dev/null && reason="tmux missing (make deps)"
if [ -n "$reason" ]; then
	tap_skip "pmctl top" "$reason"
	tap_done
	exit 0
fi
if ! setup_netns || ! start_servers || ! start_daemon; then
	tap_fail "set up namespaces, servers and the daemon"
	tap_done
	exit 1
fi
T="tmux -L pmtop-$$"
cleanup_tmux() { $T kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
curl=$(readlink -f "$(command -v curl)")
$T new-session -d -x 140 -y 30 "env PMCTL_SOCKET=$SOCK $PMCTL top; echo exited \$?; sleep 30"
sleep 0.5
for _ in 1 2 3; do inc curl -sS -m 10 -o /dev/null http://10.77.0.2/; done
# Their ends (and bytes) come when conntrack lets them go.
inc conntrack -D -p tcp --dport 80 >/dev/null 2>&1
screen=
for _ in $(seq 1 50); do
	screen=$($T capture-pane -p)
	echo "$screen" | grep -q "$curl  *[0-9]*  *3  *0 " && break
	sleep 0.2
done
if echo "$screen" | grep -q "$curl  *[0-9]*  *3  *0 "; then
	tap_pass "pmctl top lists curl with its 3 connections and none blocked"
else
	tap_fail "pmctl top lists curl with its 3 connections" "$screen"
fi
echo "$screen" | grep -q "PROGRAM *CONNS *FLOWS *BLOCKED *OUT *IN *BYTES" &&
	tap_pass "with the columns connections, flows, blocked, bytes/s out and in, bytes" ||
	tap_fail "with its columns" "$screen"
for _ in $(seq 1 50); do
	screen=$($T capture-pane -p)
	echo "$screen" | grep -q "$curl .*/s  *[1-9][0-9]*$" && break
	sleep 0.2
done
echo "$screen" | grep -q "$curl .*/s  *[1-9][0-9]*$" &&
	tap_pass "their bytes are counted when they end (conntrack accounting)" ||
	tap_fail "their bytes are counted when they end" "$screen"
# A download that lasts (more than the socket buffers hold, read slowly):
# its rate shows while it runs, not only at its end.
head -c 40000000 /dev/zero >"$WORK/www/big"
inc curl -sS -m 60 --limit-rate 2M -o /dev/null http://10.77.0.2/big &
dl=$!
# PROGRAM CONNS FLOWS BLOCKED OUT unit IN unit BYTES: the download open, in
# at 100 KiB/s or more
rate_line() {
	$T capture-pane -p | awk -v e="$curl" '$1 == e && $2 >= 1 && $3 >= 4 &&
		($8 == "MiB/s" || ($8 == "KiB/s" && $7 >= 100)) { print; found = 1 } END { exit !found }'
}
line=
for _ in $(seq 1 100); do
	line=$(rate_line) && break
	sleep 0.2
done
if [ -n "$line" ] && kill -0 "$dl" 2>/dev/null; then
	tap_pass "a running download shows its rate in, from conntrack's counters: $(echo "$line" | tr -s ' ')"
else
	tap_fail "a running download shows its rate in" "$($T capture-pane -p)"
fi
kill "$dl" 2>/dev/null
wait "$dl" 2>/dev/null
$T send-keys q
for _ in $(seq 1 50); do
	$T capture-pane -p | grep -q "^exited 0" && break
	sleep 0.1
done
tap_is "q quits pmctl top (exit 0)" "$($T capture-pane -p | grep -c '^exited 0')" "1"
tap_done
