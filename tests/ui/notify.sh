#!/bin/bash
# pmctl notify under Xvfb with a real notification daemon (dunst) on a
# private session bus: a prompt shows as a notification, its default
# action (a click: Allow once) lets the waiting curl finish, its other
# actions (Allow always, Block, from dunst's context menu) do what they
# say, a prompt answered elsewhere closes its notification, and a user
# outside group portmaster is told and let go.  TAP on stdout.
# usage: notify.sh [BINDIR]
set -u
[ $# -ge 1 ] && BIN=$1
. "$(dirname "$0")/../host/lib.sh"

reason=$(host_skip_reason)
for t in Xvfb dunst dunstctl dbus-run-session; do
	[ -z "$reason" ] && ! command -v $t >/dev/null && reason="$t missing (make deps)"
done
[ -z "$reason" ] && [ ! -x "$BIN/portmaster-notify" ] && reason="no $BIN/portmaster-notify (make daemon)"
if [ -n "$reason" ]; then
	tap_skip "pmctl notify" "$reason"
	tap_done
	exit 0
fi
if ! setup_netns || ! start_servers || ! start_daemon; then
	tap_fail "set up namespaces, servers and the daemon"
	tap_done
	exit 1
fi
"$PMCTL" default ask >/dev/null

out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/portmaster-notify" --socket "$SOCK" 2>&1); rc=$?
case "$rc $out" in
"0 "*"members of group portmaster"*) tap_pass "outside group portmaster: told so, and it ends (exit 0)" ;;
*) tap_fail "outside group portmaster: told so, and it ends" "exit $rc: $out" ;;
esac

disp=$((100 + $$ % 400))
Xvfb ":$disp" -screen 0 1024x768x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "/tmp/.X11-unix/X$disp" ] && break; sleep 0.1; done
export DISPLAY=":$disp" C S WORK PMCTL SOCK HERE BIN PMD CONF DAEMON_PID

# Everything that talks to the session bus runs inside it.
dbus-run-session -- bash -s <<'SESSION'
. "$HERE/../lib/tap.sh"
TAP_N=1
# dunst offers a notification's other actions through its dmenu, fed
# "#Label (summary) [id,action]" lines: this one picks the action named
# in $WORK/pick, as a person would pick from the menu.
printf '#!/bin/sh\ngrep -m1 ",$(cat %s)]$"\n' "$WORK/pick" >"$WORK/pick-action"
chmod +x "$WORK/pick-action"
printf '[global]\n    dmenu = %s\n' "$WORK/pick-action" >"$WORK/dunstrc"
dunst -config "$WORK/dunstrc" >"$WORK/dunst.log" 2>&1 &
dunst_pid=$!
# (asking dunstctl before it owns the name would start another by D-Bus activation)
for _ in $(seq 1 100); do
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null |
		grep -q true && break
	sleep 0.1
done
PMCTL_SOCKET=$SOCK "$PMCTL" notify >"$WORK/notify.out" 2>&1 &
agent=$!
for _ in $(seq 1 100); do grep -q "showing the prompts" "$WORK/notify.out" && break; sleep 0.1; done

shown() { dunstctl count displayed 2>/dev/null; }
wait_shown() { # N
	for _ in $(seq 1 100); do [ "$(shown)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}

ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8080/ >"$WORK/curl1.out" 2>&1 &
c1=$!
if wait_shown 1; then
	tap_pass "a prompt shows as a desktop notification (dunst displays 1)"
else
	tap_fail "a prompt shows as a desktop notification" "displayed: $(shown)" "$(cat "$WORK/notify.out")"
fi
grep -q "prompt .*curl.*10.77.0.2 8080\|prompt .*curl.*10.77.0.2:8080" "$WORK/notify.out" &&
	tap_pass "it names the program and the destination" ||
	tap_fail "it names the program and the destination" "$(cat "$WORK/notify.out")"
if command -v import >/dev/null && [ -n "${RESULTS:-}" ]; then
	import -window root -display "$DISPLAY" "$RESULTS/ui-notify.png" 2>/dev/null
fi
dunstctl action 0
wait "$c1"
tap_is "its default action (Allow once) lets the waiting curl finish" "$(cat "$WORK/curl1.out")" "ok"
tap_is "and the notification is gone" "$(shown)" "0"

# Answered elsewhere: the notification closes.
ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8082/ >/dev/null 2>&1 &
c2=$!
wait_shown 1
id=$(PMCTL_SOCKET=$SOCK "$PMCTL" -t pending | awk -F'\t' '$7 == 8082 { print $1 }')
PMCTL_SOCKET=$SOCK "$PMCTL" verdict "$id" block >/dev/null
wait "$c2"
if wait_shown 0; then
	tap_pass "a prompt answered with pmctl closes its notification"
else
	tap_fail "a prompt answered with pmctl closes its notification" "displayed: $(shown)"
fi
# The daemon restarts: the agent waits for it and goes on.
kill -TERM "$DAEMON_PID"
while kill -0 "$DAEMON_PID" 2>/dev/null; do sleep 0.1; done
ip netns exec "$C" "$PMD" --foreground --config "$CONF" --socket "$SOCK" --history "$WORK/history.db" \
	--ui off >>"$WORK/pmd.log" 2>&1 &
for _ in $(seq 1 100); do grep -q "connected to portmasterd again" "$WORK/notify.out" && break; sleep 0.1; done
ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8081/ >"$WORK/curl3.out" 2>&1 &
c3=$!
if wait_shown 1; then
	dunstctl action 0
	wait "$c3"
	tap_is "after a daemon restart the agent shows its prompts again, and answers them" \
		"$(cat "$WORK/curl3.out")" "ok"
else
	kill "$c3" 2>/dev/null
	tap_fail "after a daemon restart the agent shows its prompts again" "$(tail -3 "$WORK/notify.out")"
fi

# Block, from the context menu: the waiting connection is refused (curl
# exit 7), and the flow is recorded as blocked.
curl=$(readlink -f "$(command -v curl)")
echo block >"$WORK/pick"
ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8090/ >"$WORK/curl4.out" 2>&1 &
c4=$!
if wait_shown 1; then
	dunstctl context
	wait "$c4"
	tap_is "Block (context menu): the waiting curl is refused (exit 7)" "$?" "7"
	verdict=
	for _ in $(seq 1 100); do
		verdict=$(PMCTL_SOCKET=$SOCK "$PMCTL" -j history --exe "$curl" | python3 -c '
import json, sys
print(" ".join(r["verdict"] for r in json.load(sys.stdin) if r["kind"] == "flow" and r["port"] == 8090))')
		[ -n "$verdict" ] && break
		sleep 0.1
	done
	tap_is "and the history records its flow as blocked" "$verdict" "block"
	wait_shown 0 && tap_pass "and the notification is gone" ||
		tap_fail "and the notification is gone" "displayed: $(shown)"
else
	kill "$c4" 2>/dev/null
	tap_fail "a prompt to answer with Block shows" "$(tail -3 "$WORK/notify.out")"
fi

# Allow always: the connection goes on and a rule (the program, direction
# and destination) is in the daemon, so that the next connection there,
# to another port, is not asked about.
echo allow-always >"$WORK/pick"
ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8080/ >"$WORK/curl5.out" 2>&1 &
c5=$!
if wait_shown 1; then
	dunstctl context
	wait "$c5"
	tap_is "Allow always (context menu): the waiting curl finishes" "$(cat "$WORK/curl5.out")" "ok"
	rules=$(PMCTL_SOCKET=$SOCK "$PMCTL" -j rule list)
	n=$(python3 -c '
import json, sys
print(sum(1 for r in json.loads(sys.argv[1]) if r["action"] == "allow" and r.get("exe") == sys.argv[2]
          and r.get("dst") == "10.77.0.2" and r.get("dir") == "out" and r["scope"] == "always"))' "$rules" "$curl")
	tap_is "and the daemon lists a rule: allow curl out to 10.77.0.2, always" "$n" "1"
	out=$(ip netns exec "$C" curl -sS -m 30 --http0.9 http://10.77.0.2:8081/ 2>&1)
	tap_is "a second connection there (another port) is not asked about, and works" \
		"$out $(shown) $(PMCTL_SOCKET=$SOCK "$PMCTL" -t pending | wc -l)" "ok 0 0"
else
	kill "$c5" 2>/dev/null
	tap_fail "a prompt to answer with Allow always shows" "$(tail -3 "$WORK/notify.out")"
fi
grep -q "answered [0-9]*: block$" "$WORK/notify.out" && grep -q "answered [0-9]*: allow-always$" "$WORK/notify.out" &&
	tap_pass "the agent says what it answered, and nothing was refused" ||
	tap_fail "the agent says what it answered" "$(cat "$WORK/notify.out")"
kill "$agent" "$dunst_pid" 2>/dev/null
wait "$agent" 2>/dev/null
tap_is "pmctl notify ends cleanly on SIGTERM" "$?" "0"
echo "N=$TAP_N F=$TAP_FAILED" >"$WORK/session.tap"
SESSION
# The session's results continue the numbering.
N=$TAP_N F=1
. "$WORK/session.tap" 2>/dev/null
TAP_N=$N
TAP_FAILED=$((TAP_FAILED + F))
tap_done
